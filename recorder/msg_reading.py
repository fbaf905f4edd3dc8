"""Outlook ``.msg`` files as mails for the e-mail import.

A ``.msg`` is not MIME but an OLE compound file of MAPI properties, read here with extract-msg
(the maintained reader). The properties are taken the way Exchange maps them to and from internet
headers (MS-OXCMAIL), so a mail saved from Outlook gets the ids, addresses and time its ``.eml``
copy would have and threads with it: From is the "sent representing" sender (the sender's own
properties where it has none), Message-ID, In-Reply-To and References are the internet message
id, in-reply-to id and internet references properties, and the time is the client submit time.
The plain-text body is preferred (extract-msg derives one from an RTF-only body); an HTML-only
body goes through recorder.html_text. Attachments are listed by name and size: a file
attachment by the length of its bytes, an attached Outlook item by the size Outlook recorded,
unknown where it recorded none. Only the addresses that have an SMTP form are kept; an
Exchange-internal (X.500) address cannot be linked to a customer, but a sender known only by one
is a mailbox of the organisation itself (an agent's sent reply): kept by name, outbound.

An S/MIME-encrypted mail (class IPM.Note.SMIME) is imported with its headers and, for its text, a
line saying it is encrypted: the ciphertext is not text.

A file that is not an OLE compound file, a damaged or truncated one, an Outlook item that is not
an e-mail (a contact, an appointment, a task) and a draft that was never sent give one
``ImportProblem`` for the file, and nothing of it is imported.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from email import errors
from email.headerregistry import Address
from email.utils import format_datetime
from pathlib import Path

import extract_msg
from extract_msg.attachments import SignedAttachment
from extract_msg.encoding import lookupCodePage
from extract_msg.enums import BodyTypes, ErrorBehavior, RecipientType
from extract_msg.exceptions import ExMsgBaseException
from extract_msg.msg_classes import Message, MessageSigned, MSGFile

from recorder.html_text import html_to_text
from recorder.instants import InstantError, to_utc
from recorder.mail import Mail, assemble_mail, message_ids
from recorder.threads import Attachment, ImportProblem

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNSENT = 0x08  # MSGFLAG_UNSENT in PidTagMessageFlags: a draft
# IPM.Note.SMIME: the whole mail is one smime.p7m, encrypted (or opaque-signed, which reads no
# better without a PKCS #7 parser); IPM.Note.SMIME.MultipartSigned is clear-signed and readable.
_SMIME_OPAQUE = ".smime"
ENCRYPTED_TEXT = "[Encrypted with S/MIME: the text cannot be read without the recipient's private key.]"
# (display name, address type, address, SMTP address) property ids: the "sent representing" set is
# what internet mail calls From; the sender set differs only when someone sends on another's behalf.
_FROM_PROPERTIES = (("0042", "0064", "0065", "5D02"), ("0C1A", "0C1E", "0C1F", "5D01"))
# What extract-msg and the OLE, RTF and codec layers under it raise on damaged files.
_DAMAGED = (ExMsgBaseException, OSError, ValueError, LookupError, TypeError, struct.error)


def read_msg(path: Path) -> Mail | ImportProblem:
    """The mail in one ``.msg`` file, or the one problem that keeps it out."""
    source = str(path)
    with path.open("rb") as stream:
        if stream.read(len(_OLE_MAGIC)) != _OLE_MAGIC:
            return ImportProblem(source, None, "not an Outlook .msg file (not an OLE compound file)")
    # An attachment of a kind extract-msg cannot read (a link to a file share) is listed by name only.
    tolerate = ErrorBehavior.ATTACH_NOT_IMPLEMENTED
    try:
        # Attachments are read when listed: an encrypted mail's smime.p7m is never "unwrapped" (_read).
        with extract_msg.openMsg(path, strict=False, errorBehavior=tolerate, delayAttachments=True) as msg:
            return _read(msg, source)
    except _DAMAGED as exc:
        return ImportProblem(
            source, None, f"unreadable .msg file (damaged, truncated or not from Outlook): {exc}"
        )


def _read(msg: MSGFile, source: str) -> Mail | ImportProblem:
    # Outlook stores some class names with their C string's terminating NUL.
    message_class = (msg.classType or "").rstrip("\x00")
    # openMsg gives each kind of Outlook item its own class; only these two are e-mails.
    if not isinstance(msg, Message | MessageSigned):
        kind = f"of class {message_class}" if message_class else "without a message class"
        return ImportProblem(source, None, f"not an e-mail: an Outlook item {kind}")
    submitted = msg.props.date  # PidTagClientSubmitTime: when the sender sent it
    # A submit time means it was sent, whatever the flag says.
    if submitted is None and msg.getPropertyVal("0E070003", 0) & _UNSENT:
        return ImportProblem(source, None, "an unsent draft: it never reached anyone")
    found = _sender(msg)
    if found is None:
        return ImportProblem(source, None, "no From address, so it cannot be linked to anyone")
    sender, in_organisation = found
    notes: list[str] = []
    sent_at = None
    if submitted is None:
        notes.append("no sent time; its time is unknown")
    else:
        try:
            sent_at = to_utc(submitted)
        except InstantError as exc:
            notes.append(f"sent time {exc}; its time is unknown")
    encrypted = message_class.lower().endswith(_SMIME_OPAQUE)
    text_note: str | None
    if encrypted:  # extract-msg would "unwrap" the ciphertext of smime.p7m as if it were MIME
        text, text_note = ENCRYPTED_TEXT, "S/MIME-encrypted: its text and attachments cannot be read"
    else:
        text, text_note = _text(msg)
    if text_note:
        notes.append(text_note)
    own_ids = message_ids(msg.getStringStream("__substg1.0_1035"))
    return assemble_mail(
        source=source,
        item=None,
        message_id=own_ids[0] if own_ids else None,
        references=message_ids(msg.getStringStream("__substg1.0_1039"))
        + message_ids(msg.getStringStream("__substg1.0_1042")),
        subject=msg.subject,
        sender=sender,
        recipients=_recipients(msg, RecipientType.TO),
        copied=_recipients(msg, RecipientType.CC),
        sent_at=sent_at,
        date_text=None if sent_at is None else format_datetime(sent_at),
        text=text,
        attachments=() if encrypted else _attachments(msg),
        notes=notes,
        sender_in_organisation=in_organisation,
    )


def _sender(msg: MSGFile) -> tuple[Address, bool] | None:
    """The sender, and whether they are a mailbox of the organisation's own Exchange: one with an
    X.500 address (type EX) and no SMTP form, as an agent's reply saved from Sent Items has. Such a
    sender is kept by name (an agent, so the mail is outbound), not refused for want of an address."""
    internal = None
    for name, kind, address, smtp in _FROM_PROPERTIES:
        found = msg.getStringStream(f"__substg1.0_{smtp}")
        address_type = (msg.getStringStream(f"__substg1.0_{kind}") or "").upper()
        if not found and address_type == "SMTP":
            found = msg.getStringStream(f"__substg1.0_{address}")
        display_name = (msg.getStringStream(f"__substg1.0_{name}") or "").strip()
        sender = _address(display_name, found)
        if sender is not None:
            return sender, False
        if internal is None and address_type == "EX" and display_name:
            internal = Address(display_name=display_name, username="", domain="")
    return (internal, True) if internal is not None else None


def _recipients(msg: Message | MessageSigned, kind: RecipientType) -> list[Address]:
    found = (_address(r.name, r.email) for r in msg.recipients if r.type is kind)
    return [address for address in found if address is not None]


def _address(name: str | None, address: str | None) -> Address | None:
    """An SMTP address with its display name; None for an empty or X.500 address."""
    address = (address or "").strip()
    if "@" not in address:
        return None
    # Outlook repeats the address as the name when it knows no name; an .eml would have none.
    name = "" if (name or "").strip().lower() == address.lower() else (name or "").strip()
    try:
        return Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError, errors.HeaderParseError):
        return None


def _text(msg: Message | MessageSigned) -> tuple[str, str | None]:
    """The message text, plain text preferred over HTML, and a note when its charset had to be guessed."""
    if msg.body:
        return msg.body, None
    html = msg.htmlBody
    if not html:
        return "", None
    if BodyTypes.HTML not in msg.detectedBodies:  # recovered from the RTF body: extract-msg gives UTF-8
        return html_to_text(html.decode("utf-8", errors="replace")), None
    codepage = msg.getPropertyVal("3FDE0003")  # PidTagInternetCodepage: the HTML body's code page
    try:
        charset = "utf-8" if codepage is None else lookupCodePage(codepage)
        return html_to_text(html.decode(charset, errors="replace")), None
    except (ExMsgBaseException, LookupError):
        note = f"unknown code page {codepage}, read as UTF-8"
        return html_to_text(html.decode("utf-8", errors="replace")), note


def _attachments(msg: Message | MessageSigned) -> Iterator[Attachment]:
    for attachment in msg.attachments:
        if isinstance(attachment, SignedAttachment):
            # A clear-signed mail's parts are MIME parts: a name and bytes, no MAPI properties.
            yield Attachment(
                name=attachment.longFilename or "unnamed",
                size_bytes=len(attachment.asBytes),
                content_type=attachment.mimetype,
            )
            continue
        data = attachment.data
        yield Attachment(
            name=attachment.longFilename or attachment.displayName or attachment.shortFilename or "unnamed",
            size_bytes=len(data) if isinstance(data, bytes) else attachment.getPropertyVal("0E200003"),
            content_type=attachment.mimetype,
        )
