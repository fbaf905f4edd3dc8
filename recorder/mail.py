"""One e-mail as the e-mail import threads it, whichever file format it was saved in.

``.eml`` files and ``.mbox`` mailboxes (recorder.email_import) and Outlook ``.msg`` files
(recorder.msg_reading) find headers, text and attachments in their own ways; ``assemble_mail``
then does what must come out the same for every format, so that a reply saved as ``.msg``
threads with its question saved as ``.eml`` and a file imported again gives the same ids: the
quoted reply is split off, References/In-Reply-To are cleaned, and a mail without a Message-ID
gets a stable one from a hash of its sender, date, subject and text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address

from recorder.quoting import split_reply
from recorder.threads import Attachment, ImportProblem

_MESSAGE_IDS = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class Mail:
    """One decoded message, before threading; ``notes`` are problems that did not stop it."""

    message_id: str
    references: tuple[str, ...]  # References then In-Reply-To, oldest first
    subject: str | None
    sender: Address
    recipients: tuple[Address, ...]  # To
    copied: tuple[Address, ...]  # Cc
    sent_at: datetime | None
    body: str
    quoted: str | None
    attachments: tuple[Attachment, ...]
    notes: tuple[ImportProblem, ...]
    # The sender is a mailbox of the organisation's own Exchange, known by its X.500 address only
    # (an agent's reply saved from Sent Items): staff, so the mail is outbound; ``sender`` has a name
    # and no address.
    sender_in_organisation: bool = False

    @property
    def author(self) -> str:
        """How the history names the sender: the display name, else the address."""
        return self.sender.display_name or self.sender.addr_spec


def assemble_mail(
    *,
    source: str,
    item: str | None,
    message_id: str | None,
    references: Iterable[str],
    subject: str | None,
    sender: Address,
    recipients: Iterable[Address],
    copied: Iterable[Address],
    sent_at: datetime | None,
    date_text: str | None,
    text: str,
    attachments: Iterable[Attachment],
    notes: Iterable[str],
    sender_in_organisation: bool = False,
) -> Mail:
    """The mail from what its reader found; ``date_text`` is the date as the file wrote it (for the id)."""
    subject = " ".join((subject or "").split()) or None  # folded headers keep their line breaks otherwise
    text = text.replace("\r\n", "\n")
    body, quoted = split_reply(text)
    message_id = message_id or _synthetic_id(sender, date_text, subject, text)
    return Mail(
        message_id=message_id,
        references=tuple(dict.fromkeys(ref for ref in references if ref != message_id)),
        subject=subject,
        sender=sender,
        recipients=tuple(recipients),
        copied=tuple(copied),
        sent_at=sent_at,
        body=body,
        quoted=quoted,
        attachments=tuple(attachments),
        notes=tuple(ImportProblem(source, item, note, imported=True) for note in notes),
        sender_in_organisation=sender_in_organisation,
    )


def message_ids(value: object) -> list[str]:
    """Message ids from a Message-ID, In-Reply-To or References value; bare ids are accepted too."""
    if value is None:
        return []
    text = str(value)
    found = _MESSAGE_IDS.findall(text)
    return found if found else text.split()


def _synthetic_id(sender: Address, date_text: str | None, subject: str | None, text: str) -> str:
    key = "\n".join((sender.addr_spec.lower(), date_text or "", subject or "", text))
    return f"sha256-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@earshot.invalid"
