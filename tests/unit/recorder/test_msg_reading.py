"""Outlook .msg import on real Outlook files (tests/fixtures/threads/outlook, see its README).

Variants are written at test time from those files by extract-msg's own OLE writer, with only
the named property streams removed, added or replaced, so every other property is still the one
Outlook wrote.
"""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime
from email.parser import HeaderParser
from email.policy import default
from pathlib import Path

import extract_msg
import pytest
from extract_msg.ole_writer import OleWriter

from recorder.email_import import read_email
from recorder.msg_reading import ENCRYPTED_TEXT
from recorder.threads import Attachment, IdentityRef, ImportedMessage

OUTLOOK = Path(__file__).resolve().parents[2] / "fixtures" / "threads" / "outlook"
BOUNCE = OUTLOOK / "other.msg"  # a received non-delivery report with the bounced mail attached
DRAFT = OUTLOOK / "outer.msg"  # an unsent draft: no sender, no time, no Message-ID
BOUNCE_ID = "99d78a$k8gjl@esa2.mentor.iphmx.com"
QUESTION_EML = OUTLOOK.parent / "pl_1_question.eml"


def rewrite(
    source: Path, target: Path, *, drop: tuple[str, ...] = (), put: dict[str, str] | None = None
) -> Path:
    """A copy of ``source`` without the ``drop`` streams and with the ``put`` string streams (UTF-16)."""
    with extract_msg.openMsg(source) as msg:
        writer = OleWriter()
        writer.fromMsg(msg)
    for name in drop:
        writer.deleteEntry(name)
    for name, text in (put or {}).items():
        writer.addEntry(name, data=text.encode("utf-16-le"))
    writer.write(target)
    return target


def attached_mail(target: Path) -> Path:
    """The bounced mail that the bounce carries as an attached Outlook item, as a .msg of its own."""
    with extract_msg.openMsg(BOUNCE) as msg:
        msg.attachments[0].data.export(target)
    return target


def only_message(paths: list[Path]) -> ImportedMessage:
    batch = read_email(paths)
    assert batch.problems == ()
    ((message,),) = [thread.messages for thread in batch.threads]
    return message


def test_a_received_msg_gives_its_ids_people_time_text_and_attachments() -> None:
    batch = read_email([BOUNCE], own_addresses=["yosipnps@model.com"])
    assert batch.problems == ()
    (thread,) = batch.threads
    (message,) = thread.messages
    assert message.provider_message_id == BOUNCE_ID
    assert message.subject == thread.subject == "投递状态通知 (Failure Notice)"
    assert message.author == "Mail Delivery Subsystem"
    assert message.author_identities == (IdentityRef("email", "mailer-daemon@tjdpf.org.cn"),)
    assert message.direction == "inbound"
    # The client submit time; the stored header's own Date line is cut off ("17:44:30 +0").
    assert message.sent_at == datetime(2017, 11, 27, 9, 44, 30, tzinfo=UTC)
    assert message.body.startswith(
        "Hi. This is an automatically generated Delivery Status Notification at\ntjdpf.org.cn\n\n"
        "I'm afraid I was not able to deliver your message to the following\nrecipient:\nhp_lsz@tjdpf.org.cn"
    )
    assert message.body.endswith("---- 【附件是您所发邮件的原件】")
    assert "\r" not in message.body and message.quoted is None
    # An attached Outlook item has no bytes of its own, and Outlook recorded no size for it.
    assert message.attachments == (Attachment("default_attachment.eml", None, "message/rfc822"),)
    assert thread.provider_id == BOUNCE_ID
    assert thread.customer_identities == (IdentityRef("email", "mailer-daemon@tjdpf.org.cn"),)
    assert thread.customer_name == "Mail Delivery Subsystem"


def test_the_msg_agrees_with_the_internet_headers_it_was_received_with() -> None:
    """What an .eml of the same mail would say: the transport headers Outlook kept in the file."""
    with extract_msg.openMsg(BOUNCE) as msg:
        headers = HeaderParser(policy=default).parsestr(msg.headerText)
    message = only_message([BOUNCE])
    (sender,) = headers["From"].addresses
    assert message.provider_message_id == headers["Message-ID"].strip("<>")
    assert (message.author, message.author_identities[0].value) == (sender.display_name, sender.addr_spec)
    assert message.subject == str(headers["Subject"])


def test_a_file_attachment_is_listed_with_its_size(tmp_path: Path) -> None:
    message = only_message([attached_mail(tmp_path / "spam.msg")])
    assert message.provider_message_id == "20171127174424864054@model.com"
    assert message.subject == "回复：转发：反馈·北京 2017年12月02-03日 销售"
    assert (message.author, message.author_identities) == (
        "Meredith chen",
        (IdentityRef("email", "yosipnps@model.com"),),
    )
    assert message.sent_at == datetime(2017, 11, 27, 9, 44, 11, tzinfo=UTC)
    assert message.body.startswith("Meredith\n\nFYI...")
    assert message.attachments == (
        Attachment("北京 2017年12月02-03日 销售主管 确认n.pdf", 144702, "application/octet-stream"),
    )


