"""Erasing one customer (GDPR art. 17): what it covers, decided here; the deleting is ``storage.deletion``'s.

An erasure covers the customer, every conversation of theirs on every channel (calls with their
audio, transcripts and derived copies; chats and e-mails with their messages), their identities,
and the customers merged into them (a standing merge keeps the merged customer's empty row and its
undo record, which holds that customer's name). It refuses when a legal hold covers any of it, and
an unusually large erasure unless forced: a customer with hundreds of conversations is more likely
a shared number or a wrong merge than one person.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.access import Permission, Principal, require_unless_command_line
from storage.blobs import BlobStore
from storage.db import Database, read_scope
from storage.deletion import DeletionPlan, DeletionReport, delete
from storage.errors import InvalidValue, NotFound
from storage.models import Customer, CustomerMerge, Thread

__all__ = ["LARGE_ERASURE", "TooLargeErasure", "erase_customer"]

LARGE_ERASURE = 200  # conversations; more than this needs ``force``


class TooLargeErasure(InvalidValue):
    """More conversations than ``LARGE_ERASURE``; nothing was deleted."""


def erase_customer(
    db: Database,
    blobs: BlobStore,
    who: Principal | None,
    customer_id: int,
    *,
    dry_run: bool,
    force: bool = False,
) -> DeletionReport:
    """Erase a customer and everything of theirs, or with ``dry_run`` count what that would delete.
    ``who`` None: the command line. Audited with counts and the customer's id, never their name."""
    require_unless_command_line(who, Permission.MANAGE_COMPLIANCE)
    plan = _plan(db, customer_id)
    if not dry_run and not force and len(plan.thread_ids) > LARGE_ERASURE:
        raise TooLargeErasure(
            f"customer {customer_id} has {len(plan.thread_ids)} conversations, more than {LARGE_ERASURE}: "
            "check that this is one person (not a shared number or a wrong merge) and erase with force"
        )
    return delete(
        db,
        blobs,
        plan,
        who=who,
        purpose="erasure",
        target=f"customer:{customer_id}",
        dry_run=dry_run,
        skip_held=False,
    )


def _plan(db: Database, customer_id: int) -> DeletionPlan:
    with read_scope(db) as session:
        if session.get(Customer, customer_id) is None:
            raise NotFound(f"no customer with id {customer_id}")
        survivor = session.scalar(
            select(CustomerMerge.survivor_id).where(
                CustomerMerge.merged_id == customer_id, CustomerMerge.undone_at.is_(None)
            )
        )
        if survivor is not None:
            raise InvalidValue(
                f"customer {customer_id} was merged into customer {survivor}: erase {survivor}, "
                "or undo the merge first"
            )
        merged = set(
            session.scalars(
                select(CustomerMerge.merged_id).where(
                    CustomerMerge.survivor_id == customer_id, CustomerMerge.undone_at.is_(None)
                )
            )
        )
        customers = frozenset({customer_id, *merged})
        threads = frozenset(session.scalars(select(Thread.id).where(Thread.customer_id.in_(customers))))
    return DeletionPlan(thread_ids=threads, customer_ids=customers)
