"""E-mail threads from ``.eml`` files, ``.mbox`` mailboxes and Outlook ``.msg`` files.

Messages from all the given files are threaded together (a mailbox, a few loose ``.eml`` files
and a reply saved from Outlook may hold one conversation): by ``Message-ID`` / ``In-Reply-To`` /
``References``, joined with a union-find so that two replies to a message that is not in the
import still meet. When a reply names no message of the import (clients that drop the headers,
forwards), it joins the latest earlier message with the same subject (less Re:/Fwd:/AW:/Odp:/Antw:
prefixes) and the same external participants within 30 days; only replies (subject with such a
prefix) are joined this way, so two separate mails that happen to share a subject stay apart.

Direction comes from ``own_addresses``, the organisation's addresses: mail from one of them is
outbound, everything else inbound. An entry ``@example.com`` covers the whole domain. Without
own addresses every message counts as inbound and every sender as the customer.

Each message is decoded on its own, and one that cannot be read becomes an ``ImportProblem``
while the rest goes on: no From address, broken MIME structure, a multipart that ends before
its closing boundary (the usual sign of a truncated mailbox; a mailbox whose last message has
no final newline is truncated too). Smaller faults are imported with a problem note: a missing
or unreadable Date (``sent_at`` is None), an unknown charset (read as UTF-8 with replacement
characters). A message without a ``Message-ID`` gets a stable one from a hash of its sender,
date, subject and text, so that importing it again is recognised. A ``.msg`` file is read by
recorder.msg_reading into the same ``Mail`` (recorder.mail) as an ``.eml``, so it threads with the
others; a damaged ``.msg``, or one that holds a contact or calendar item, is one problem.
"""

from __future__ import annotations

import codecs
import email
import mailbox
import mimetypes
import re
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import parsedate_to_datetime
from pathlib import Path

from recorder.charsets import decode, header_text
from recorder.html_text import html_to_text
from recorder.instants import InstantError, to_utc
from recorder.mail import Mail, assemble_mail, message_ids
from recorder.quoting import FORWARD_MARKER
from recorder.threads import (
    Attachment,
    IdentityRef,
    ImportBatch,
    ImportedMessage,
    ImportedThread,
    ImportProblem,
    MessageFacts,
    distinguishing_facts,
)

SUBJECT_FALLBACK_WINDOW = timedelta(days=30)

# Reply and forward prefixes of English, Dutch, Polish, German and Scandinavian clients ("Re[2]:" too).
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|odp|pd|antw|doorst|sv|vs|tr)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*]+)(?:\*[^?]*)?\?[bBqQ]\?")
# Defects after which the parts of a multipart cannot be told apart. In the mail itself they keep
# it out; inside a message attached to it, that message is read as far as it goes, with a note.
_FATAL_DEFECTS: dict[type[errors.MessageDefect], str] = {
    errors.NoBoundaryInMultipartDefect: "broken MIME: multipart without a boundary",
    errors.StartBoundaryNotFoundDefect: "broken MIME: the multipart boundary never occurs",
    errors.MultipartInvariantViolationDefect: "broken MIME: multipart structure is inconsistent",
}
# A missing closing boundary: every part was read, but the last may have been cut short. A cut in a
# mailbox shows in its last line instead (see _read_mbox).
# boundary=, name= or filename= with an unquoted value holding what a token may not (= / ? space ...),
# in a Content-Type or Content-Disposition header line or a folded continuation of one.
_UNQUOTED_PARAMETER = re.compile(
    rb"(?im)^((?:(?:content-type|content-disposition):[^\r\n]*?;|[ \t][^\r\n]*?;|[ \t]+)"
    rb"[ \t]*(?:boundary|name|filename)[ \t]*=[ \t]*)"
    rb'(?![" \t])([^;\r\n]*?[=/?()<>@,:\\\[\] \t][^;\r\n]*?)(?=[ \t]*(?:;|\r?$))'
)
_ATTACHED_MAIL_TYPES = frozenset({"message/rfc822", "message/global"})
_NO_CLOSING_BOUNDARY = "the closing MIME boundary is missing: the end of the mail may be cut off"


