"""A customer's unified history: every call, chat message and e-mail, whatever the channel.

The one home for the timeline: the command line (``earshot history``) and the review app's
Customer page read the same functions. Two shapes of the same data: ``customer_history`` lists
every item (a call with its speaker-attributed utterances, each message on its own) oldest first;
``customer_conversations`` lists one row per conversation, newest first, for an overview.

Reading a history is a fixed handful of queries whatever its length (threads, messages,
attachments, utterances), never one per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from storage.customers import CustomerDetail, customer_detail
from storage.db import Database, read_scope
from storage.errors import InvalidValue, NotFound
from storage.models import (
    Agent,
    Customer,
    Message,
    MessageAttachment,
    Recording,
    Speaker,
    Thread,
    Transcript,
    Utterance,
    as_utc,
)

__all__ = [
    "AttachmentView",
    "CallItem",
    "Conversation",
    "CustomerHistory",
    "HistoryUtterance",
    "MessageItem",
    "MessageView",
    "customer_conversations",
    "customer_history",
    "thread_messages",
]

_PREVIEW_CHARS = 160
_NO_TIME = datetime.min.replace(tzinfo=UTC)

# A result row of any columns (``Row[Any]`` would be a row of one column).
AnyRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class HistoryUtterance:
    speaker: str  # the transcript's label, e.g. S1
    role: str | None  # agent | customer | ivr | other, as reviewers corrected it
    display_name: str | None
    start: float  # seconds into the call
    end: float
    text: str


@dataclass(frozen=True)
class AttachmentView:
    name: str
    size_bytes: int | None
    content_type: str | None


@dataclass(frozen=True)
class CallItem:
    thread_id: int
    recording_id: int
    at: datetime | None
    direction: str | None
    agent: str | None
    duration: float  # seconds
    utterances: tuple[HistoryUtterance, ...]  # empty until the call is transcribed
    kind: Literal["call"] = "call"
    channel: str = "call"


@dataclass(frozen=True)
class MessageItem:
    thread_id: int
    message_id: int
    channel: str  # chat | email | whatsapp | sms | ...
    at: datetime | None
    direction: str  # inbound (from the customer) | outbound
    agent: str | None  # the thread's agent
    author: str | None
    subject: str | None  # the thread's subject
    body: str
    attachments: tuple[AttachmentView, ...]
    quoted: str | None = None  # earlier mail it quotes that the thread does not hold: shown collapsed
    kind: Literal["message"] = "message"


@dataclass(frozen=True)
class CustomerHistory:
    customer: CustomerDetail
    items: tuple[CallItem | MessageItem, ...]  # oldest first; items without a time last


@dataclass(frozen=True)
class Conversation:
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
    quoted: str | None = None  # earlier mail it quotes that the thread does not hold: shown collapsed


def customer_history(db: Database, customer_id: int, limit: int | None = None) -> CustomerHistory:
    """Every call and message of the customer in time order; with ``limit``, the newest that many."""
    if limit is not None and limit < 1:
        raise InvalidValue(f"history limit must be at least 1, not {limit}")
    customer = customer_detail(db, customer_id)
    with read_scope(db) as session:
        threads = session.execute(
            select(
                Thread.id,
                Thread.channel,
                Thread.direction,
                Thread.subject,
                Thread.started_at,
                Agent.name.label("agent"),
                Recording.id.label("recording_id"),
                Recording.duration,
            )
            .outerjoin(Agent, Agent.id == Thread.agent_id)
            .outerjoin(Recording, Recording.thread_id == Thread.id)
            .where(Thread.customer_id == customer_id)
        ).all()
        thread_of = {row.id: row for row in threads}
        messages_query = (
            select(
                Message.id,
                Message.thread_id,
                Message.direction,
                Message.author,
                Message.sent_at,
                Message.body,
                Message.quoted,
            )
            .join(Thread, Thread.id == Message.thread_id)
            .where(Thread.customer_id == customer_id)
        )
        if limit is not None:
            messages_query = messages_query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit)
        messages = session.execute(messages_query).all()
        # (sort key, call thread row or None, message row or None): one timeline of both kinds.
        timeline: list[tuple[tuple[bool, datetime, int, int], AnyRow | None, AnyRow | None]] = [
            (_order(as_utc(row.started_at), row.id, 0), row, None) for row in threads if row.recording_id
        ] + [
            (
                _order(as_utc(m.sent_at) or as_utc(thread_of[m.thread_id].started_at), m.thread_id, m.id),
                None,
                m,
            )
            for m in messages
        ]
        timeline.sort(key=lambda entry: entry[0])
        if limit is not None:
            timeline = timeline[-limit:]
        utterances = _utterances(session, [call.recording_id for _, call, _ in timeline if call is not None])
        attachments = _attachments(session, [message.id for _, _, message in timeline if message is not None])
    items: list[CallItem | MessageItem] = []
    for _, call, message in timeline:
        if call is not None:
            items.append(
                CallItem(
                    thread_id=call.id,
                    recording_id=call.recording_id,
                    at=as_utc(call.started_at),
                    direction=call.direction,
                    agent=call.agent,
                    duration=call.duration,
                    utterances=utterances.get(call.recording_id, ()),
                )
            )
        elif message is not None:
            thread = thread_of[message.thread_id]
            items.append(
                MessageItem(
                    thread_id=message.thread_id,
                    message_id=message.id,
                    channel=thread.channel,
                    at=as_utc(message.sent_at) or as_utc(thread.started_at),
                    direction=message.direction,
                    agent=thread.agent,
                    author=message.author,
                    subject=thread.subject,
                    body=message.body,
                    attachments=attachments.get(message.id, ()),
                    quoted=message.quoted,
                )
            )
    return CustomerHistory(customer=customer, items=tuple(items))


def _order(at: datetime | None, thread_id: int, message_id: int) -> tuple[bool, datetime, int, int]:
    """Time order; a call sorts before its thread's messages at the same moment, undated items last."""
    return (at is None, at or _NO_TIME, thread_id, message_id)


