"""The read services of ``storage.services`` and ``storage.search`` as the review app must call them:
with the signed-in principal, checked against the role rules, and written to the audit log. The
command line calls the reads and the export too, with ``who`` None (no role: it holds the database).

Who may read what: every role may replay any call (an agent must be able to read what a customer
was told before, whoever took that call); listing all calls is for coaches and up; searching across
customers is for compliance and admins, while agents search inside the one customer they opened;
exports are for compliance and admins. Each read is audited before its result is handed over, so
nothing is shown that the log does not record. Pages should keep results in the session instead of
calling again on every Streamlit rerun, or the log records each rerun.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from sqlalchemy import select

from storage.access import Permission, Principal, allows, require, require_unless_command_line
from storage.audit import append_event, record_event, record_read
from storage.audit_subjects import Subject
from storage.blobs import BlobStore
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.models import Customer, Identity
from storage.redaction_corrections import mark_span, unmark_span
from storage.search import SearchFilters, SearchPage, search_utterances
from storage.services import (
    RecordingSummary,
    ServedAudio,
    find_recording,
    list_recordings,
    load_transcript,
    recording_audio_path,
    served_audio,
    set_speaker_role,
    unredacted_transcript,
)
from transcribe.formats import FORMATS
from transcribe.redaction.stage import WordAt
from transcribe.types import Role, Transcript

__all__ = [
    "AudioExport",
    "CallAudio",
    "CallReplay",
    "correct_speaker",
    "export_audio",
    "export_transcript",
    "fetch_audio",
    "fetch_original_audio",
    "list_calls",
    "mark_redaction",
    "unmark_redaction",
    "replay_call",
    "search",
    "view_transcript",
    "view_unredacted_transcript",
]

# A reason the audit log can be read by later: "ok" or "x" says nothing.
MIN_REASON_CHARACTERS = 10

# The identity kinds that name one customer most exactly, best first: the customer filter of a
# search matches identity values exactly but names only as substrings.
_NARROWEST_IDENTITY = ("customer_number", "email", "phone", "chat_handle")


@dataclass(frozen=True)
class CallReplay:
    recording: RecordingSummary
    audio_path: Path  # the redacted copy (or the original when nothing was redacted); read only
    audio_sha256: str  # of the file at audio_path
    transcript: Transcript | None  # None until the call is transcribed


def replay_call(db: Database, principal: Principal, recording_id: int, blobs: BlobStore) -> CallReplay:
    """Audio and transcript for the player; audited as ``call_played`` (and ``transcript_viewed``)."""
    require(principal, Permission.REPLAY_CALLS)
    recording = find_recording(db, str(recording_id))
    served = served_audio(db, recording_id, blobs)
    _refuse_flagged(principal, recording_id, served)
    audio_path = served.path
    transcript = load_transcript(db, recording_id) if recording.transcribed else None
    target = Subject("recording", recording_id)
    with session_scope(db) as session:
        append_event(session, principal, "call_played", target)
        if transcript is not None:
            append_event(session, principal, "transcript_viewed", target)
    return CallReplay(
        recording=recording, audio_path=audio_path, audio_sha256=served.sha256, transcript=transcript
    )


@dataclass(frozen=True)
class CallAudio:
    sha256: str
    path: Path  # read it, never write it


def fetch_audio(
    db: Database, principal: Principal, recording_id: int, blobs: BlobStore, *, audit: bool
) -> CallAudio:
    """A call's audio for the player's audio route, checked on every request a link makes: the
    redacted copy, for every role (the original is ``fetch_original_audio``). ``audit``: log this
    fetch as ``audio_fetched``; the route does so once per link, not for each of the range
    requests a player makes while it plays and seeks."""
    require(principal, Permission.REPLAY_CALLS)
    served = served_audio(db, recording_id, blobs)
    _refuse_flagged(principal, recording_id, served)
    if audit:
        record_read(db, principal, "audio_fetched", Subject("recording", recording_id))
    return CallAudio(served.sha256, served.path)


def _refuse_flagged(principal: Principal, recording_id: int, served: ServedAudio) -> None:
    """A call whose redaction failed verification may still give a number away: compliance
    reviews it first, and nobody without the unredacted grant hears it."""
    if served.flagged and not allows(principal, Permission.READ_UNREDACTED):
        raise PermissionDenied(
            f"call {recording_id} is flagged for review: its redacted audio may still give away "
            "what was redacted; compliance must review it first"
        )


def fetch_original_audio(
    db: Database, who: Principal | None, recording_id: int, blobs: BlobStore, reason: str
) -> CallAudio:
    """A call's original audio, redacted spans and all: needs the unredacted grant and a reason,
    audited as ``original_audio_fetched`` with it. ``who`` None: the command line."""
    reason = _unredacted_reason(who, reason)
    recording = find_recording(db, str(recording_id))
    audio = CallAudio(recording.sha256, recording_audio_path(db, recording_id, blobs))
    record_read(db, who, "original_audio_fetched", Subject("recording", recording_id), {"reason": reason})
    return audio


def view_unredacted_transcript(
    db: Database, who: Principal | None, recording_id: int, reason: str
) -> Transcript:
    """The transcript with what redaction replaced: needs the unredacted grant and a reason,
    audited as ``unredacted_transcript_viewed``. ``who`` None: the command line."""
    reason = _unredacted_reason(who, reason)
    transcript = unredacted_transcript(db, recording_id)
    details = {"reason": reason}
    record_read(db, who, "unredacted_transcript_viewed", Subject("recording", recording_id), details)
    return transcript


def _unredacted_reason(who: Principal | None, reason: str) -> str:
    """Check the grant and the reason; the reason is what the audit log keeps."""
    require_unless_command_line(who, Permission.READ_UNREDACTED)
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON_CHARACTERS:
        raise InvalidValue(
            f"unredacted access needs a reason of at least {MIN_REASON_CHARACTERS} characters "
            "(a case or ticket number and why); it is kept in the audit log"
        )
    return reason


def view_transcript(db: Database, who: Principal | None, recording_id: int) -> Transcript:
    """The transcript alone (a search hit, a customer's timeline); audited as ``transcript_viewed``.
    ``who`` None: the command line."""
    require_unless_command_line(who, Permission.REPLAY_CALLS)
    transcript = load_transcript(db, recording_id)
    record_read(db, who, "transcript_viewed", Subject("recording", recording_id))
    return transcript


def list_calls(db: Database, principal: Principal, limit: int = 100) -> list[RecordingSummary]:
    """Every call, newest first: coaches browse them to pick what to score."""
    require(principal, Permission.VIEW_ALL_CALLS)
    return list_recordings(db, limit=limit)


def search(
    db: Database,
    who: Principal | None,
    query: str,
    filters: SearchFilters,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> SearchPage:
    """Transcript search, audited as ``search_run``. With ``customer_id`` only that customer's calls
    are searched; without it the search crosses customers, which needs ``SEARCH_ALL``.
    ``who`` None: the command line."""
    if customer_id is None:
        if who is not None and not allows(who, Permission.SEARCH_ALL):
            raise PermissionDenied(
                f"{who.username} ({who.role}) may search only inside one customer's history; "
                "open a customer first"
            )
    else:
        require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
        filters = dataclasses.replace(filters, customer=_customer_filter(db, customer_id))
    page = search_utterances(db, query, filters, limit=limit, offset=offset)
    if customer_id is not None:
        # The customer filter is text (a name matches as a substring), so a hit of another customer
        # is dropped here rather than trusted away; this page may then hold fewer than ``limit``.
        page = dataclasses.replace(page, hits=tuple(h for h in page.hits if h.customer_id == customer_id))
    details = {
        "query": query,
        "filters": {
            k: v.isoformat() if isinstance(v, date) else v for k, v in dataclasses.asdict(filters).items()
        },
        "customer_id": customer_id,
        "offset": offset,
        "hits": len(page.hits),
    }
    record_read(db, who, "search_run", Subject("customer", customer_id) if customer_id else None, details)
    return page


def correct_speaker(
    db: Database, principal: Principal, recording_id: int, label: str, role: Role | None, name: str | None
) -> None:
    """A reviewer says who a voice is (role and name); audited as ``speaker_corrected``."""
    require(principal, Permission.COMMENT_CALLS)
    set_speaker_role(db, recording_id, label, role, name)
    record_event(
        db,
        principal,
        "speaker_corrected",
        Subject("recording", recording_id),
        {"speaker": label, "role": role, "name": name},
    )


def mark_redaction(
    db: Database,
    principal: Principal,
    recording_id: int,
    blobs: BlobStore,
    entity: str,
    first: WordAt,
    last: WordAt,
) -> None:
    """A reviewer redacts a span redaction missed (words ``first`` to ``last``): the transcript,
    the index and the audio copy follow; audited as ``redaction_marked``."""
    require(principal, Permission.COMMENT_CALLS)
    mark_span(db, blobs, recording_id, entity, first, last)
    details = {"entity": entity, "from": [first.utterance, first.word], "to": [last.utterance, last.word]}
    record_event(db, principal, "redaction_marked", Subject("recording", recording_id), details)


def unmark_redaction(
    db: Database, principal: Principal, recording_id: int, blobs: BlobStore, index: int, reason: str
) -> None:
    """A reviewer shows a false finding again (span ``index`` as ``redactions`` lists them):
    everyone will read those words, so it needs the unredacted grant and a reason; audited as
    ``redaction_unmarked``."""
    reason = _unredacted_reason(principal, reason)
    span = unmark_span(db, blobs, recording_id, index)
    details = {"entity": span.entity, "words": len(span.words), "reason": reason}
    record_event(db, principal, "redaction_unmarked", Subject("recording", recording_id), details)


def export_transcript(
    db: Database, who: Principal | None, recording_id: int, fmt: str, *, unredacted_reason: str | None = None
) -> str:
    """The transcript as a file's text (json, txt, vtt, srt, rttm), audited as ``export``; redacted,
    unless ``unredacted_reason`` is given, which needs the unredacted grant too and is audited as
    ``unredacted_export`` with the reason. ``who`` None: the command line."""
    require_unless_command_line(who, Permission.EXPORT)
    render = FORMATS.get(fmt)
    if render is None:
        raise InvalidValue(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    recording = find_recording(db, str(recording_id))
    stem = Path(recording.original_name).stem
    subject = Subject("recording", recording_id)
    if unredacted_reason is None:
        text = render(load_transcript(db, recording_id), stem)
        record_read(db, who, "export", subject, {"format": fmt, "characters": len(text)})
        return text
    reason = _unredacted_reason(who, unredacted_reason)
    text = render(unredacted_transcript(db, recording_id), stem)
    details = {"format": fmt, "characters": len(text), "reason": reason}
    record_read(db, who, "unredacted_export", subject, details)
    return text


AudioCopy = Literal["redacted", "original"]


@dataclass(frozen=True)
class AudioExport:
    path: Path  # read it, never write it
    file_name: str  # for the download: the call and which copy it is
    copy: AudioCopy  # "original" too for a call in which redaction found nothing
    sha256: str


def export_audio(
    db: Database,
    who: Principal | None,
    recording_id: int,
    blobs: BlobStore,
    *,
    unredacted_reason: str | None = None,
) -> AudioExport:
    """A call's audio as a file, for compliance: the redacted copy when redaction covered anything,
    audited as ``audio_exported``; with ``unredacted_reason`` the original, which needs the
    unredacted grant too and is audited as ``original_audio_exported`` with the reason. Both name
    the copy handed over. ``who`` None: the command line."""
    require_unless_command_line(who, Permission.EXPORT)
    recording = find_recording(db, str(recording_id))
    subject = Subject("recording", recording_id)
    if unredacted_reason is None:
        served = served_audio(db, recording_id, blobs)
        if who is not None:
            _refuse_flagged(who, recording_id, served)
        copy: AudioCopy = "redacted" if served.redacted else "original"
        # The redacted copy is always rendered as WAV; an unredacted call keeps its own format.
        suffix = ".wav" if served.redacted else Path(recording.original_name).suffix
        export = AudioExport(served.path, f"call-{recording_id}-{copy}{suffix}", copy, served.sha256)
        record_read(db, who, "audio_exported", subject, {"copy": copy, "sha256": served.sha256})
        return export
    reason = _unredacted_reason(who, unredacted_reason)
    path = recording_audio_path(db, recording_id, blobs)
    suffix = Path(recording.original_name).suffix
    export = AudioExport(path, f"call-{recording_id}-original{suffix}", "original", recording.sha256)
    details = {"copy": "original", "sha256": recording.sha256, "reason": reason}
    record_read(db, who, "original_audio_exported", subject, details)
    return export


def _customer_filter(db: Database, customer_id: int) -> str:
    with read_scope(db) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer with id {customer_id}")
        identities: dict[str, str] = {}
        for kind, value in session.execute(
            select(Identity.kind, Identity.value)
            .where(Identity.customer_id == customer_id)
            .order_by(Identity.id)
        ):
            identities.setdefault(kind, value)
    for kind in _NARROWEST_IDENTITY:
        if kind in identities:
            return identities[kind]
    if customer.display_name:
        return customer.display_name
    raise InvalidValue(f"customer {customer_id} has neither a name nor an identity to search by")