def read_email(paths: Sequence[Path], *, own_addresses: Collection[str] = ()) -> ImportBatch:
    own = frozenset(address.strip().lower() for address in own_addresses)
    # The same mail in two files (an .eml and a mailbox, an Outlook copy) is one mail. Another mail
    # under a taken Message-ID is kept; storage keeps it apart and says so.
    mails: dict[tuple[str, MessageFacts], Mail] = {}
    problems: list[ImportProblem] = []
    for path in paths:
        for result in _read_file(Path(path)):
            if isinstance(result, ImportProblem):
                problems.append(result)
                continue
            key = (result.message_id, distinguishing_facts(result.sent_at, result.author))
            if mails.setdefault(key, result) is result:
                problems.extend(result.notes)
    threads = tuple(_build_thread(group, own) for group in _group_into_threads(list(mails.values()), own))
    return ImportBatch(threads=threads, problems=tuple(problems))


def _read_file(path: Path) -> Iterator[Mail | ImportProblem]:
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as stream:
            head = stream.read(5)
    except OSError as exc:
        yield ImportProblem(str(path), None, f"cannot read: {exc.strerror}")
        return
    if suffix == ".msg":
        # Imported here, not at the top: extract-msg takes about 0.4 s to import, and only .msg files need it.
        from recorder.msg_reading import read_msg

        yield read_msg(path)
    elif suffix == ".eml":
        yield _decode(path.read_bytes(), str(path), None, truncated=False)
    elif suffix == ".mbox" or head == b"From ":
        yield from _read_mbox(path)
    else:
        yield ImportProblem(
            str(path), None, "not an e-mail file (expected .eml, .msg, .mbox or an mbox mailbox)"
        )


def _read_mbox(path: Path) -> Iterator[Mail | ImportProblem]:
    box = mailbox.mbox(path, create=False)
    try:
        keys = list(box.keys())
        if not keys:
            yield ImportProblem(str(path), None, "no messages found (each starts with a 'From ' line)")
            return
        # mbox writers end every message with a blank line; a last message without one was cut off.
        with path.open("rb") as stream:
            stream.seek(-1, 2)
            cut_off = stream.read(1) != b"\n"
        for number, key in enumerate(keys, start=1):
            raw = box.get_bytes(key)
            yield _decode(raw, str(path), f"message {number}", truncated=cut_off and number == len(keys))
    finally:
        box.close()


def _decode(raw: bytes, source: str, label: str | None, *, truncated: bool) -> Mail | ImportProblem:
    item = label
    try:
        message = email.message_from_bytes(_quote_parameters(raw), _class=EmailMessage, policy=policy.default)
        item = _describe(message, label)
        if truncated:
            return ImportProblem(source, item, "truncated: the file ends in the middle of this message")
        fatal = _fatal_defect(message)
        if fatal:
            return ImportProblem(source, item, fatal)
        return _read_message(message, source, item)
    except RecursionError:
        # The email package parses and walks nested parts (and header comments) recursively.
        return ImportProblem(source, item, "broken MIME: parts or headers nested too deeply to read")
    except (LookupError, ValueError, TypeError, IndexError, AttributeError, errors.MessageError) as exc:
        # The email package raises these from deep inside header and payload parsing on malformed input.
        return ImportProblem(source, item, f"cannot decode: {exc}")


def _quote_parameters(raw: bytes) -> bytes:
    """``raw`` with the unquoted MIME parameters that real clients write put in quotes.

    Outlook Express and JavaMail write ``boundary=----=_NextPart_000_...`` and others
    ``filename=This is my file.pdf`` without the quotes RFC 2045 asks for; the parser then takes
    the value up to the first ``=`` or space ("----", "This"), never finds the boundary and refuses
    the mail, or cuts the file name. Quoted, both read as their writers meant them."""
    return _UNQUOTED_PARAMETER.sub(lambda m: m[1] + b'"' + m[2].replace(b'"', b"'") + b'"', raw)


def _fatal_defect(message: MIMEPart) -> str | None:
    for part in _own_parts(message):
        for defect in part.defects:
            for kind, reason in _FATAL_DEFECTS.items():
                if isinstance(defect, kind):
                    return reason
    return None


def _own_parts(message: MIMEPart) -> Iterator[MIMEPart]:
    """The message and its parts, not those of a message attached to it (see ``_attached_messages``)."""
    yield message
    if message.get_content_maintype() == "multipart":
        for part in message.iter_parts():
            yield from _own_parts(part)


