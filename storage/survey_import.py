"""Import customers' survey answers (CSAT, NPS, CES) from a survey tool's CSV or JSON export and tie
each to the conversation it rates.

A row names its contact by the conversation's id (``contact_id``), or by the customer's e-mail,
phone number or customer number (looked up as the history looks customers up, ``storage.identities``)
together with the time it was answered: the customer's conversation that started nearest before
that time, on the row's ``channel`` when it names one. Each bad row and each row whose contact is
not found is reported in one line and skipped; the rest are imported. ``(source, response_id)``
makes re-import idempotent; a row without a ``response_id`` is keyed by a digest of its contents.

Columns (CSV header or JSON object keys): ``response_id``, ``source``, ``kind`` (csat | nps | ces),
``score``, ``answered_at`` (ISO 8601; without an offset it is read in the organisation's zone),
``comment``, ``channel``, and one of ``contact_id``, ``email``, ``phone``, ``customer_number``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import COMMAND_LINE, append_event
from storage.db import Database, session_scope
from storage.identities import IdentityError, normalize_customer_number, normalize_email, normalize_phone
from storage.models import Identity, SurveyResponse, Thread, as_utc

__all__ = [
    "SURVEY_FORMATS",
    "SurveyFormat",
    "SurveyImportSummary",
    "SurveyKind",
    "SurveyRow",
    "SurveyScales",
    "import_surveys",
    "read_surveys",
]

SurveyKind = Literal["csat", "nps", "ces"]
SURVEY_KINDS: tuple[SurveyKind, ...] = get_args(SurveyKind)
SurveyFormat = Literal["csv", "json"]
SURVEY_FORMATS: tuple[SurveyFormat, ...] = get_args(SurveyFormat)
_CONTACT_FIELDS = ("contact_id", "email", "phone", "customer_number")
_TEXT_LIMITS = {"source": 64, "response_id": 255, "channel": 32}


@dataclass(frozen=True)
class SurveyScales:
    """The scores each survey kind allows, inclusive: the common scales (CSAT 1-5, NPS 0-10, CES 1-7).
    A tool that asks on another scale is configured here, not rescaled on import."""

    csat: tuple[float, float] = (1, 5)
    nps: tuple[float, float] = (0, 10)
    ces: tuple[float, float] = (1, 7)

    def of(self, kind: SurveyKind) -> tuple[float, float]:
        return cast(tuple[float, float], getattr(self, kind))


@dataclass(frozen=True)
class SurveyRow:
    """One answer as read from a file, before its contact is looked up."""

    where: str  # "answers.csv:4", for the problem lines
    source: str
    response_id: str
    kind: SurveyKind
    score: float
    answered_at: datetime  # UTC
    comment: str | None
    channel: str | None
    contact_id: int | None
    email: str | None
    phone: str | None
    customer_number: str | None


@dataclass(frozen=True)
class SurveyImportSummary:
    imported: int
    already_stored: int
    problems: tuple[str, ...] = field(default=())  # one line per row left out


class _BadRow(ValueError):
    """A row that cannot be imported; the message says why, in words a user can act on."""


def read_surveys(
    paths: Sequence[Path], fmt: SurveyFormat | None, zone: ZoneInfo
) -> tuple[list[SurveyRow], list[str]]:
    """The rows of every file (format from ``fmt``, else from each file's suffix) and one problem line
    per row or file that cannot be read."""
    rows: list[SurveyRow] = []
    problems: list[str] = []
    for path in paths:
        kind = fmt or path.suffix.lower().lstrip(".")
        try:
            records = _records(path, kind)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as error:
            problems.append(f"{path}: cannot be read: {error}")
            continue
        for number, record in records:
            where = f"{path.name}:{number}"
            try:
                rows.append(_row(where, record, zone))
            except _BadRow as error:
                problems.append(f"{where}: {error}")
    return rows, problems


def _records(path: Path, kind: str) -> list[tuple[int, Mapping[str, Any]]]:
    """(line or item number, fields) of each answer in the file."""
    if kind == "csv":
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            return [(reader.line_num, record) for record in reader]
    if kind == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data.get("responses") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ValueError('expected a list of answers, or an object with a "responses" list')
        return [(index, item if isinstance(item, dict) else {}) for index, item in enumerate(items, 1)]
    raise ValueError(f"unknown format {kind!r} (use --format csv or json)")


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    text = str(value).strip()
    limit = _TEXT_LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise _BadRow(f"{name} is longer than {limit} characters")
    return text or None


def _row(where: str, record: Mapping[str, Any], zone: ZoneInfo) -> SurveyRow:
    kind = (_text(record, "kind") or "").lower()
    if kind not in SURVEY_KINDS:
        raise _BadRow(f"kind {kind or '(empty)'!r} is not one of {', '.join(SURVEY_KINDS)}")
    score_text = _text(record, "score")
    try:
        score = float(score_text or "")
    except ValueError:
        raise _BadRow(f"score {score_text or '(empty)'!r} is not a number") from None
    answered_text = _text(record, "answered_at")
    try:
        answered = datetime.fromisoformat(answered_text or "")
    except ValueError:
        raise _BadRow(f"answered_at {answered_text or '(empty)'!r} is not an ISO 8601 time") from None
    if answered.tzinfo is None:
        answered = answered.replace(tzinfo=zone)
    contact_text = _text(record, "contact_id")
    if contact_text is not None and not contact_text.isdigit():
        raise _BadRow(f"contact_id {contact_text!r} is not a conversation number")
    contacts = {name: _text(record, name) for name in _CONTACT_FIELDS}
    if not any(contacts.values()):
        raise _BadRow("names no contact (give contact_id, email, phone or customer_number)")
    source = _text(record, "source") or ""
    response_id = _text(record, "response_id") or _digest(kind, score, answered, contacts)
    return SurveyRow(
        where=where,
        source=source,
        response_id=response_id,
        kind=cast(SurveyKind, kind),
        score=score,
        answered_at=as_utc(answered),
        comment=_text(record, "comment"),
        channel=(_text(record, "channel") or "").lower() or None,
        contact_id=int(contact_text) if contact_text else None,
        email=contacts["email"],
        phone=contacts["phone"],
        customer_number=contacts["customer_number"],
    )


def _digest(kind: str, score: float, answered: datetime, contacts: Mapping[str, str | None]) -> str:
    """A stand-in key for an export without response ids: the same row gives the same key."""
    text = "|".join(
        [kind, repr(score), as_utc(answered).isoformat(), *(contacts[n] or "" for n in _CONTACT_FIELDS)]
    )
    return "row-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def import_surveys(
    db: Database,
    rows: Iterable[SurveyRow],
    default_region: str,
    scales: SurveyScales = SurveyScales(),
    on_problem: Callable[[str], None] | None = None,
) -> SurveyImportSummary:
    """Store each answer with the conversation it rates, in one transaction; rows already stored (the
    same source and response id) are left as they are."""
    imported = already = 0
    problems: list[str] = []
    with session_scope(db) as session:
        seen: set[tuple[str, str]] = set()
        for row in rows:
            key = (row.source, row.response_id)
            try:
                low, high = scales.of(row.kind)
                if not low <= row.score <= high:
                    raise _BadRow(f"{row.kind} score {row.score:g} is outside {low:g}-{high:g}")
                if key in seen or _stored(session, key):
                    already += 1
                    continue
                thread_id = _contact(session, row, default_region)
            except _BadRow as error:
                problems.append(f"{row.where}: {error}")
                if on_problem is not None:
                    on_problem(problems[-1])
                continue
            seen.add(key)
            session.add(
                SurveyResponse(
                    source=row.source,
                    response_id=row.response_id,
                    thread_id=thread_id,
                    kind=row.kind,
                    score=row.score,
                    answered_at=row.answered_at,
                    comment=row.comment,
                )
            )
            imported += 1
        append_event(
            session,
            None,
            "surveys_imported",
            None,
            {"imported": imported, "already_stored": already, "problems": len(problems)},
            username=COMMAND_LINE,
        )
    return SurveyImportSummary(imported=imported, already_stored=already, problems=tuple(problems))


def _stored(session: Session, key: tuple[str, str]) -> bool:
    found = session.scalar(
        select(SurveyResponse.id).where(SurveyResponse.source == key[0], SurveyResponse.response_id == key[1])
    )
    return found is not None


def _contact(session: Session, row: SurveyRow, default_region: str) -> int:
    """The id of the conversation the answer rates."""
    if row.contact_id is not None:
        thread = session.get(Thread, row.contact_id)
        if thread is None:
            raise _BadRow(f"no conversation {row.contact_id}")
        if row.channel is not None and thread.channel != row.channel:
            raise _BadRow(f"conversation {row.contact_id} is a {thread.channel}, not a {row.channel}")
        return thread.id
    customer_id = _customer(session, row, default_region)
    query = select(Thread.id).where(Thread.customer_id == customer_id, Thread.started_at <= row.answered_at)
    if row.channel is not None:
        query = query.where(Thread.channel == row.channel)
    found = session.scalar(query.order_by(Thread.started_at.desc(), Thread.id.desc()).limit(1))
    if found is None:
        on = f" on {row.channel}" if row.channel else ""
        raise _BadRow(
            f"customer {customer_id} has no conversation{on} before {row.answered_at:%Y-%m-%d %H:%M} UTC"
        )
    return found


def _customer(session: Session, row: SurveyRow, default_region: str) -> int:
    """The one customer the row's identities name: unknown ones, or two customers, are refused."""
    found: dict[int, str] = {}
    for kind, raw, normalize in (
        ("email", row.email, normalize_email),
        ("phone", row.phone, lambda raw: normalize_phone(raw, default_region)),
        ("customer_number", row.customer_number, normalize_customer_number),
    ):
        if raw is None:
            continue
        try:
            value = normalize(raw)
        except IdentityError as error:
            raise _BadRow(str(error)) from None
        customer_id = session.scalar(
            select(Identity.customer_id).where(Identity.kind == kind, Identity.value == value)
        )
        if customer_id is None:
            raise _BadRow(f"no customer with {kind.replace('_', ' ')} {raw!r}")
        found[customer_id] = kind
    if len(found) > 1:
        raise _BadRow(f"its identities name {len(found)} different customers ({', '.join(map(str, found))})")
    return next(iter(found))
