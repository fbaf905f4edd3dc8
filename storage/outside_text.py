"""Text from outside (file names, sidecars, PBX files, chat exports, mail headers) made storable the
same way on every backend.

SQLite stores whatever it is given; PostgreSQL refuses a NUL character and a VARCHAR longer than
its column, and neither backend can encode a lone surrogate (a JSON export may hold one as
``"\\ud800"``). So that an import gives the same result on both, ingest and the thread import pass
every outside string through here before writing it:

- control characters are dropped (C0 except tab and newline; a carriage return becomes a
  newline) and a lone surrogate becomes U+FFFD;
- text that only describes (a name, a subject, an author, an attachment) is cut to its column's
  length, with a note that says so;
- a key that identifies (a call's, conversation's or message's id, a channel name) is refused
  when it is too long, because cut, two different items could become one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, overload

from recorder.threads import Attachment, IdentityRef, ImportedMessage, ImportedThread
from recorder.types import CallMetadata
from storage.errors import InvalidValue
from storage.models import Agent, Customer, Message, MessageAttachment, Recording, Thread

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class KeyTooLong(InvalidValue):
    """An id from outside that does not fit its column; the message names the item and both lengths."""


def clean(text: str) -> str:
    """``text`` without control characters or lone surrogates (see the module's docstring)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def length_of(column: Any) -> int:
    """The length a String column holds, read from the model so the limits live in one place."""
    length = column.type.length
    assert isinstance(length, int), f"{column} has no length"
    return length


def storable_key(column: Any, value: str, what: str) -> str:
    """``value`` cleaned, or KeyTooLong when it does not fit ``column``."""
    value = clean(value)
    if len(value) > length_of(column):
        raise KeyTooLong(
            f"{what} is {len(value)} characters long; at most {length_of(column)} fit "
            "(cut, it could name another item)"
        )
    return value


@dataclass
class _Notes:
    """Cuts text to its column and remembers, for the import's warnings, what it cut."""

    source: str
    lines: list[str] = field(default_factory=list)

    @overload
    def text(self, column: Any, value: str, what: str) -> str: ...
    @overload
    def text(self, column: Any, value: None, what: str) -> None: ...
    @overload
    def text(self, column: Any, value: str | None, what: str) -> str | None: ...

    def text(self, column: Any, value: str | None, what: str) -> str | None:
        if value is None:
            return None
        value, limit = clean(value), length_of(column)
        if len(value) <= limit:
            return value
        self.lines.append(f"{self.source}: {what} cut to {limit} of its {len(value)} characters")
        return value[:limit]


def storable_metadata(metadata: CallMetadata, source: str) -> tuple[CallMetadata, list[str]]:
    """A call's metadata as it can be stored, and a note for each value that had to be cut."""
    notes = _Notes(source)
    storable = replace(
        metadata,
        caller=notes.text(Recording.caller, metadata.caller, "caller"),
        callee=notes.text(Recording.callee, metadata.callee, "callee"),
        agent=notes.text(Agent.name, metadata.agent, "agent"),
        customer_name=notes.text(Customer.display_name, metadata.customer_name, "customer name"),
        customer_phone=_identity(metadata.customer_phone),
        customer_email=_identity(metadata.customer_email),
        customer_number=_identity(metadata.customer_number),
        provider_id=None
        if metadata.provider_id is None
        else storable_key(Thread.provider_id, metadata.provider_id, "call id"),
    )
    return storable, notes.lines


def storable_thread(thread: ImportedThread, label: str) -> tuple[ImportedThread, list[str]]:
    """A conversation as it can be stored, and a note for each value that had to be cut."""
    notes = _Notes(label)
    storable = replace(
        thread,
        channel=storable_key(Thread.channel, thread.channel, "channel"),
        provider_id=storable_key(Thread.provider_id, thread.provider_id, "conversation id"),
        provider_account=None
        if thread.provider_account is None
        else storable_key(Thread.provider_account, thread.provider_account, "account"),
        subject=notes.text(Thread.subject, thread.subject, "subject"),
        customer_identities=tuple(_identity_ref(ref) for ref in thread.customer_identities),
        customer_name=notes.text(Customer.display_name, thread.customer_name, "customer name"),
        agent=notes.text(Agent.name, thread.agent, "agent"),
        messages=tuple(_message(message, notes) for message in thread.messages),
    )
    return storable, notes.lines


def _message(message: ImportedMessage, notes: _Notes) -> ImportedMessage:
    what = f"message {clean(message.provider_message_id)[:80]}"
    return replace(
        message,
        provider_message_id=storable_key(
            Message.provider_message_id, message.provider_message_id, f"{what} id"
        ),
        author=notes.text(Message.author, message.author, f"{what}: author"),
        author_identities=tuple(_identity_ref(ref) for ref in message.author_identities),
        body=clean(message.body),
        quoted=None if message.quoted is None else clean(message.quoted),
        attachments=tuple(
            Attachment(
                name=notes.text(MessageAttachment.name, a.name, f"{what}: attachment name"),
                size_bytes=a.size_bytes,
                content_type=notes.text(
                    MessageAttachment.content_type, a.content_type, f"{what}: content type"
                ),
            )
            for a in message.attachments
        ),
    )


def _identity(value: str | None) -> str | None:
    # Only cleaned: an identity too long for its column is skipped with a warning where it is normalized.
    return None if value is None else clean(value)


def _identity_ref(ref: IdentityRef) -> IdentityRef:
    return replace(ref, value=clean(ref.value))