def _utterances(session: Session, recording_ids: list[int]) -> dict[int, tuple[HistoryUtterance, ...]]:
    grouped: dict[int, list[HistoryUtterance]] = {}
    if not recording_ids:
        return {}
    for row in session.execute(
        select(
            Transcript.recording_id,
            Speaker.label,
            Speaker.role,
            Speaker.display_name,
            Utterance.start,
            Utterance.end,
            Utterance.text,
        )
        .join(Transcript, Transcript.id == Utterance.transcript_id)
        .join(Speaker, Speaker.id == Utterance.speaker_id)
        .where(Transcript.recording_id.in_(recording_ids))
        .order_by(Transcript.recording_id, Utterance.seq)
    ):
        grouped.setdefault(row.recording_id, []).append(
            HistoryUtterance(row.label, row.role, row.display_name, row.start, row.end, row.text)
        )
    return {recording_id: tuple(items) for recording_id, items in grouped.items()}


def _attachments(session: Session, message_ids: list[int]) -> dict[int, tuple[AttachmentView, ...]]:
    grouped: dict[int, list[AttachmentView]] = {}
    if not message_ids:
        return {}
    for row in session.execute(
        select(
            MessageAttachment.message_id,
            MessageAttachment.name,
            MessageAttachment.size_bytes,
            MessageAttachment.content_type,
        )
        .where(MessageAttachment.message_id.in_(message_ids))
        .order_by(MessageAttachment.id)
    ):
        grouped.setdefault(row.message_id, []).append(
            AttachmentView(row.name, row.size_bytes, row.content_type)
        )
    return {message_id: tuple(items) for message_id, items in grouped.items()}


def customer_conversations(db: Database, customer_id: int) -> list[Conversation]:
    """Every conversation of the customer on every channel, newest first, one row each."""
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
            Conversation(
                thread_id=row.id,
                channel=row.channel,
                at=as_utc(row.at),
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


def thread_messages(db: Database, thread_id: int) -> list[MessageView]:
    """The messages of one chat or e-mail thread, oldest first."""
    with read_scope(db) as session:
        if session.get(Thread, thread_id) is None:
            raise NotFound(f"no conversation with id {thread_id}")
        rows = session.execute(
            select(
                Message.id, Message.direction, Message.author, Message.sent_at, Message.body, Message.quoted
            )
            .where(Message.thread_id == thread_id)
            .order_by(Message.sent_at, Message.id)
        )
        return [MessageView(r.id, r.direction, r.author, as_utc(r.sent_at), r.body, r.quoted) for r in rows]