def _attached_messages(message: MIMEPart) -> Iterator[tuple[MIMEPart, EmailMessage]]:
    """(part, the message in it) for each mail attached to this one: a forward as an attachment,
    the entries of a digest."""
    for part in _own_parts(message):
        payload = part.get_payload() if part.get_content_type() in _ATTACHED_MAIL_TYPES else None
        if isinstance(payload, list) and payload and isinstance(payload[0], EmailMessage):
            yield part, payload[0]


def _describe(message: EmailMessage, label: str | None) -> str | None:
    """How a problem names the message: its place in a mailbox and its Message-ID, where known."""
    try:
        ids = message_ids(message.get("Message-ID"))
    except (ValueError, errors.MessageError):
        ids = []
    named = f"<{ids[0]}>" if ids else None
    return " ".join(part for part in (label, named) if part) or None


def _read_message(message: EmailMessage, source: str, item: str | None) -> Mail | ImportProblem:
    notes: list[str] = []
    senders = _addresses(message, "From", notes)
    if not senders:
        if not any(message.get(name) for name in ("Date", "Message-ID", "Subject")):
            return ImportProblem(source, item, "not an e-mail message (no From, Date, Message-ID or Subject)")
        return ImportProblem(source, item, "no From address, so it cannot be linked to anyone")
    for name, charset in _unknown_header_charsets(message):
        notes.append(f"header {name}: unknown charset {charset!r}, read as UTF-8")
    subject = message.get("Subject")
    date = message.get("Date")  # header parsing is most of the import's time: each header is read once
    sent_at, date_note = _sent_at(date)
    if date_note:
        notes.append(date_note)
    text = _content(message, notes)
    own_ids = message_ids(message.get("Message-ID"))
    return assemble_mail(
        source=source,
        item=item,
        message_id=own_ids[0] if own_ids else None,
        references=message_ids(message.get("References")) + message_ids(message.get("In-Reply-To")),
        subject=None if subject is None else _header(str(subject), "Subject", notes),
        sender=senders[0],
        recipients=_addresses(message, "To", notes),
        copied=_addresses(message, "Cc", notes),
        sent_at=sent_at,
        date_text=None if date is None else str(date),
        text=text,
        attachments=_attachments(message, notes),
        notes=notes,
    )


def _content(message: MIMEPart, notes: list[str]) -> str:
    """The text of a message and, after it, of each message attached to it: a mail forwarded as an
    attachment (or a digest) is content, not a file to list by name only."""
    body_part = message.get_body(preferencelist=("plain", "html"))
    text, body_note = _body_text(body_part)
    if not text.strip() and body_part is not None and body_part.get_content_subtype() == "plain":
        # Some senders put an empty plain part beside the HTML that holds the words.
        html_part = message.get_body(preferencelist=("html",))
        if html_part is not None:
            text, body_note = _body_text(html_part)
    if body_note:
        notes.append(body_note)
    if any(isinstance(d, errors.CloseBoundaryNotFoundDefect) for p in _own_parts(message) for d in p.defects):
        notes.append(_NO_CLOSING_BOUNDARY)
    for _, attached in _attached_messages(message):
        text = f"{text.rstrip()}\n\n{_forwarded(attached, notes)}".lstrip()
    return text


def _forwarded(message: EmailMessage, notes: list[str]) -> str:
    """An attached message as a forward is written into a body: its headers, then its content."""
    own: list[str] = []
    fatal = _fatal_defect(message)
    if fatal:
        own.append(f"{fatal}; read as far as it goes")
    headers = [
        f"{name}: {_header(str(message[name]), name, own)}"
        for name in ("From", "Date", "Subject", "To")
        if message[name] is not None
    ]
    text = _content(message, own)
    subject = message["Subject"]
    notes.extend(
        f"attached message {str(subject)!r}: {note}" if subject else f"attached message: {note}"
        for note in own
    )
    return "\n".join([FORWARD_MARKER, *headers, "", text])


def _header(value: str, name: str, notes: list[str]) -> str:
    """A header value with raw 8-bit bytes in it decoded (see recorder.charsets)."""
    decoded = header_text(value)
    if decoded.note:
        notes.append(f"header {name}: {decoded.note}")
    return decoded.text


