"""Chat and messaging conversations (web chat, WhatsApp, Messenger, SMS) from JSON exports.

Four shapes are read; each file holds one of them, and ``format`` says which.

``generic``: our own format, for any tool that can write JSON::

    {
      "conversations": [
        {
          "id": "wa-2024-0517-001",        # required; unique within the exporting tool (and account)
          "account": "shop-nl",            # optional: the account (tenant) ids are unique within
          "channel": "whatsapp",           # chat | whatsapp | messenger | sms | ...; default "chat"
          "subject": "Meter swap",         # optional
          "customer": {                    # all optional; they link the conversation to a customer
            "name": "Anna de Vries",
            "phone": "+31 6 1234 5678",
            "email": "anna@example.nl",
            "handle": "anna.dv",           # user name on the channel (Messenger id, chat login, ...)
            "number": "C-10442"            # customer number in the CRM
          },
          "agent": "Sam Jansen",           # optional
          "messages": [
            {
              "id": "m1",                  # required; unique within the conversation
              "direction": "inbound",      # required: inbound (from the customer) | outbound
              "author": "Anna de Vries",   # optional
              "sent_at": "2024-05-17T09:30:00+02:00",  # required, ISO 8601; no offset means UTC
              "text": "Hello",             # may be empty when there are attachments
              "attachments": [{"name": "meter.jpg", "size": 48213, "content_type": "image/jpeg"}]
            }
          ]
        }
      ]
    }

``chatwoot``: conversation objects as Chatwoot's application API returns them
(``GET /api/v1/accounts/{account}/conversations``: ``id``, ``meta.sender`` with ``name``,
``email``, ``phone_number``, ``identifier``, ``meta.channel`` such as ``Channel::Whatsapp``,
``meta.assignee``, ``created_at`` in Unix seconds), each with ``messages`` holding the whole list
from ``GET .../conversations/{id}/messages`` (``message_type`` 0 incoming, 1 outgoing, 2 activity,
3 template; ``private`` notes; ``sender``; ``attachments`` with ``data_url`` and ``file_size``).
The file is a list of them or the API's ``{"payload": [...]}`` / ``{"data": {"payload": [...]}}``.
Shape followed: Chatwoot's swagger (``message_detailed.yml``) and its conversation and message
jbuilder views. ``identifier`` is Chatwoot's "identifier in an external system", so it is read as
a customer number. Conversation numbers count up per account, so ``account_id`` is part of the key.

``zendesk``: ``{"tickets": [...], "users": [...]}`` as ``GET /api/v2/tickets.json?include=users``
returns it, each ticket with a ``comments`` list from ``GET /api/v2/tickets/{id}/comments.json``
(``author_id``, ``public``, ``plain_body``/``body``/``html_body``, ``created_at`` ISO 8601,
``attachments`` with ``file_name``, ``size``, ``content_type``). The ticket's ``via.channel`` names
the channel (sources that are no channel, such as ``web``, ``api`` or ``sample_ticket``, give
"ticket"), its ``requester_id`` the customer: without the requester among the users, the sender
of a mail ticket (``via.source.from``), else no customer, with a note either way; a requester who
is an agent or admin is no customer. A comment by an ``agent`` or ``admin`` (or, not among the
users, by the assignee) is outbound; any other, inbound, with a note when its author is unknown.
Ticket ids count up per account
(every account's ticket 1 is Zendesk's sample ticket), so the host of the ticket's ``url``
(``acme.zendesk.com``) is part of the key. Shape followed: Zendesk's Ticket Comments and Tickets
API reference.

``trengo``: tickets as ``GET /api/v2/tickets`` returns them (``{"data": [...]}`` or a list:
``id``, ``subject``, ``contact`` with ``name``/``full_name``, ``phone``, ``email``, ``channel.type``
such as ``WA_BUSINESS``, ``CHAT``, ``SMS``, ``EMAIL``, ``agent``), each with ``messages`` from
``GET /api/v2/tickets/{id}/messages`` (``type`` INBOUND / OUTBOUND / NOTE, ``message``,
``body_type``, ``created_at`` as "YYYY-MM-DD HH:MM:SS" Amsterdam wall-clock time,
``attachments``; a media message's ``caption``, on the message, its ``meta`` or its file, is its
text). Shape followed: Trengo's API reference and webhook payload docs, and message/ticket
responses as a public Trengo client records them. The attachment fields (``client_name`` or
``file_name``, ``size``) and where a caption sits are the least certain part and are read leniently.
Ticket ids are numbered across all of Trengo, not per company, so the id alone is the key.

In every format: unknown fields are ignored; internal notes, private comments and activity
messages ("conversation resolved") are not customer contact and are skipped without a problem;
a conversation or message without its id, or with a time or direction that cannot be read,
becomes an ``ImportProblem`` and the rest of the file goes on; times end up in UTC. A time without
an offset is wall-clock time in the zone ``read_chat`` is given, else in the format's own (UTC, but
Europe/Amsterdam for Trengo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

from recorder.html_text import html_to_text
from recorder.instants import InstantError, from_unix, parse_iso
from recorder.json_files import JsonFileError, load_json
from recorder.threads import (
    Attachment,
    IdentityRef,
    ImportBatch,
    ImportedMessage,
    ImportedThread,
    ImportProblem,
    MessageDirection,
)

ChatFormat = Literal["generic", "chatwoot", "zendesk", "trengo"]

CHATWOOT_CHANNELS = {
    "Channel::WebWidget": "chat",
    "Channel::Whatsapp": "whatsapp",
    "Channel::Sms": "sms",
    "Channel::TwilioSms": "sms",
    "Channel::FacebookPage": "messenger",
    "Channel::Instagram": "instagram",
    "Channel::Telegram": "telegram",
    "Channel::Line": "line",
    "Channel::Email": "email",
    "Channel::Api": "api",
}
# ``via.channel`` values that are channels; the others name how a ticket was made (web form, api,
# a trigger's rule, Zendesk's sample_ticket, ...) and are read as a plain "ticket".
ZENDESK_CHANNELS = {
    "native_messaging": "chat",
    "messaging": "chat",
    "chat": "chat",
    "whatsapp": "whatsapp",
    "facebook": "messenger",
    "facebook_messenger": "messenger",
    "sms": "sms",
    "text": "sms",
    "email": "email",
    "voice": "voice",
    "twitter": "twitter",
    "instagram_dm": "instagram",
    "line": "line",
    "telegram": "telegram",
}
ZENDESK_STAFF = ("agent", "admin")
TRENGO_CHANNELS = {
    "WA_BUSINESS": "whatsapp",
    "WHATSAPP": "whatsapp",
    "CHAT": "chat",
    "SMS": "sms",
    "EMAIL": "email",
    "FACEBOOK": "messenger",
    "INSTAGRAM": "instagram",
    "TELEGRAM": "telegram",
    "VOIP": "voice",
}
# More digits than this (an exabyte) is no attachment; the database's INTEGER could not hold 19 of them.
_SIZE_DIGITS = 18


class UnknownChatFormat(ValueError):
    """A format name that is not one of ``ChatFormat``."""


class _Skip(Exception):
    """One conversation or message that cannot be imported; the reason becomes an ImportProblem."""


def read_chat(paths: Sequence[Path], format: ChatFormat, wall_clock: tzinfo | None = None) -> ImportBatch:
    """Every conversation of every file; ``wall_clock`` is the zone of times written without an
    offset (None: the format's own, see ``_Reader``)."""
    if format not in _READERS:
        raise UnknownChatFormat(f"unknown chat format {format!r} (expected one of {', '.join(_READERS)})")
    reader = _READERS[format]
    zone = wall_clock or reader.wall_clock
    threads: list[ImportedThread] = []
    problems: list[ImportProblem] = []
    for path in paths:
        source = str(path)
        try:
            data = load_json(path)
        except JsonFileError as exc:
            problems.append(ImportProblem(source, None, exc.reason))
            continue
        try:
            conversations = reader.conversations(data)
        except _Skip as exc:
            problems.append(ImportProblem(source, None, f"not a {format} export: {exc}"))
            continue
        for item, conversation in conversations:
            try:
                thread, notes = reader.thread(conversation, zone)
            except _Skip as exc:
                problems.append(ImportProblem(source, item, str(exc)))
                continue
            threads.append(thread)
            problems.extend(
                ImportProblem(source, f"{item} {note.part}".strip(), note.reason, note.imported)
                for note in notes
            )
    return ImportBatch(threads=tuple(threads), problems=tuple(problems))


# --- one reader per format -------------------------------------------------------------------


@dataclass(frozen=True)
class _Note:
    """A message left out of a thread (``imported`` False), or what was guessed or missing in a
    conversation imported anyway; it becomes an ImportProblem naming the conversation and ``part``."""

    part: str  # "message 31002", or "" for the conversation itself
    reason: str
    imported: bool = False


_Notes = list[_Note]


class _Reader:
    """How one export format lists its conversations and turns one into a thread, and the zone of
    the wall-clock times it writes without an offset."""

    def __init__(
        self,
        conversations: Callable[[Any], list[tuple[str, Any]]],  # (how problems name it, the conversation)
        thread: Callable[[Any, tzinfo], tuple[ImportedThread, _Notes]],
        wall_clock: tzinfo = UTC,
    ) -> None:
        self.conversations = conversations
        self.thread = thread
        self.wall_clock = wall_clock


def _generic_conversations(data: Any) -> list[tuple[str, Any]]:
    return _labelled(_list_at(data, "conversations"), "conversation")


def _generic_thread(conversation: Any, zone: tzinfo) -> tuple[ImportedThread, _Notes]:
    record = _object(conversation, "conversation")
    thread_id = _required_id(record, "id", "conversation")
    channel = _text(record, "channel") or "chat"
    customer = _object(record.get("customer") or {}, "customer")
    identities = _identities(
        phone=_text(customer, "phone"),
        email=_text(customer, "email"),
        handle=_text(customer, "handle"),
        number=_text(customer, "number"),
        channel=channel,
    )

    def message(raw: Any) -> ImportedMessage | None:
        item = _object(raw, "message")
        written = _text(item, "direction")
        if written not in ("inbound", "outbound"):
            raise _Skip(f"direction {written!r} is not inbound or outbound")
        direction = cast(MessageDirection, written)
        attachments = tuple(
            Attachment(
                name=_text(a, "name") or "unnamed",
                size_bytes=_size(a.get("size")),
                content_type=_text(a, "content_type"),
            )
            for a in _objects(item.get("attachments"))
        )
        return _message(
            message_id=_required_id(item, "id", "message"),
            direction=direction,
            author=_text(item, "author"),
            identities=identities if direction == "inbound" else (),
            sent_at=_required_time(item, "sent_at", zone),
            body=_text(item, "text") or "",
            attachments=attachments,
        )

    messages, skipped = _messages(record.get("messages"), message)
    return _thread(
        channel=channel,
        provider="generic",
        provider_id=thread_id,
        provider_account=_text(record, "account") or "",
        subject=_text(record, "subject"),
        identities=identities,
        customer_name=_text(customer, "name"),
        agent=_text(record, "agent"),
        created_at=None,
        messages=messages,
    ), skipped


def _chatwoot_conversations(data: Any) -> list[tuple[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    return _labelled(data if isinstance(data, list) else _list_at(data, "payload"), "conversation")


def _chatwoot_thread(conversation: Any, zone: tzinfo) -> tuple[ImportedThread, _Notes]:
    record = _object(conversation, "conversation")
    thread_id = _required_id(record, "id", "conversation")
    meta = _object(record.get("meta") or {}, "meta")
    contact = _object(meta.get("sender") or {}, "meta.sender")
    channel_type = _text(meta, "channel") or ""
    channel = CHATWOOT_CHANNELS.get(channel_type) or channel_type.removeprefix("Channel::").lower() or "chat"
    identities = _identities(
        phone=_text(contact, "phone_number"),
        email=_text(contact, "email"),
        number=_text(contact, "identifier"),
        channel=channel,
    )
    assignee = meta.get("assignee")
    raw_messages = record.get("messages")
    if isinstance(raw_messages, dict):  # the messages endpoint's own {"payload": [...]} pasted as is
        raw_messages = raw_messages.get("payload")

    def message(raw: Any) -> ImportedMessage | None:
        item = _object(raw, "message")
        message_id = _required_id(item, "id", "message")
        kind = item.get("message_type")
        if kind == 2 or item.get("private") is True:  # activity lines and internal notes
            return None
        if kind not in (0, 1, 3):
            raise _Skip(f"message_type {kind!r} is not 0, 1, 2 or 3")
        direction: MessageDirection = "inbound" if kind == 0 else "outbound"
        sender = _member(item, "sender")
        attachments = tuple(
            Attachment(
                name=_file_name(_text(a, "data_url")) or _text(a, "file_type") or "file",
                size_bytes=_size(a.get("file_size")),
                content_type=None,
            )
            for a in _objects(item.get("attachments"))
        )
        author_ids = _identities(
            phone=_text(sender, "phone_number"), email=_text(sender, "email"), channel=channel
        )
        return _message(
            message_id=message_id,
            direction=direction,
            author=_text(sender, "name"),
            identities=author_ids if direction == "inbound" else (),
            sent_at=_required_time(item, "created_at", zone),
            body=_text(item, "content") or "",
            attachments=attachments,
        )

    messages, skipped = _messages(raw_messages, message)
    agent = _text(assignee, "name") if isinstance(assignee, dict) else None
    return _thread(
        channel=channel,
        provider="chatwoot",
        provider_id=thread_id,
        provider_account=_text(record, "account_id"),
        subject=None,
        identities=identities,
        customer_name=_text(contact, "name"),
        agent=agent or _first_outbound_author(messages),
        created_at=_time(record.get("created_at"), "created_at", zone),
        messages=messages,
    ), skipped


def _zendesk_conversations(data: Any) -> list[tuple[str, Any]]:
    tickets = _list_at(data, "tickets")
    users = {str(user.get("id")): user for user in _objects(data.get("users"))}
    # Each ticket is read together with the users it refers to.
    return [(label, (ticket, users)) for label, ticket in _labelled(tickets, "ticket")]


def _zendesk_thread(
    entry: tuple[Any, dict[str, dict[str, Any]]], zone: tzinfo
) -> tuple[ImportedThread, _Notes]:
    ticket, users = entry
    record = _object(ticket, "ticket")
    thread_id = _required_id(record, "id", "ticket")
    via = _member(record, "via")
    channel = ZENDESK_CHANNELS.get((_text(via, "channel") or "").lower(), "ticket")
    requester_id = _text(record, "requester_id")
    assignee_id = _text(record, "assignee_id")
    requester, notes = _zendesk_requester(users, requester_id, via)
    customer = requester if requester.get("role") not in ZENDESK_STAFF else {}

    def message(raw: Any) -> ImportedMessage | None:
        item = _object(raw, "comment")
        message_id = _required_id(item, "id", "comment")
        if item.get("public") is False:  # internal note
            return None
        author_id = _text(item, "author_id")
        author = requester if author_id == requester_id else users.get(author_id or "", {})
        role = author.get("role")
        if role in ZENDESK_STAFF or (not role and author_id == assignee_id):
            inbound = False
        else:
            inbound = True
            if not role and author_id != requester_id:
                notes.append(
                    _Note(
                        f"comment {message_id}",
                        f"author {author_id} is not among the export's users (export with include=users); "
                        "taken as the customer's",
                        imported=True,
                    )
                )
        html = _text(item, "html_body")
        body = _text(item, "plain_body") or _text(item, "body") or (html_to_text(html) if html else "")
        return _message(
            message_id=message_id,
            direction="inbound" if inbound else "outbound",
            author=_text(author, "name"),
            identities=_zendesk_identities(author, channel) if inbound else (),
            sent_at=_required_time(item, "created_at", zone),
            body=body,
            attachments=tuple(
                Attachment(
                    name=_text(a, "file_name") or "unnamed",
                    size_bytes=_size(a.get("size")),
                    content_type=_text(a, "content_type"),
                )
                for a in _objects(item.get("attachments"))
            ),
        )

    messages, skipped = _messages(record.get("comments"), message)
    assignee = users.get(assignee_id or "", {})
    return _thread(
        channel=channel,
        provider="zendesk",
        provider_id=thread_id,
        provider_account=_host(_text(record, "url")),
        subject=_text(record, "subject"),
        identities=_zendesk_identities(customer, channel),
        customer_name=_text(customer, "name"),
        agent=_text(assignee, "name") or _first_outbound_author(messages),
        created_at=_time(record.get("created_at"), "created_at", zone),
        messages=messages,
    ), notes + skipped


def _zendesk_requester(
    users: dict[str, dict[str, Any]], requester_id: str | None, via: dict[str, Any]
) -> tuple[dict[str, Any], _Notes]:
    """The ticket's requester as a user record, and a note when the export does not hold them.

    ``include=users`` sideloads the requester, but an export cut into pages or joined by hand can
    lose them; then the sender of a mail ticket (``via.source.from``) still names the customer.
    A requester who is an agent or admin (a ticket staff opened for themselves) is no customer."""
    requester = users.get(requester_id or "")
    if requester is not None:
        notes = []
        if requester.get("role") in ZENDESK_STAFF:
            notes.append(
                _Note("", f"requester {requester_id} is {requester['role']}, not a customer", imported=True)
            )
        return requester, notes
    source = _member(via, "source")
    sender = _member(source, "from")
    address = _text(sender, "address")
    if address:
        found = {"email": address, "name": _text(sender, "name"), "role": "end-user"}
        return found, [
            _Note(
                "",
                f"requester {requester_id} is not among the export's users; the customer is the "
                f"ticket's sender {address}",
                imported=True,
            )
        ]
    return {}, [
        _Note(
            "",
            f"requester {requester_id} is not among the export's users (export with include=users); "
            "the ticket has no customer",
            imported=True,
        )
    ]


def _zendesk_identities(user: dict[str, Any], channel: str) -> tuple[IdentityRef, ...]:
    return _identities(
        phone=_text(user, "phone"),
        email=_text(user, "email"),
        number=_text(user, "external_id"),
        channel=channel,
    )


def _trengo_conversations(data: Any) -> list[tuple[str, Any]]:
    return _labelled(data if isinstance(data, list) else _list_at(data, "data"), "ticket")


def _trengo_thread(ticket: Any, zone: tzinfo) -> tuple[ImportedThread, _Notes]:
    record = _object(ticket, "ticket")
    thread_id = _required_id(record, "id", "ticket")
    channel_info = _member(record, "channel")
    channel_type = (_text(channel_info, "type") or "").upper()
    channel = TRENGO_CHANNELS.get(channel_type) or channel_type.lower() or "chat"
    contact = _member(record, "contact")
    identities = _identities(phone=_text(contact, "phone"), email=_text(contact, "email"), channel=channel)
    customer_name = _text(contact, "full_name") or _text(contact, "name")
    raw_messages = record.get("messages")
    if isinstance(raw_messages, dict):  # the messages endpoint's own {"data": [...]} pasted as is
        raw_messages = raw_messages.get("data")

    def message(raw: Any) -> ImportedMessage | None:
        item = _object(raw, "message")
        message_id = _required_id(item, "id", "message")
        kind = _text(item, "type")
        if kind == "NOTE":
            return None
        if kind not in ("INBOUND", "OUTBOUND"):
            raise _Skip(f"type {kind!r} is not INBOUND, OUTBOUND or NOTE")
        files = list(_objects(item.get("attachments")))
        if not files and _text(item, "file_name"):
            files = [{"file_name": item["file_name"]}]
        text = _trengo_text(item, files)
        agent = item.get("agent") or item.get("user")
        agent_name = (_text(agent, "full_name") or _text(agent, "name")) if isinstance(agent, dict) else None
        return _message(
            message_id=message_id,
            direction="inbound" if kind == "INBOUND" else "outbound",
            author=customer_name if kind == "INBOUND" else agent_name,
            identities=identities if kind == "INBOUND" else (),
            sent_at=_required_time(item, "created_at", zone),
            body=text,
            attachments=tuple(
                Attachment(
                    name=_text(f, "client_name") or _text(f, "file_name") or _text(f, "name") or "unnamed",
                    size_bytes=_size(f.get("size")),
                    content_type=_text(f, "mime_type") or _text(f, "content_type"),
                )
                for f in files
            ),
        )

    messages, skipped = _messages(raw_messages, message)
    agent = record.get("agent") or record.get("user")
    agent_name = (_text(agent, "full_name") or _text(agent, "name")) if isinstance(agent, dict) else None
    return _thread(
        channel=channel,
        provider="trengo",
        provider_id=thread_id,
        provider_account="",
        subject=_text(record, "subject"),
        identities=identities,
        customer_name=customer_name,
        agent=agent_name or _first_outbound_author(messages),
        created_at=_time(record.get("created_at"), "created_at", zone),
        messages=messages,
    ), skipped


# What Trengo writes as the text of a media message that has no words of its own.
_TRENGO_MEDIA_LABELS = frozenset({"image", "video", "audio", "voice", "document", "file", "sticker"})


def _trengo_text(item: dict[str, Any], files: list[dict[str, Any]]) -> str:
    """A message's words. A picture, video or document sent with a caption (WhatsApp's, or the
    ``caption`` of Trengo's media endpoint) carries the caption beside the file: the caption is
    the customer's words, and a bare media label such as "Image" is no text of theirs."""
    text = _text(item, "message") or _text(item, "body") or ""
    if (_text(item, "body_type") or "").upper() == "HTML":
        text = html_to_text(text)
    captions = [_text(item, "caption"), _text(_member(item, "meta"), "caption")]
    captions += [_text(f, "caption") for f in files]
    caption = "\n".join(dict.fromkeys(c for c in captions if c and c != text))
    if not caption:
        return text
    return caption if text.strip().lower() in _TRENGO_MEDIA_LABELS | {""} else f"{text}\n{caption}"


_READERS: dict[str, _Reader] = {
    "generic": _Reader(_generic_conversations, _generic_thread),
    "chatwoot": _Reader(_chatwoot_conversations, _chatwoot_thread),
    "zendesk": _Reader(_zendesk_conversations, _zendesk_thread),
    # Trengo writes message times as Amsterdam wall-clock time (it is a Dutch service; the same
    # export gives tickets' times in ISO UTC, an hour or two earlier).
    "trengo": _Reader(_trengo_conversations, _trengo_thread, ZoneInfo("Europe/Amsterdam")),
}


# --- shared pieces ---------------------------------------------------------------------------


def _messages(
    raw: Any, read: Callable[[Any], ImportedMessage | None]
) -> tuple[tuple[ImportedMessage, ...], _Notes]:
    """Read every message; one that fails is reported and left out, the others stay."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise _Skip(f"messages: expected a list, got {_json_type(raw)}")
    messages: list[ImportedMessage] = []
    skipped: _Notes = []
    for index, item in enumerate(raw, start=1):
        try:
            message = read(item)
        except _Skip as exc:
            label = item.get("id") if isinstance(item, dict) and item.get("id") is not None else f"#{index}"
            skipped.append(_Note(f"message {label}", str(exc)))
            continue
        if message is not None:
            messages.append(message)
    return tuple(messages), skipped


def _message(
    *,
    message_id: str,
    direction: MessageDirection,
    author: str | None,
    identities: tuple[IdentityRef, ...],
    sent_at: datetime,
    body: str,
    attachments: tuple[Attachment, ...],
) -> ImportedMessage:
    return ImportedMessage(
        provider_message_id=message_id,
        direction=direction,
        author=author,
        author_identities=identities,
        sent_at=sent_at,
        body=body.strip(),
        quoted=None,  # chat messages do not quote the conversation back
        attachments=attachments,
        subject=None,
    )


def _thread(
    *,
    channel: str,
    provider: str,
    provider_id: str,
    provider_account: str | None,
    subject: str | None,
    identities: tuple[IdentityRef, ...],
    customer_name: str | None,
    agent: str | None,
    created_at: datetime | None,
    messages: tuple[ImportedMessage, ...],
) -> ImportedThread:
    ordered = tuple(sorted(messages, key=lambda m: (m.sent_at, m.provider_message_id)))
    return ImportedThread(
        channel=channel,
        provider=provider,
        provider_id=provider_id,
        provider_account=provider_account,
        subject=subject,
        customer_identities=identities,
        customer_name=customer_name,
        agent=agent,
        started_at=created_at or (ordered[0].sent_at if ordered else None),
        messages=ordered,
    )


def _identities(
    *,
    phone: str | None = None,
    email: str | None = None,
    handle: str | None = None,
    number: str | None = None,
    channel: str,
) -> tuple[IdentityRef, ...]:
    found = (
        IdentityRef("phone", phone) if phone else None,
        IdentityRef("email", email) if email else None,
        IdentityRef("chat_handle", handle, channel) if handle else None,
        IdentityRef("customer_number", number) if number else None,
    )
    return tuple(identity for identity in found if identity is not None)


def _first_outbound_author(messages: Iterable[ImportedMessage]) -> str | None:
    return next((m.author for m in messages if m.direction == "outbound" and m.author), None)


def _labelled(items: list[Any], noun: str) -> list[tuple[str, Any]]:
    def label(index: int, item: Any) -> str:
        known = _text(item, "id") if isinstance(item, dict) else None
        return f"{noun} {known}" if known else f"{noun} #{index}"

    return [(label(index, item), item) for index, item in enumerate(items, start=1)]


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Skip(f"{what}: expected an object, got {_json_type(value)}")
    return value


def _member(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """An optional object field; anything else there reads as an empty object, like a missing one."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    """The objects of an optional list; anything else in it is ignored like an unknown field."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _list_at(data: Any, key: str) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return data[key]
    raise _Skip(f"expected an object with a {key!r} list, got {_json_type(data)}")


def _text(obj: dict[str, Any] | None, key: str) -> str | None:
    """A field as text: numbers become text (APIs give ids and phone numbers as either), blanks None."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return str(value).strip() or None
    return None


def _required_id(obj: dict[str, Any], key: str, what: str) -> str:
    value = _text(obj, key)
    if value is None:
        raise _Skip(f"{what} has no {key!r}, so it could not be recognised on re-import")
    return value


def _required_time(obj: dict[str, Any], key: str, zone: tzinfo) -> datetime:
    moment = _time(obj.get(key), key, zone)
    if moment is None:
        raise _Skip(f"no {key!r} time")
    return moment


def _time(value: Any, key: str, zone: tzinfo) -> datetime | None:
    """ISO 8601 text or Unix seconds, in UTC; a time without an offset is wall-clock time in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Skip(f"{key}: expected an ISO 8601 time, got {_json_type(value)}")
    try:
        return parse_iso(value, zone) if isinstance(value, str) else from_unix(value)
    except InstantError as exc:
        raise _Skip(f"{key}: {exc}") from exc


def _size(value: Any) -> int | None:
    """A size in bytes, or None (unknown) for anything else: it is only shown, never relied on."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value) if len(value.strip()) <= _SIZE_DIGITS else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _host(url: str | None) -> str | None:
    """The account a Zendesk ticket belongs to: its API url's host (``acme.zendesk.com``)."""
    return (urlparse(url).hostname or None) if url else None


def _file_name(url: str | None) -> str | None:
    if not url:
        return None
    return unquote(Path(urlparse(url).path).name) or None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