HTML_START = (
    "Hi. This is an automatically generated Delivery Status Notification at tjdpf.org.cn\n"
    "I'm afraid I was not able to deliver your message to the following recipient:\nhp_lsz@tjdpf.org.cn\n"
)


def test_without_a_plain_body_the_html_in_the_rtf_body_becomes_text(tmp_path: Path) -> None:
    path = rewrite(BOUNCE, tmp_path / "rtf.msg", drop=("__substg1.0_1000001F",))
    message = only_message([path])
    assert message.body.startswith(HTML_START)
    assert "【这是服务器 tjdpf.org.cn 自动产生的投递状态通知】" in message.body
    assert "<" not in message.body and "&nbsp;" not in message.body


def test_an_html_body_is_read_in_the_message_code_page(tmp_path: Path) -> None:
    """The bounce's own HTML (from its RTF body) stored as the HTML body, in its code page 936 (GBK)."""
    with extract_msg.openMsg(BOUNCE) as msg:
        assert msg.getPropertyVal("3FDE0003") == 936
        html = msg.htmlBody.decode("utf-8")
        writer = OleWriter()
        writer.fromMsg(msg)
    for name in ("__substg1.0_1000001F", "__substg1.0_10090102"):
        writer.deleteEntry(name)
    writer.addEntry("__substg1.0_10130102", data=html.encode("gbk"))
    writer.write(tmp_path / "html.msg")
    message = only_message([tmp_path / "html.msg"])
    assert message.body.startswith(HTML_START)
    assert "对方服务器无法正常接收或者拒绝接收这封邮件。" in message.body


def test_an_eml_reply_to_a_msg_joins_its_thread(tmp_path: Path) -> None:
    reply = tmp_path / "reply.eml"
    reply.write_text(
        "Message-ID: <r1@model.com>\nDate: Mon, 27 Nov 2017 12:00:00 +0000\n"
        "From: Meredith chen <yosipnps@model.com>\nTo: mailer-daemon@tjdpf.org.cn\n"
        f"Subject: Re: Failure Notice\nIn-Reply-To: <{BOUNCE_ID}>\n\nWhich address is locked?\n",
        encoding="utf-8",
    )
    (thread,) = read_email([reply, BOUNCE]).threads
    assert [m.provider_message_id for m in thread.messages] == [BOUNCE_ID, "r1@model.com"]
    assert thread.provider_id == BOUNCE_ID


@pytest.mark.parametrize(
    "names",
    [
        {"__substg1.0_1042001F": "<q2@tjdpf.org.cn>"},  # PidTagInReplyToId
        {"__substg1.0_1039001F": "<q1@tjdpf.org.cn> <q2@tjdpf.org.cn>"},  # PidTagInternetReferences
    ],
    ids=["in-reply-to", "references"],
)
def test_a_msg_reply_joins_the_eml_messages_it_names(tmp_path: Path, names: dict[str, str]) -> None:
    question = tmp_path / "question.eml"
    question.write_text(
        "Message-ID: <q1@tjdpf.org.cn>\nDate: Sat, 25 Nov 2017 03:37:00 +0000\n"
        "From: hp_lsz@tjdpf.org.cn\nTo: yosipnps@model.com\nSubject: feedback\n\nFirst.\n",
        encoding="utf-8",
    )
    follow_up = tmp_path / "follow_up.eml"
    follow_up.write_text(
        "Message-ID: <q2@tjdpf.org.cn>\nDate: Sun, 26 Nov 2017 03:37:00 +0000\n"
        "From: hp_lsz@tjdpf.org.cn\nTo: yosipnps@model.com\nSubject: Re: feedback\n"
        "In-Reply-To: <q1@tjdpf.org.cn>\n\nSecond.\n",
        encoding="utf-8",
    )
    reply = rewrite(attached_mail(tmp_path / "attached.msg"), tmp_path / "reply.msg", put=names)
    (thread,) = read_email([reply, follow_up, question]).threads
    assert [m.provider_message_id for m in thread.messages] == [
        "q1@tjdpf.org.cn",
        "q2@tjdpf.org.cn",
        "20171127174424864054@model.com",
    ]
    assert thread.provider_id == "q1@tjdpf.org.cn"