def _addresses(message: EmailMessage, name: str, notes: list[str]) -> list[Address]:
    found: list[Address] = []
    for header in message.get_all(name) or ():
        for address in getattr(header, "addresses", ()):
            if not address.addr_spec.strip("@<>"):
                continue
            display_name = _header(address.display_name, name, notes)
            username, domain = header_text(address.username).text, header_text(address.domain).text
            if (display_name, username, domain) != (address.display_name, address.username, address.domain):
                # Built from its parts: an internationalized address (RFC 6532) parses as an addr_spec
                # only in a UTF-8 policy, and the mail was already parsed under another.
                address = Address(display_name=display_name, username=username, domain=domain)
            found.append(address)
    return found


def _unknown_header_charsets(message: EmailMessage) -> Iterator[tuple[str, str]]:
    for name, value in message.raw_items():
        for charset in _ENCODED_WORD_CHARSET.findall(str(value)):
            if not _known_charset(charset):
                yield name, charset


def _known_charset(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def _sent_at(value: object) -> tuple[datetime | None, str | None]:
    if value is None:
        return None, "no Date header; its time is unknown"
    try:
        moment = parsedate_to_datetime(str(value))
    except (ValueError, TypeError, IndexError):
        return None, f"unreadable Date header {str(value)!r}; its time is unknown"
    try:
        # RFC 5322's "-0000" (no zone information) gives a naive time; it is UTC by definition.
        return to_utc(moment), None
    except InstantError as exc:
        return None, f"Date header {exc}; its time is unknown"


def _body_text(part: MIMEPart | None) -> tuple[str, str | None]:
    """The message text, plain text preferred over HTML, and a note when its charset was not
    the one declared (see recorder.charsets)."""
    if part is None:
        return "", None
    payload = part.get_payload(decode=True)
    decoded = decode(payload if isinstance(payload, bytes) else b"", part.get_content_charset() or "us-ascii")
    text = decoded.text.replace("\r\n", "\n")
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text, decoded.note


def _attachments(message: EmailMessage, notes: list[str]) -> Iterator[Attachment]:
    """Every file sent with the mail (and with the mails attached to it), and each attached mail."""
    body = message.get_body(preferencelist=("plain", "html"))
    for part in message.walk():
        if part.get_content_maintype() == "multipart" or not _is_attachment(part, body):
            continue
        name = part.get_filename() or _attached_mail_name(part)
        payload = part.get_payload(decode=True)
        yield Attachment(
            name=_header(name, "attachment name", notes) if name else _unnamed(part),
            size_bytes=len(payload) if isinstance(payload, bytes) else None,
            content_type=part.get_content_type(),
        )


def _unnamed(part: MIMEPart) -> str:
    """A name for a file sent without one: the last step of its Content-Location (Apple Mail's
    inline pictures carry one), else "unnamed" with the extension of its type."""
    location = str(part.get("Content-Location") or "").strip().rstrip("/").rpartition("/")[2]
    return location or "unnamed" + (mimetypes.guess_extension(part.get_content_type()) or "")


def _attached_mail_name(part: MIMEPart) -> str | None:
    """An attached mail without a file name is named after its subject, as mail clients save it."""
    payload = part.get_payload() if part.get_content_type() in _ATTACHED_MAIL_TYPES else None
    if not (isinstance(payload, list) and payload and isinstance(payload[0], EmailMessage)):
        return None
    subject = " ".join(str(payload[0]["Subject"] or "").split())
    return f"{subject or 'message'}.eml"


def _is_attachment(part: MIMEPart, body: MIMEPart | None) -> bool:
    """A file or an attached mail; delivery reports (message/delivery-status) are neither, nor are
    the other forms of the text (the HTML beside the plain text). An image or other file without a
    name (Apple Mail's inline pictures) is a file all the same."""
    if part is body:
        return False
    if part.get_content_type() in _ATTACHED_MAIL_TYPES:
        return True
    if part.get_filename() is not None or part.get_content_disposition() == "attachment":
        return True
    return part.get_content_maintype() not in ("text", "message", "multipart")


def normalize_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes, case- and space-insensitive."""
    return " ".join(_REPLY_PREFIX.sub("", subject or "").split()).casefold()


def _is_reply_subject(subject: str | None) -> bool:
    return bool(subject) and _REPLY_PREFIX.match(subject or "") is not None


def _is_own(address: str, own: frozenset[str]) -> bool:
    address = address.lower()
    return address in own or "@" + address.rpartition("@")[2] in own


def _sent_by_us(mail: Mail, own: frozenset[str]) -> bool:
    return mail.sender_in_organisation or _is_own(mail.sender.addr_spec, own)


def _participants(mail: Mail, own: frozenset[str]) -> frozenset[str]:
    everyone = (*(() if mail.sender_in_organisation else (mail.sender,)), *mail.recipients, *mail.copied)
    return frozenset(a.addr_spec.lower() for a in everyone if not _is_own(a.addr_spec, own))


class _UnionFind:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self._parent.setdefault(key, key)
        root = key
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[key] != root:  # path compression keeps long threads cheap
            self._parent[key], key = root, self._parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        self._parent[self.find(a)] = self.find(b)


def _group_into_threads(mails: list[Mail], own: frozenset[str]) -> list[list[Mail]]:
    links = _UnionFind()
    for mail in mails:
        for reference in mail.references:
            links.union(mail.message_id, reference)
    sizes: dict[str, int] = {}
    for mail in mails:
        root = links.find(mail.message_id)
        sizes[root] = sizes.get(root, 0) + 1
    _join_by_subject([m for m in mails if sizes[links.find(m.message_id)] == 1], mails, own, links)
    groups: dict[str, list[Mail]] = {}
    for mail in mails:
        groups.setdefault(links.find(mail.message_id), []).append(mail)
    threads = [sorted(group, key=_time_order) for group in groups.values()]
    return sorted(threads, key=lambda thread: _time_order(thread[0]))


def _join_by_subject(loners: list[Mail], mails: list[Mail], own: frozenset[str], links: _UnionFind) -> None:
    """Join replies that name no message of the import to the latest earlier mail of their conversation."""
    by_key: dict[tuple[str, frozenset[str]], list[Mail]] = {}
    for mail in mails:
        if mail.sent_at is not None and normalize_subject(mail.subject):
            by_key.setdefault((normalize_subject(mail.subject), _participants(mail, own)), []).append(mail)
    for mail in loners:
        if mail.sent_at is None or not _is_reply_subject(mail.subject):
            continue
        key = (normalize_subject(mail.subject), _participants(mail, own))
        earlier = [
            other
            for other in by_key.get(key, ())
            if other is not mail
            and other.sent_at is not None
            and timedelta(0) <= mail.sent_at - other.sent_at <= SUBJECT_FALLBACK_WINDOW
        ]
        if earlier:
            links.union(mail.message_id, max(earlier, key=_time_order).message_id)


def _time_order(mail: Mail) -> tuple[bool, datetime, str]:
    return (mail.sent_at is None, mail.sent_at or datetime.min.replace(tzinfo=UTC), mail.message_id)


def _build_thread(mails: list[Mail], own: frozenset[str]) -> ImportedThread:
    messages = tuple(_to_message(mail, own) for mail in mails)
    first = mails[0]
    customers: dict[str, IdentityRef] = {}
    customer_name = agent = None
    for mail, message in zip(mails, messages, strict=True):
        if message.direction == "inbound":
            external: tuple[Address, ...] = (mail.sender,)
            customer_name = customer_name or mail.sender.display_name or None
        else:
            external = tuple(a for a in mail.recipients if not _is_own(a.addr_spec, own))
            agent = agent or message.author
        for address in external:
            customers.setdefault(address.addr_spec.lower(), IdentityRef("email", address.addr_spec))
    return ImportedThread(
        channel="email",
        provider="email",
        # The thread's root: the oldest message that its earliest known message names, else itself.
        # A later export that adds replies (or the root itself) gives the same id.
        provider_id=first.references[0] if first.references else first.message_id,
        subject=first.subject,
        customer_identities=tuple(customers.values()),
        customer_name=customer_name,
        agent=agent,
        started_at=first.sent_at,
        messages=messages,
    )


def _to_message(mail: Mail, own: frozenset[str]) -> ImportedMessage:
    return ImportedMessage(
        provider_message_id=mail.message_id,
        direction="outbound" if _sent_by_us(mail, own) else "inbound",
        author=mail.author,
        author_identities=()
        if mail.sender_in_organisation
        else (IdentityRef("email", mail.sender.addr_spec),),
        sent_at=mail.sent_at,
        body=mail.body,
        quoted=mail.quoted,
        attachments=mail.attachments,
        subject=mail.subject,
    )
