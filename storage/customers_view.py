"""Customer lookup and the unified history an agent reads before the next contact.

A lookup takes whatever the agent has at hand: a phone number in any format (read in the default
region when it has no country code, or matched by its last digits), an e-mail, a customer number,
a chat handle or part of a name. The timeline is one row per conversation (a call, a chat, an
e-mail thread), newest first, whatever the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require
from storage.db import Database, read_scope
from storage.errors import InvalidValue, NotFound
from storage.identities import IdentityError, normalize_email, normalize_phone
from storage.models import Agent, Customer, Identity, Message, Recording, Thread, Transcript, Utterance
from storage.services import _as_utc

__all__ = [
    "CustomerMatch",
    "CustomerProfile",
    "IdentityView",
    "MessageView",
    "TimelineItem",
    "customer_profile",
    "customer_timeline",
    "find_customers",
    "thread_messages",
]

_MIN_PHONE_DIGITS = 6  # fewer trailing digits than this match too many numbers to mean anything
_PREVIEW_CHARS = 160


@dataclass(frozen=True)
class IdentityView:
    kind: str  # phone | email | chat_handle | customer_number
    value: str  # normalized
    raw_value: str  # as first seen


@dataclass(frozen=True)
class CustomerMatch:
    id: int
    display_name: str | None
    matched_by: str  # which kind of lookup found them: phone, email, customer_number, chat_handle, name
    identities: tuple[IdentityView, ...]
    conversations: int
    last_contact_at: datetime | None


@dataclass(frozen=True)
class CustomerProfile:
    id: int
    display_name: str | None
    created_at: datetime
    identities: tuple[IdentityView, ...]


@dataclass(frozen=True)
class TimelineItem:
    thread_id: int
    channel: str  # call | chat | email | ...
    at: datetime | None
    direction: str | None
    subject: str | None
    agent: str | None
    recording_id: int | None  # calls only
    duration: float | None  # calls only, seconds
    messages: int  # chats and e-mails
    preview: str | None  # the first words of the conversation


@dataclass(frozen=True)
class MessageView:
    id: int
    direction: str
    author: str | None
    sent_at: datetime | None
    body: str


def find_customers(
    db: Database, principal: Principal, text: str, default_region: str, limit: int = 20
) -> list[CustomerMatch]:
    """Customers matching ``text``, exact identity matches first, then names containing it."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    text = text.strip()
    if not text:
        raise InvalidValue("type a phone number, e-mail, customer number or name to look a customer up")
    found: dict[int, str] = {}
    with read_scope(db) as session:
        for matched_by, condition in _lookups(text, default_region):
            ids = session.scalars(select(Customer.id).where(condition).order_by(Customer.id).limit(limit))
            for customer_id in ids:
                found.setdefault(customer_id, matched_by)
            if len(found) >= limit:
                break
        ids = list(found)[:limit]
        identities = _identities(session, ids)
        names = {
            row.id: row.display_name
            for row in session.execute(select(Customer.id, Customer.display_name).where(Customer.id.in_(ids)))
        }
        stats = {
            row.customer_id: row
            for row in session.execute(
                select(
                    Thread.customer_id,
                    func.count(Thread.id).label("conversations"),
                    func.max(func.coalesce(Thread.started_at, Thread.created_at)).label("last"),
                )
                .where(Thread.customer_id.in_(ids))
                .group_by(Thread.customer_id)
            )
        }
    return [
        CustomerMatch(
            id=customer_id,
            display_name=names[customer_id],
            matched_by=found[customer_id],
            identities=identities.get(customer_id, ()),
            conversations=stats[customer_id].conversations if customer_id in stats else 0,
            last_contact_at=_as_utc(stats[customer_id].last) if customer_id in stats else None,
        )
        for customer_id in ids
    ]