def test_the_from_address_falls_back_to_the_sender_properties(tmp_path: Path) -> None:
    # Without the "sent representing" set and the sender's SMTP address property, only the
    # sender's own address (type SMTP) is left.
    dropped = ("0042001F", "0064001F", "0065001F", "5D02001F", "5D01001F")
    path = rewrite(BOUNCE, tmp_path / "sender.msg", drop=tuple(f"__substg1.0_{p}" for p in dropped))
    message = only_message([path])
    assert message.author_identities == (IdentityRef("email", "mailer-daemon@tjdpf.org.cn"),)
    assert message.author == "Mail Delivery Subsystem"


def test_a_name_that_is_only_the_address_again_is_no_name(tmp_path: Path) -> None:
    """Outlook fills the name with the address when it knows no name; an .eml would carry none."""
    names = {f"__substg1.0_{p}": "mailer-daemon@tjdpf.org.cn" for p in ("0042001F", "0C1A001F")}
    path = rewrite(BOUNCE, tmp_path / "nameless.msg", drop=tuple(names), put=names)
    (thread,) = read_email([path]).threads
    assert thread.customer_name is None
    assert thread.messages[0].author == "mailer-daemon@tjdpf.org.cn"


def test_the_same_msg_twice_is_one_message_with_the_same_ids(tmp_path: Path) -> None:
    copy = shutil.copy(BOUNCE, tmp_path / "copy.msg")
    first = read_email([BOUNCE])
    assert read_email([BOUNCE, copy]) == first
    assert read_email([copy]).threads == first.threads


def test_a_msg_without_a_message_id_gets_a_stable_one(tmp_path: Path) -> None:
    path = rewrite(BOUNCE, tmp_path / "no_id.msg", drop=("__substg1.0_1035001F",))
    (thread,) = read_email([path]).threads
    synthetic = thread.messages[0].provider_message_id
    assert synthetic.startswith("sha256-") and synthetic.endswith("@earshot.invalid")
    moved = shutil.copy(path, tmp_path / "elsewhere.msg")
    assert read_email([moved]).threads[0].messages[0].provider_message_id == synthetic


def outlook_item(tmp_path: Path, message_class: str) -> Path:
    """The draft relabelled as another kind of Outlook item: only its message class changes."""
    return rewrite(
        DRAFT,
        tmp_path / "item.msg",
        drop=("__substg1.0_001A001F",),
        put={"__substg1.0_001A001F": message_class},
    )


def damaged(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "cut.msg"
    path.write_bytes(BOUNCE.read_bytes()[:size])
    return path


def word_file(tmp_path: Path) -> Path:
    """An OLE compound file that is not an Outlook item, as old Word and Excel files are."""
    writer = OleWriter()
    writer.addEntry("WordDocument", data=bytes(4096))
    writer.write(tmp_path / "letter.msg")
    return tmp_path / "letter.msg"


def no_sender(tmp_path: Path) -> Path:
    streams = ("0042001F", "0064001F", "0065001F", "5D02001F", "0C1A001F", "0C1F001F", "5D01001F")
    return rewrite(BOUNCE, tmp_path / "anonymous.msg", drop=tuple(f"__substg1.0_{p}" for p in streams))


def x500_sender(tmp_path: Path) -> Path:
    """An Exchange-internal sender: an X.500 address (the bounce's own recipient's) and no SMTP form."""
    streams = ("0042001F", "0064001F", "0065001F", "5D02001F", "0C1E001F", "0C1F001F", "5D01001F")
    return rewrite(
        BOUNCE,
        tmp_path / "exchange.msg",
        drop=tuple(f"__substg1.0_{p}" for p in streams),
        put={
            "__substg1.0_0C1E001F": "EX",
            "__substg1.0_0C1F001F": "/O=MGC/OU=MGC-NA/CN=AMERICAS/CN=MOBILE/CN=CHERGENR",
        },
    )


UNREADABLE = "unreadable .msg file (damaged, truncated or not from Outlook): "


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: DRAFT, "an unsent draft: it never reached anyone"),
        (lambda tmp: outlook_item(tmp, "IPM.Contact"), "not an e-mail: an Outlook item of class IPM.Contact"),
        (  # Outlook writes some class names with their C string's terminating NUL
            lambda tmp: outlook_item(tmp, "IPM.StickyNote\x00"),
            "not an e-mail: an Outlook item of class IPM.StickyNote",
        ),
        (
            lambda tmp: outlook_item(tmp, "IPM.Appointment"),
            "not an e-mail: an Outlook item of class IPM.Appointment",
        ),
        (no_sender, "no From address, so it cannot be linked to anyone"),
        (lambda tmp: damaged(tmp, 20_000), UNREADABLE + "incomplete OLE sector"),
        (lambda tmp: damaged(tmp, 150_000), UNREADABLE + "incorrect OLE FAT, sector index out of range"),
        (lambda tmp: damaged(tmp, 8), UNREADABLE + "not an OLE2 structured storage file"),
        (word_file, UNREADABLE + "File does not contain a property stream."),
    ],
    ids=[
        "draft",
        "contact",
        "note-nul",
        "appointment",
        "no-sender",
        "cut-20k",
        "cut-150k",
        "magic-only",
        "word",
    ],
)
def test_a_msg_that_cannot_be_imported_is_one_problem_and_the_rest_goes_on(
    tmp_path: Path, make, reason: str
) -> None:
    path = make(tmp_path)
    batch = read_email([path, QUESTION_EML, BOUNCE])
    assert [(p.source, p.reason, p.item, p.imported) for p in batch.problems] == [
        (str(path), reason, None, False)
    ]
    assert sorted(m.provider_message_id for t in batch.threads for m in t.messages) == [
        BOUNCE_ID,
        "CAK7pl-1.4471@mail.example.pl",
    ]


