"""What the recorder hands to storage: one call recording with its metadata."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from transcribe.types import AudioInfo, Role

Direction = Literal["inbound", "outbound", "internal"]


@dataclass(frozen=True)
class CallMetadata:
    """Facts about a call that do not come from the audio itself (sidecar JSON or PBX CDR)."""

    caller: str | None = None
    callee: str | None = None
    direction: Direction | None = None
    started_at: datetime | None = None  # timezone-aware, UTC
    agent: str | None = None  # agent name or extension, as the PBX knows them
    customer_phone: str | None = None
    customer_email: str | None = None
    customer_number: str | None = None
    customer_name: str | None = None
    channel_roles: tuple[Role, ...] | None = None  # None: use the configured default map
    provider_id: str | None = None  # PBX unique id (Asterisk uniqueid), for idempotent re-import
    # How the call ended, from the CDR: answered | no_answer | busy | failed | abandoned (None: not told).
    disposition: str | None = None


@dataclass(frozen=True)
class Recording:
    path: Path
    sha256: str
    size_bytes: int
    audio: AudioInfo
    metadata: CallMetadata


@dataclass(frozen=True)
class MissedCall:
    """An inbound call nobody took, as the CDR tells it: it may have left no recording at all, and
    it is still owed a callback."""

    provider_id: str  # the PBX's uniqueid
    caller: str  # the customer's number, as the PBX wrote it
    callee: str | None
    started_at: datetime | None  # UTC
    disposition: str  # no_answer | busy | abandoned
    customer_name: str | None = None


class IngestError(ValueError):
    """A file that cannot be ingested; the message names the file and the reason."""