def _lookups(text: str, default_region: str) -> list[tuple[str, ColumnElement[bool]]]:
    """The ways ``text`` can name a customer, most exact first; each is a condition on Customer."""

    def by_identity(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return Customer.id.in_(select(Identity.customer_id).where(condition))

    lookups: list[tuple[str, ColumnElement[bool]]] = []
    if "@" in text:
        try:
            email = normalize_email(text)
            lookups.append(("email", by_identity(and_(Identity.kind == "email", Identity.value == email))))
        except IdentityError:
            pass  # not an e-mail after all; it may still be a chat handle or a name
    has_letters = any(char.isalpha() for char in text)
    if not has_letters:
        phone_conditions = []
        try:
            phone_conditions.append(Identity.value == normalize_phone(text, default_region))
        except IdentityError:
            pass  # a number from another country without its code: the trailing digits may still match
        digits = "".join(char for char in text if char.isdigit()).lstrip("0")
        if len(digits) >= _MIN_PHONE_DIGITS:
            phone_conditions.append(Identity.value.endswith(digits, autoescape=True))
        if phone_conditions:
            lookups.append(("phone", by_identity(and_(Identity.kind == "phone", or_(*phone_conditions)))))
    for kind in ("customer_number", "chat_handle"):
        exact = func.lower(Identity.value) == text.lower()
        lookups.append((kind, by_identity(and_(Identity.kind == kind, exact))))
    lookups.append(("name", Customer.display_name.icontains(text, autoescape=True)))
    return lookups


def _identities(session: Session, customer_ids: list[int]) -> dict[int, tuple[IdentityView, ...]]:
    grouped: dict[int, list[IdentityView]] = {}
    for row in session.execute(
        select(Identity.customer_id, Identity.kind, Identity.value, Identity.raw_value)
        .where(Identity.customer_id.in_(customer_ids))
        .order_by(Identity.customer_id, Identity.kind, Identity.id)
    ):
        grouped.setdefault(row.customer_id, []).append(IdentityView(row.kind, row.value, row.raw_value))
    return {customer_id: tuple(views) for customer_id, views in grouped.items()}


def customer_profile(db: Database, principal: Principal, customer_id: int) -> CustomerProfile:
    require(principal, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer with id {customer_id}")
        return CustomerProfile(
            id=customer.id,
            display_name=customer.display_name,
            created_at=_as_utc(customer.created_at),  # type: ignore[arg-type]
            identities=_identities(session, [customer_id]).get(customer_id, ()),
        )


def customer_timeline(db: Database, principal: Principal, customer_id: int) -> list[TimelineItem]:
    """Every conversation of the customer on every channel, newest first."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    message_count = (
        select(func.count(Message.id))
        .where(Message.thread_id == Thread.id)
        .correlate(Thread)
        .scalar_subquery()
    )
    first_message = (
        select(func.substr(Message.body, 1, _PREVIEW_CHARS))
        .where(Message.thread_id == Thread.id)
        .order_by(Message.sent_at, Message.id)
        .limit(1)
        .correlate(Thread)
        .scalar_subquery()
    )
    first_utterance = (
        select(func.substr(Utterance.text, 1, _PREVIEW_CHARS))
        .join(Transcript, Transcript.id == Utterance.transcript_id)
        .where(Transcript.recording_id == Recording.id)
        .order_by(Utterance.seq)
        .limit(1)
        .correlate(Recording)
        .scalar_subquery()
    )
    first_sent = (
        select(func.min(Message.sent_at))
        .where(Message.thread_id == Thread.id)
        .correlate(Thread)
        .scalar_subquery()
    )
    at = func.coalesce(Thread.started_at, first_sent, Thread.created_at)
    query = (
        select(
            Thread.id,
            Thread.channel,
            at.label("at"),
            Thread.direction,
            Thread.subject,
            Agent.name.label("agent"),
            Recording.id.label("recording_id"),
            Recording.duration,
            message_count.label("messages"),
            func.coalesce(first_utterance, first_message).label("preview"),
        )
        .outerjoin(Agent, Agent.id == Thread.agent_id)
        .outerjoin(Recording, Recording.thread_id == Thread.id)
        .where(Thread.customer_id == customer_id)
        .order_by(at.desc(), Thread.id.desc())
    )
    with read_scope(db) as session:
        if session.get(Customer, customer_id) is None:
            raise NotFound(f"no customer with id {customer_id}")
        return [
            TimelineItem(
                thread_id=row.id,
                channel=row.channel,
                at=_as_utc(row.at),
                direction=row.direction,
                subject=row.subject,
                agent=row.agent,
                recording_id=row.recording_id,
                duration=row.duration,
                messages=row.messages,
                preview=row.preview,
            )
            for row in session.execute(query)
        ]


def thread_messages(db: Database, principal: Principal, thread_id: int) -> list[MessageView]:
    """The messages of one chat or e-mail thread, oldest first."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    with read_scope(db) as session:
        if session.get(Thread, thread_id) is None:
            raise NotFound(f"no conversation with id {thread_id}")
        rows = session.execute(
            select(Message.id, Message.direction, Message.author, Message.sent_at, Message.body)
            .where(Message.thread_id == thread_id)
            .order_by(Message.sent_at, Message.id)
        )
        return [MessageView(r.id, r.direction, r.author, _as_utc(r.sent_at), r.body) for r in rows]