@pytest.mark.parametrize("content", [b"", b"just some notes", b"From: a@example.org\n\nan .eml named .msg\n"])
def test_a_file_named_msg_that_is_not_an_ole_file_is_a_problem(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mail.msg"
    path.write_bytes(content)
    batch = read_email([path, BOUNCE])
    assert [(p.source, p.reason) for p in batch.problems] == [
        (str(path), "not an Outlook .msg file (not an OLE compound file)")
    ]
    assert len(batch.threads) == 1


def test_a_missing_msg_is_a_problem(tmp_path: Path) -> None:
    batch = read_email([tmp_path / "gone.msg"])
    assert [p.reason for p in batch.problems] == ["cannot read: No such file or directory"]


def test_a_sender_known_only_by_an_exchange_x500_address_is_the_organisation_s_own(tmp_path: Path) -> None:
    """An agent's reply saved from Exchange's Sent Items names its sender by X.500 address only."""
    batch = read_email([x500_sender(tmp_path)])
    assert batch.problems == ()
    [thread] = batch.threads
    [message] = thread.messages
    assert (message.direction, message.author, message.author_identities) == (
        "outbound",
        "Mail Delivery Subsystem",
        (),
    )
    assert thread.agent == "Mail Delivery Subsystem"
    assert thread.customer_identities == (IdentityRef("email", "yosipnps@model.com"),)  # its recipient


def test_an_smime_encrypted_msg_is_stored_as_encrypted_not_as_its_bytes(tmp_path: Path) -> None:
    """Outlook saves an encrypted mail as class IPM.Note.SMIME around one smime.p7m."""
    path = rewrite(
        BOUNCE,
        tmp_path / "encrypted.msg",
        drop=("__substg1.0_001A001F",),
        put={"__substg1.0_001A001F": "IPM.Note.SMIME"},
    )
    batch = read_email([path])
    [thread] = batch.threads
    [message] = thread.messages
    assert message.body == ENCRYPTED_TEXT
    assert (message.author, message.attachments) == ("Mail Delivery Subsystem", ())
    assert [(p.reason, p.imported) for p in batch.problems] == [
        ("S/MIME-encrypted: its text and attachments cannot be read", True)
    ]


def test_a_clear_signed_msg_lists_its_parts_and_an_outlook_item_sent_inside_it(tmp_path: Path) -> None:
    """Outlook keeps a clear-signed mail (IPM.Note.SMIME.MultipartSigned) as one attachment holding
    the signed MIME; extract-msg gives its parts as SignedAttachment, which has no MAPI properties."""
    forwarded = attached_mail(tmp_path / "forwarded.msg")
    signed_mime = (
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="s1"\r\n\r\n'
        b'--s1\r\nContent-Type: multipart/mixed; boundary="m1"\r\n\r\n'
        b"--m1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the mail below.\r\n"
        b"--m1\r\nContent-Type: application/vnd.ms-outlook\r\n"
        b'Content-Disposition: attachment; filename="forwarded.msg"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(forwarded.read_bytes())
        + b"\r\n--m1--\r\n--s1\r\nContent-Type: application/pkcs7-signature\r\n"
        b'Content-Disposition: attachment; filename="smime.p7s"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        b"MIAGCSqGSIb3DQEHAqCAMIACAQE=\r\n--s1--\r\n"
    )
    with extract_msg.openMsg(forwarded) as msg:
        writer = OleWriter()
        writer.fromMsg(msg)
    writer.editEntry("__substg1.0_001A001F", data="IPM.Note.SMIME.MultipartSigned".encode("utf-16-le"))
    writer.editEntry("__attach_version1.0_#00000000/__substg1.0_37010102", data=signed_mime)
    writer.write(tmp_path / "signed.msg")
    message = only_message([tmp_path / "signed.msg"])
    assert message.author == "Meredith chen"
    assert message.attachments == (
        Attachment("smime.p7s", 20, "application/pkcs7-signature"),
        Attachment("forwarded.msg", forwarded.stat().st_size, "application/vnd.ms-outlook"),
    )
