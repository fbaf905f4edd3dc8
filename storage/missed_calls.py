"""Missed calls from the CDR: an inbound call nobody took is stored as a call conversation with its
disposition, linked to the caller's customer, even when the PBX left no recording of it, so that
the response targets (``storage.response_targets``) can see whether it was called back in time.

A missed call that left a recording (a header-only file FreePBX writes) is stored by the recording's
ingest with the same disposition; its CDR row then changes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from recorder.threads import IdentityRef
from recorder.types import MissedCall
from storage.customers import link_thread_customer, normalize_identities
from storage.db import Database, session_scope
from storage.models import Thread
from storage.outside_text import clean, storable_key

__all__ = ["CDR_PROVIDER", "StoredMissedCall", "store_missed_call"]

CDR_PROVIDER = "asterisk-cdr"  # threads known only from a CDR row; recorded calls are "earshot"


@dataclass(frozen=True)
class StoredMissedCall:
    thread_id: int
    created: bool  # False: stored before, by this import or a recording's
    warnings: tuple[str, ...] = ()


def store_missed_call(db: Database, call: MissedCall, default_region: str) -> StoredMissedCall:
    """Store ``call`` once; importing the same CDR again changes nothing."""
    provider_id = storable_key(Thread.provider_id, call.provider_id, "call id")
    source = f"CDR call {provider_id}"
    identities, warnings = normalize_identities([IdentityRef("phone", call.caller)], default_region, source)
    with session_scope(db) as session:
        existing = session.scalar(
            select(Thread.id).where(
                Thread.channel == "call",
                Thread.provider.in_(("earshot", CDR_PROVIDER)),
                Thread.provider_id == provider_id,
            )
        )
        if existing is not None:
            return StoredMissedCall(existing, created=False)
        thread = Thread(
            channel="call",
            provider=CDR_PROVIDER,
            provider_id=provider_id,
            direction="inbound",
            started_at=call.started_at,
            disposition=call.disposition,
        )
        session.add(thread)
        session.flush()
        name = clean(call.customer_name)[:200] if call.customer_name else None
        warnings += link_thread_customer(session, thread, identities, name, source)
        return StoredMissedCall(thread.id, created=True, warnings=tuple(warnings))
