"""E-mail import on real .eml and .mbox files (tests/fixtures/threads) and small ones written here."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recorder.email_import import read_email
from recorder.quoting import split_reply
from recorder.threads import Attachment, IdentityRef, ImportBatch, ImportedMessage, ImportedThread

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "threads"
OWN = ("obsluga@sklep.example", "Support@Example.com", "@klantenservice.example.nl")
GOOD_EML = ("pl_1_question.eml", "pl_2_reply.eml", "pl_3_no_references.eml", "nl_html_reply.eml")


def fixture_paths(*names: str) -> list[Path]:
    return [FIXTURES / name for name in names]


@pytest.fixture(scope="module")
def batch() -> ImportBatch:
    every_file = sorted(FIXTURES.glob("*.eml")) + [FIXTURES / "support.mbox"]
    return read_email(every_file, own_addresses=OWN)


def thread_with(batch: ImportBatch, message_id: str) -> ImportedThread:
    return next(t for t in batch.threads if any(m.provider_message_id == message_id for m in t.messages))


def write_mail(
    folder: Path,
    name: str,
    *,
    sender: str,
    to: str,
    subject: str,
    date: str,
    body: str,
    message_id: str | None = None,
    headers: str = "",
) -> Path:
    path = folder / name
    id_line = f"Message-ID: <{message_id}>\n" if message_id else ""
    path.write_text(
        f"{id_line}Date: {date}\nFrom: {sender}\nTo: {to}\nSubject: {subject}\n{headers}"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n",
        encoding="utf-8",
    )
    return path


def test_threads_follow_references_and_keep_time_order(batch: ImportBatch) -> None:
    thread = thread_with(batch, "tw-1@mail.example.com")
    assert [m.provider_message_id for m in thread.messages] == [
        "tw-1@mail.example.com",
        "case-5521.r1@example.com",
        "tw-2@mail.example.com",
    ]
    assert thread.provider_id == "tw-1@mail.example.com"
    assert thread.channel == "email" and thread.provider == "email"
    assert thread.started_at == datetime(2024, 5, 20, 7, 15, 2, tzinfo=UTC)


def test_reply_without_references_joins_its_thread_by_subject(batch: ImportBatch) -> None:
    thread = thread_with(batch, "CAK7pl-1.4471@mail.example.pl")
    assert [m.provider_message_id for m in thread.messages] == [
        "CAK7pl-1.4471@mail.example.pl",
        "reply-4471-1@sklep.example",
        "AM0PR-4471-3@outlook.example.pl",  # "RE: ..." with no In-Reply-To/References
    ]


def test_subject_fallback_needs_a_reply_the_same_people_and_30_days(tmp_path: Path) -> None:
    common = {"to": "support@example.com", "body": "text"}
    paths = [
        write_mail(
            tmp_path,
            "a.eml",
            sender="a@example.org",
            subject="Invoice",
            message_id="a@x",
            date="Mon, 01 Jul 2024 10:00:00 +0000",
            **common,
        ),
        # someone else writes about an invoice too: a different conversation
        write_mail(
            tmp_path,
            "b.eml",
            sender="b@example.org",
            subject="Re: Invoice",
            message_id="b@x",
            date="Tue, 02 Jul 2024 10:00:00 +0000",
            **common,
        ),
        # the same customer, but two months later
        write_mail(
            tmp_path,
            "c.eml",
            sender="a@example.org",
            subject="Re: Invoice",
            message_id="c@x",
            date="Mon, 02 Sep 2024 10:00:00 +0000",
            **common,
        ),
        # the same customer again with the same subject but no reply prefix: a new mail, not a reply
        write_mail(
            tmp_path,
            "d.eml",
            sender="a@example.org",
            subject="Invoice",
            message_id="d@x",
            date="Wed, 03 Jul 2024 10:00:00 +0000",
            **common,
        ),
        # a real reply from support, Outlook style, no references
        write_mail(
            tmp_path,
            "e.eml",
            sender="support@example.com",
            to="a@example.org",
            subject="AW: invoice",
            message_id="e@x",
            date="Thu, 04 Jul 2024 10:00:00 +0000",
            body="answer",
        ),
    ]
    threads = read_email(paths, own_addresses=["support@example.com"]).threads
    grouped = sorted(sorted(m.provider_message_id for m in t.messages) for t in threads)
    assert grouped == [["a@x"], ["b@x"], ["c@x"], ["d@x", "e@x"]]


def test_rfc2047_headers_are_decoded(batch: ImportBatch) -> None:
    first = thread_with(batch, "CAK7pl-1.4471@mail.example.pl").messages[0]
    assert first.subject == "Zamówienie nr 4471 – reklamacja"
    assert first.author == "Katarzyna Nowak-Wiśniewska"


def test_plain_text_is_preferred_over_html(batch: ImportBatch) -> None:
    first = thread_with(batch, "CAK7pl-1.4471@mail.example.pl").messages[0]
    assert first.body == (
        "Dzień dobry,\n\nczajnik z zamówienia nr 4471 przyszedł pęknięty.\n"
        "Proszę o wymianę albo zwrot pieniędzy.\n\nKatarzyna"
    )


def test_html_only_mail_becomes_readable_text(batch: ImportBatch) -> None:
    message = thread_with(batch, "CAF3nl.anna.2@mail.example.nl").messages[0]
    assert message.body.startswith("Dank je, de verbinding werkt weer.\nKan ik de creditering van € 15")
    assert message.body.endswith("Groet,\nAnna")
    for noise in ("<", "alert(1)", "margin", "x\n"):
        assert noise not in message.body


@pytest.mark.parametrize(
    ("message_id", "new_text_ends", "quote_starts"),
    [
        # Dutch, Gmail HTML: attribution line + <blockquote>
        (
            "CAF3nl.anna.2@mail.example.nl",
            "Groet,\nAnna",
            "Op do 16 mei 2024 om 14:02 schreef Klantenservice",
        ),
        # Polish, Gmail plain text with the attribution wrapped over two lines
        ("reply-4471-1@sklep.example", "Pozdrawiam,\nMarek", "W dniu wt., 14 maj 2024 o 09:12"),
        # Polish, Outlook header block; the "Data:" line above it is the customer's own text
        ("AM0PR-4471-3@outlook.example.pl", "Data: 16 maja, od 9 do 12.", "Od: Marek z Obslugi"),
        # English
        ("case-5521.r1@example.com", "Kind regards,\nPriya", "On Mon, 20 May 2024 at 08:15, Tom Walker"),
    ],
)
def test_quoted_reply_is_separated(
    batch: ImportBatch, message_id: str, new_text_ends: str, quote_starts: str
) -> None:
    message = next(m for t in batch.threads for m in t.messages if m.provider_message_id == message_id)
    assert message.body.endswith(new_text_ends)
    assert message.quoted is not None and message.quoted.startswith(quote_starts)
    assert ">" not in message.body


@pytest.mark.parametrize(
    ("text", "new", "quoted"),
    [
        ("Just text.\nDo: jutra\nmore", "Just text.\nDo: jutra\nmore", None),
        (
            "On Tue, 14 May 2024, Ann <a@x.org> wrote:\n> hi",
            "",
            "On Tue, 14 May 2024, Ann <a@x.org> wrote:\n> hi",
        ),
        ("ok\n\n> old\n> lines", "ok", "> old\n> lines"),
        (
            "Dank u.\n\nVan: A <a@x.nl>\nVerzonden: dinsdag\nAan: B\nOnderwerp: C\n\nHallo",
            "Dank u.",
            "Van: A <a@x.nl>\nVerzonden: dinsdag\nAan: B\nOnderwerp: C\n\nHallo",
        ),
        (
            "Op 14-05-2024 om 10:02 schreef Jan Jansen:\n> vraag",
            "",
            "Op 14-05-2024 om 10:02 schreef Jan Jansen:\n> vraag",
        ),
    ],
)
def test_split_reply(text: str, new: str, quoted: str | None) -> None:
    assert split_reply(text) == (new, quoted)


def test_attachments_are_listed_by_name_and_size(batch: ImportBatch) -> None:
    reply = thread_with(batch, "reply-4471-1@sklep.example").messages[1]
    assert reply.attachments == (Attachment("etykieta-zwrotna.pdf", 96, "application/pdf"),)
    assert thread_with(batch, "tw-1@mail.example.com").messages[0].attachments == ()


def test_direction_and_customer_come_from_own_addresses(batch: ImportBatch) -> None:
    thread = thread_with(batch, "CAK7pl-1.4471@mail.example.pl")
    assert [m.direction for m in thread.messages] == ["inbound", "outbound", "inbound"]
    assert thread.customer_identities == (IdentityRef("email", "k.nowak@example.pl"),)
    assert thread.customer_name == "Katarzyna Nowak-Wiśniewska"
    assert thread.agent == "Marek z Obslugi"
    english = thread_with(batch, "tw-1@mail.example.com")  # own address given in another case
    assert [m.direction for m in english.messages] == ["inbound", "outbound", "inbound"]


def test_a_domain_entry_covers_every_address_in_it(tmp_path: Path) -> None:
    path = write_mail(
        tmp_path,
        "out.eml",
        sender="Eva <eva@klantenservice.example.nl>",
        to="anna@example.nl",
        subject="Uw storing",
        date="Thu, 16 May 2024 14:02:00 +0200",
        body="Opgelost.",
        message_id="case-9931@klantenservice.example.nl",
    )
    (thread,) = read_email([path], own_addresses=OWN).threads
    assert thread.messages[0].direction == "outbound"
    assert thread.customer_identities == (IdentityRef("email", "anna@example.nl"),)
    assert thread.agent == "Eva"


def test_without_own_addresses_everything_is_inbound() -> None:
    batch = read_email([FIXTURES / "support.mbox"])
    assert {m.direction for t in batch.threads for m in t.messages} == {"inbound"}


def test_importing_twice_gives_the_same_ids(tmp_path: Path, batch: ImportBatch) -> None:
    copied = tmp_path / "renamed.eml"  # a synthetic id must not depend on where the file lies
    shutil.copy(FIXTURES / "no_date_no_id.eml", copied)
    again = read_email([*sorted(FIXTURES.glob("*.eml")), FIXTURES / "support.mbox"], own_addresses=OWN)
    assert again == batch
    synthetic = (
        thread_with(
            batch,
            next(
                m.provider_message_id
                for t in batch.threads
                for m in t.messages
                if m.body.startswith("My meter reading")
            ),
        )
        .messages[0]
        .provider_message_id
    )
    assert synthetic.startswith("sha256-")
    (from_copy,) = read_email([copied], own_addresses=OWN).threads
    assert from_copy.messages[0].provider_message_id == synthetic


def test_thread_id_is_the_root_even_when_the_root_is_not_imported() -> None:
    (thread,) = read_email(fixture_paths("pl_2_reply.eml"), own_addresses=OWN).threads
    assert thread.provider_id == "CAK7pl-1.4471@mail.example.pl"


def test_broken_mime_is_a_problem_and_the_rest_is_imported(batch: ImportBatch) -> None:
    (problem,) = [p for p in batch.problems if p.source.endswith("broken_mime.eml")]
    assert problem.item == "<broken-1@example.org>"
    assert "broken MIME" in problem.reason
    assert all(m.provider_message_id != "broken-1@example.org" for t in batch.threads for m in t.messages)
    assert len(batch.threads) == 5  # pl, nl, unknown charset, mbox thread, no-date mail


def test_unknown_charset_is_read_as_utf8_with_a_note(batch: ImportBatch) -> None:
    message = thread_with(batch, "odd-charset-1@example.org").messages[0]
    assert message.body == "Hello, my invoice 8812 shows the wrong address."
    reasons = [p.reason for p in batch.problems if p.source.endswith("unknown_charset.eml")]
    assert reasons == [
        "header Subject: unknown charset 'x-mac-klingon', read as UTF-8",
        "unknown charset 'x-mac-klingon', read as utf-8",
    ]


def test_missing_date_gives_no_time_and_a_note(batch: ImportBatch) -> None:
    thread = next(t for t in batch.threads if t.subject == "Meter reading")
    assert thread.messages[0].sent_at is None and thread.started_at is None
    (problem,) = [p for p in batch.problems if p.source.endswith("no_date_no_id.eml")]
    assert problem.reason == "no Date header; its time is unknown"


def test_truncated_mailbox_keeps_the_complete_messages(batch: ImportBatch) -> None:
    from_mbox = [
        m for t in batch.threads for m in t.messages if m.provider_message_id.startswith(("tw-", "case-5521"))
    ]
    assert len(from_mbox) == 3
    (problem,) = [p for p in batch.problems if p.source.endswith("support.mbox")]
    assert problem.item == "message 4 <tw-3@mail.example.com>"
    assert problem.reason.startswith("truncated")


def test_a_mail_missing_only_its_closing_boundary_is_imported_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "cut.eml"
    path.write_text(
        "Message-ID: <cut@x>\nDate: Fri, 24 May 2024 09:00:00 +0100\nFrom: a@example.org\nSubject: s\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhalf a sent\n',
        encoding="utf-8",
    )
    batch = read_email([path, FIXTURES / "pl_1_question.eml"])
    assert [(p.reason, p.imported) for p in batch.problems] == [
        ("the closing MIME boundary is missing: the end of the mail may be cut off", True)
    ]
    assert [m.body for t in batch.threads for m in t.messages if m.provider_message_id == "cut@x"] == [
        "half a sent"
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        # .msg files that cannot be imported: tests/unit/recorder/test_msg_reading.py
        (
            "notes.txt",
            b"just some notes",
            "not an e-mail file (expected .eml, .msg, .mbox or an mbox mailbox)",
        ),
        ("empty.mbox", b"", "no messages found (each starts with a 'From ' line)"),
        (
            "garbage.eml",
            b"\x00\x01\xff binary junk",
            "not an e-mail message (no From, Date, Message-ID or Subject)",
        ),
        (
            "anonymous.eml",
            b"Subject: hi\nDate: Fri, 24 May 2024 09:00:00 +0100\n\nbody",
            "no From address, so it cannot be linked to anyone",
        ),
    ],
)
def test_unreadable_files_are_problems_and_the_rest_goes_on(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    batch = read_email([path, FIXTURES / "pl_1_question.eml"], own_addresses=OWN)
    assert [(p.source, p.reason) for p in batch.problems] == [(str(path), reason)]
    assert len(batch.threads) == 1


def test_a_missing_file_is_a_problem(tmp_path: Path) -> None:
    batch = read_email([tmp_path / "gone.eml"])
    assert [p.reason for p in batch.problems] == ["cannot read: No such file or directory"]
    assert batch.threads == ()


def test_the_same_message_in_two_files_is_imported_once(tmp_path: Path) -> None:
    copy = tmp_path / "copy.eml"
    shutil.copy(FIXTURES / "pl_1_question.eml", copy)
    (thread,) = read_email([FIXTURES / "pl_1_question.eml", copy], own_addresses=OWN).threads
    assert len(thread.messages) == 1


def test_a_date_beyond_year_9999_in_utc_gives_no_time_and_a_note(tmp_path: Path) -> None:
    path = write_mail(
        tmp_path,
        "far.eml",
        sender="ann@example.org",
        to="support@example.com",
        subject="Far future",
        date="Fri, 31 Dec 9999 23:59:59 -0500",
        body="When?",
        message_id="far@example.org",
    )
    batch = read_email([path])
    assert batch.threads[0].messages[0].sent_at is None
    assert [(p.item, p.reason, p.imported) for p in batch.problems] == [
        (
            "<far@example.org>",
            "Date header 9999-12-31T23:59:59-05:00 is out of range (times must lie between 1900 and 2999); "
            "its time is unknown",
            True,
        )
    ]


def test_mime_nested_too_deeply_is_a_problem_and_the_next_message_imports(tmp_path: Path) -> None:
    depth = 5000
    nested = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    closing = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    mbox = tmp_path / "deep.mbox"
    mbox.write_text(
        "From ann@example.org Fri May 24 09:00:00 2024\nFrom: ann@example.org\nMessage-ID: <deep@x>\n"
        f"Subject: deep\nMIME-Version: 1.0\n{nested}Content-Type: text/plain\n\nhi\n{closing}\n"
        "From ann@example.org Fri May 24 10:00:00 2024\nFrom: ann@example.org\nMessage-ID: <flat@x>\n"
        "Date: Fri, 24 May 2024 10:00:00 +0000\nSubject: flat\n\nplain text\n\n",
        encoding="utf-8",
    )
    batch = read_email([mbox])
    assert [(p.item, p.reason) for p in batch.problems] == [
        ("message 1", "broken MIME: parts or headers nested too deeply to read")
    ]
    assert [m.provider_message_id for t in batch.threads for m in t.messages] == ["flat@x"]


def test_another_mail_under_a_taken_message_id_is_kept(tmp_path: Path) -> None:
    common = {"to": "support@example.com", "message_id": "same@broken-client"}
    first = write_mail(
        tmp_path,
        "1.eml",
        sender="ann@example.org",
        subject="Meter",
        date="Mon, 1 Jan 2024 10:00:00 +0000",
        body="first",
        **common,
    )
    second = write_mail(
        tmp_path,
        "2.eml",
        sender="bob@example.org",
        subject="Bill",
        date="Tue, 2 Jan 2024 10:00:00 +0000",
        body="second",
        **common,
    )
    (thread,) = read_email([first, second, first]).threads  # storage keeps the two apart (its tests)
    assert [(m.provider_message_id, m.body) for m in thread.messages] == [
        ("same@broken-client", "first"),
        ("same@broken-client", "second"),
    ]


# Real mails from public test corpora (tests/fixtures/mail/README.md): what the parser and the reply
# splitter used to lose or refuse.
MAIL = FIXTURES.parent / "mail"


def only_message(path: Path) -> tuple[ImportedMessage, list[tuple[str, bool]]]:
    batch = read_email([path])
    [thread] = batch.threads
    [message] = thread.messages
    return message, [(p.reason, p.imported) for p in batch.problems]


def test_a_mail_forwarded_as_an_attachment_is_content_and_listed() -> None:
    message, problems = only_message(MAIL / "enclosed.eml")
    assert problems == []
    assert message.body.startswith(
        "Hello\n\n---------- Forwarded message ----------\nFrom: Kirk Douglas <dan@example.com>\n"
        "Date: Fri, 22 Apr 2011 11:21:06 -0700\nSubject: Thanks!\n"
    )
    assert "чтобы я без вас делал, дорогие мои!!!" in message.body
    assert message.quoted is None
    assert [(a.name, a.content_type) for a in message.attachments] == [("thanks.eml", "message/rfc822")]


def test_a_defective_attached_mail_does_not_keep_out_the_mail_around_it() -> None:
    message, problems = only_message(MAIL / "enclosed-broken.eml")
    assert message.body.startswith("Hello\n\n---------- Forwarded message ----------")
    assert "dudes... you're kicking ass." in message.body
    assert all(imported for _, imported in problems)
    cut = "the closing MIME boundary is missing: the end of the mail may be cut off"
    assert (f"attached message 'Thanks!': {cut}", True) in problems


def test_an_eml_missing_only_its_final_boundary_is_imported_with_a_note() -> None:
    message, problems = only_message(MAIL / "missing-final-boundary.eml")
    assert message.body == "Some body"
    assert ("the closing MIME boundary is missing: the end of the mail may be cut off", True) in problems


def test_an_inline_forward_keeps_the_forwarded_mail() -> None:
    message, _ = only_message(MAIL / "inline-forward.eml")
    assert message.quoted is None
    assert message.body.startswith("---------- Forwarded message ----------\nFrom: Hello <hello@example.com>")
    assert message.body.endswith("Forward please\n\n-- \nRegards,\nHello")


def test_a_reply_written_under_the_quote_keeps_its_words() -> None:
    message, _ = only_message(MAIL / "thunderbird-bottom-reply.eml")
    assert message.body == "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi \nHello"
    assert message.quoted is None


def test_raw_8bit_bytes_in_a_sender_name_are_decoded_and_reported() -> None:
    message, problems = only_message(MAIL / "latin1-sender-name.eml")
    assert message.author == "Anke Müller"
    assert message.author_identities == (IdentityRef("email", "anke@example.de"),)
    assert problems == [("header From: raw 8-bit bytes, read as cp1250 (detected)", True)]
    assert message.body.startswith("Mark Smith wrote:\n> If you have a real uid of root")
    assert message.body.endswith(
        "What about switching to an EUID of nobody early in the request\nprocessing stage?\n\n--- Anke"
    )


def test_utf8_text_labelled_us_ascii_is_read_as_utf8_and_reported() -> None:
    message, problems = only_message(MAIL / "utf8-labelled-us-ascii.eml")
    assert message.body == "Превел\n\n123"
    assert problems == [("declared charset 'us-ascii' does not fit the text, read as utf-8", True)]


def test_an_unquoted_outlook_express_boundary_is_read() -> None:
    message, problems = only_message(MAIL / "outlook-express-unquoted-boundary.eml")
    assert problems == []
    assert (message.author, message.body) == (
        "Mike Example",
        "Hello\nThis is an outlook test\n\nSo there.\n\nMe.",
    )


def test_an_unquoted_attachment_name_is_read_whole() -> None:
    message, _ = only_message(MAIL / "apple-unquoted-attachment-name.eml")
    assert message.body == "This is the first part."
    assert message.attachments == (Attachment("This is a test.txt", 11, "text/plain"),)  # "Hi there.\n\n"


def test_an_apple_mail_inline_picture_without_a_file_name_is_listed() -> None:
    message, _ = only_message(MAIL / "apple-inline-image-without-name.eml")
    assert [(a.name, a.content_type) for a in message.attachments] == [("Photo25.jpg", "image/jpeg")]


def test_raw_utf8_headers_rfc6532_are_read() -> None:
    batch = read_email([MAIL / "rfc6532-utf8-headers.eml"])
    [thread] = batch.threads
    [message] = thread.messages
    assert (message.author, message.subject, message.body) == ("Jöhn Doe", "Säying Hello", "body")
    assert thread.customer_identities == (IdentityRef("email", "jdöe@mächine.example"),)
    assert [p.reason for p in batch.problems] == ["no Date header; its time is unknown"]


def test_an_empty_plain_part_beside_the_html_does_not_hide_the_html_words(tmp_path: Path) -> None:
    path = tmp_path / "empty-plain.eml"
    path.write_text(
        "Message-ID: <empty-plain@example.com>\nDate: Mon, 6 May 2024 09:14:00 +0200\n"
        "From: Emma <emma@example.com>\nTo: support@acme.example\nSubject: Meter\n"
        'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b1"\n\n'
        "--b1\nContent-Type: text/plain; charset=utf-8\n\n\n"
        "--b1\nContent-Type: text/html; charset=utf-8\n\n<p>My meter reads <b>4211</b>.</p>\n"
        "--b1--\n",
        encoding="utf-8",
    )
    message, problems = only_message(path)
    assert message.body == "My meter reads 4211."
    assert message.attachments == ()
    assert problems == []
