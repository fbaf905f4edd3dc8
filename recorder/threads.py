"""What the e-mail and chat importers hand to storage: conversations that are not calls.

These are parsed facts, nothing more: identities keep the raw value the source gave (storage
normalizes phone numbers and e-mail addresses and decides which customer they belong to), and
provider ids are kept exactly so that importing the same export twice can be recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

IdentityKind = Literal["phone", "email", "chat_handle", "customer_number"]
MessageDirection = Literal["inbound", "outbound"]


@dataclass(frozen=True)
class IdentityRef:
    """One way a customer (or agent) can be recognised, as the source wrote it."""

    kind: IdentityKind
    value: str  # raw, not normalized
    channel: str | None = None  # chat handles are only unique within their channel


@dataclass(frozen=True)
class Attachment:
    """An attachment is listed, never stored: the history shows that a file was sent, not the file."""

    name: str
    size_bytes: int | None
    content_type: str | None


@dataclass(frozen=True)
class ImportedMessage:
    provider_message_id: str  # Message-ID or the provider's message id; stable across re-imports
    direction: MessageDirection
    author: str | None  # display name, or the address when there is no name
    author_identities: tuple[IdentityRef, ...]
    sent_at: datetime | None  # timezone-aware, UTC
    body: str  # the new text only
    quoted: str | None  # earlier messages quoted under a reply, separated off
    attachments: tuple[Attachment, ...]
    subject: str | None


@dataclass(frozen=True)
class ImportedThread:
    """One conversation on one channel, with the provider's id so re-import is idempotent.

    ``provider_account`` is the account (tenant) inside the tool that the id belongs to: Chatwoot's
    conversation numbers and Zendesk's ticket ids count up per account, so ticket 33 of one company
    is not ticket 33 of another, and finding a conversation again by its id alone mixes two
    customers up. ``""``: the tool's ids are unique across accounts (Message-IDs). ``None``: they
    are not, and the export does not say which account it is (storage then never trusts a match
    enough to give the stored customer this conversation's identities).
    """

    channel: str  # email, chat, whatsapp, messenger, sms, ...
    provider: str  # email, generic, chatwoot, zendesk, trengo
    provider_id: str
    subject: str | None
    customer_identities: tuple[IdentityRef, ...]
    customer_name: str | None
    agent: str | None
    started_at: datetime | None  # timezone-aware, UTC
    messages: tuple[ImportedMessage, ...]  # in time order
    provider_account: str | None = ""


@dataclass(frozen=True)
class ImportProblem:
    """One item that could not be imported (or only partly); the rest of the import goes on."""

    source: str  # the file
    item: str | None  # the message or conversation inside it, when the problem is not the whole file
    reason: str
    imported: bool = False  # True: a note on an item that was imported anyway (e.g. no Date header)

    def __str__(self) -> str:
        where = f"{self.source}: {self.item}" if self.item else self.source
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class ImportBatch:
    threads: tuple[ImportedThread, ...]
    problems: tuple[ImportProblem, ...]


MessageFacts = tuple[datetime | None, str | None]


def distinguishing_facts(sent_at: datetime | None, author: str | None) -> MessageFacts:
    """What tells apart two messages that a source gave the same id: their time, or without a time,
    their author. Not the text (an edited chat message keeps its id and time) and not a display name
    next to a time (an agent renamed between two exports is still the same message)."""
    return (sent_at, None if sent_at is not None else author)
