"""One customer, one history: importing chats and e-mails beside calls, linking them by identities,
merge/undo/split, the unified timeline and search across channels, on real SQLite files with the
real sample data (sample_audio/ through the recorder and services, sample_threads/ through the
importers). Transcripts are built by hand: the model is not what is tested here."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from earshot.cli import main
from recorder.chat_import import read_chat
from recorder.email_import import read_email
from recorder.ingest import ScanOptions, scan
from recorder.threads import Attachment, IdentityRef, ImportBatch, ImportedMessage, ImportedThread
from recorder.types import Recording as IncomingRecording
from storage import customers
from storage.blobs import LocalBlobStore
from storage.customers import CustomerChangeRefused
from storage.db import Database, read_scope
from storage.errors import NotFound
from storage.history import CallItem, MessageItem, customer_history
from storage.models import (
    AuditEntry,
    Customer,
    CustomerMerge,
    Identity,
    MergeSuggestion,
    Message,
    MessageAttachment,
    Recording,
    Thread,
    ThreadIdentity,
    as_utc,
)
from storage.search import SearchFilters, search_utterances
from storage.services import ingest_recording, save_transcript
from storage.threads_import import ImportSummary, import_threads
from tests.paths import REPO, SAMPLE_AUDIO
from transcribe import types as t

SAMPLE_THREADS = REPO / "sample_threads"
FIXTURES = REPO / "tests" / "fixtures" / "threads"
OUTLOOK = FIXTURES / "outlook"
OWN = ("@earshot-telecom.example",)
TABLES = (
    Customer,
    Identity,
    Thread,
    ThreadIdentity,
    Message,
    MessageAttachment,
    MergeSuggestion,
    CustomerMerge,
)


def counts(db: Database) -> dict[str, int]:
    with db.sessionmaker() as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def reimport_tally(result: ImportSummary) -> tuple[int, int, int, int]:
    """(imported threads, unchanged threads, new messages, skipped duplicates) of an import."""
    return (result.imported_threads, result.unchanged_threads, result.new_messages, result.skipped_duplicates)


def transcript(*lines: tuple[str, float, str]) -> t.Transcript:
    """A hand-built transcript: (speaker label, start, text); S1 is the agent, S2 the customer."""
    return t.Transcript(
        language="en",
        duration=60.0,
        speakers=(t.Speaker("S1", "agent", 0, "Sam"), t.Speaker("S2", "customer", 1)),
        utterances=tuple(
            t.Utterance(
                label, start, start + 3, text, (t.Word(start, start + 1, text.split()[0], 0.9, label),)
            )
            for label, start, text in lines
        ),
        options=t.TranscribeOptions(),
        models={"asr": "hand"},
    )


@pytest.fixture
def demo(db: Database, tmp_path: Path) -> Database:
    """The sample calls (hand transcripts) and the sample chats and e-mails, as the demo stores them."""
    found = [r for r in scan([SAMPLE_AUDIO], ScanOptions()) if isinstance(r, IncomingRecording)]
    assert len(found) == 3
    for recording in found:
        result = ingest_recording(db, recording, LocalBlobStore(tmp_path / "blobs"), "NL")
        assert result.created and result.warnings == ()
        if recording.path.name.startswith("2024-05-06"):
            save_transcript(
                db,
                result.recording_id,
                transcript(
                    ("S1", 0.5, "Earshot Telecom, Sam speaking."),
                    ("S2", 4.0, "I was charged twice this month and I want a refund."),
                ),
            )
    emails = import_threads(db, read_email([SAMPLE_THREADS / "emma_refund.mbox"], own_addresses=OWN), "NL")
    chats = import_threads(db, read_chat([SAMPLE_THREADS / "chats.json"], "generic"), "NL")
    assert (emails.imported_threads, emails.new_messages, emails.failed, emails.warnings) == (1, 3, (), ())
    assert (chats.imported_threads, chats.new_messages, chats.failed, chats.warnings) == (2, 5, (), ())
    return db


def emma(db: Database) -> int:
    [match] = customers.find_customers(db, "emma.devries@example.nl", "NL")
    return match.id


def test_one_customer_has_calls_chat_and_email_in_one_timeline(demo: Database) -> None:
    history = customer_history(demo, emma(demo))
    assert history.customer.display_name == "Emma de Vries"
    assert {(i.kind, i.value) for i in history.customer.identities} == {
        ("phone", "+31201234567"),
        ("email", "emma.devries@example.nl"),
        ("customer_number", "482913"),
    }
    assert [(i.channel, i.direction) for i in history.items] == [
        ("call", "inbound"),  # 6 May
        ("call", "outbound"),  # 8 May 14:02 (+02:00)
        ("email", "outbound"),  # 8 May 14:20
        ("email", "inbound"),
        ("email", "outbound"),
        ("chat", "inbound"),  # 11 May
        ("chat", "outbound"),
        ("chat", "inbound"),
    ]
    times = [i.at for i in history.items]
    assert times == sorted(times)  # type: ignore[type-var]
    first_call, second_call, first_mail = history.items[:3]
    assert isinstance(first_call, CallItem) and isinstance(second_call, CallItem)
    assert first_call.agent == "Sam Jansen" and first_call.at == datetime(2024, 5, 6, 7, 14, 3, tzinfo=UTC)
    assert [(u.role, u.display_name, u.start, u.text) for u in first_call.utterances] == [
        ("agent", "Sam", 0.5, "Earshot Telecom, Sam speaking."),
        ("customer", None, 4.0, "I was charged twice this month and I want a refund."),
    ]
    assert second_call.utterances == () and second_call.agent == "Daan Visser"
    assert isinstance(first_mail, MessageItem)
    assert first_mail.author == "Daan Visser" and "refunded EUR 49.00" in first_mail.body
    assert first_mail.subject == "Confirmation of your refund (account 482913)"
    newest = customer_history(demo, emma(demo), limit=2).items
    assert [i.at for i in newest] == times[-2:]


def test_whatsapp_joins_the_caller_by_the_same_number_in_another_format(demo: Database) -> None:
    [peter] = customers.find_customers(demo, "06 1234 5678", "NL")  # the call's number; WhatsApp: +31 6 ...
    items = customer_history(demo, peter.id).items
    assert [i.channel for i in items] == ["call", "whatsapp", "whatsapp"]
    assert isinstance(items[1], MessageItem) and items[1].attachments[0].name == "speedtest.png"


@pytest.mark.parametrize(
    ("text", "matched_by"),
    [
        ("020-1234567", "phone"),
        ("1234567", "phone"),
        ("EMMA.devries@example.nl", "email"),
        ("482913", "customer_number"),
        ("vries", "name"),
    ],
)
def test_find_customer_by_any_identity(demo: Database, text: str, matched_by: str) -> None:
    [found] = customers.find_customers(demo, text, "NL")
    assert (found.id, found.matched_by, found.conversations) == (emma(demo), matched_by, 4)


def test_reimport_changes_nothing_and_a_newer_export_adds_only_what_is_new(
    db: Database, tmp_path: Path
) -> None:
    full = mailbox.mbox(SAMPLE_THREADS / "emma_refund.mbox")
    older = mailbox.mbox(tmp_path / "older.mbox")
    for message in list(full)[:2]:
        older.add(message)
    older.flush()
    first = import_threads(db, read_email([tmp_path / "older.mbox"], own_addresses=OWN), "NL")
    assert (first.imported_threads, first.new_messages) == (1, 2)
    before = counts(db)
    again = import_threads(db, read_email([tmp_path / "older.mbox"], own_addresses=OWN), "NL")
    assert reimport_tally(again) == (0, 1, 0, 2)
    assert counts(db) == before
    newer = import_threads(db, read_email([SAMPLE_THREADS / "emma_refund.mbox"], own_addresses=OWN), "NL")
    assert (newer.imported_threads, newer.new_messages, newer.skipped_duplicates) == (1, 1, 2)
    assert counts(db)["messages"] == 3 and counts(db)["threads"] == 1


def test_an_outlook_msg_is_stored_once_and_a_bad_one_leaves_nothing(db: Database, tmp_path: Path) -> None:
    cut = tmp_path / "cut.msg"
    cut.write_bytes((OUTLOOK / "other.msg").read_bytes()[:20_000])
    paths = [OUTLOOK / "outer.msg", cut, OUTLOOK / "other.msg"]
    first = import_threads(db, read_email(paths), "NL")
    assert first.failed == (
        f"{OUTLOOK / 'outer.msg'}: an unsent draft: it never reached anyone",
        f"{cut}: unreadable .msg file (damaged, truncated or not from Outlook): incomplete OLE sector",
    )
    assert (first.imported_threads, first.new_messages, first.warnings) == (1, 1, ())
    before = counts(db)
    assert (before["threads"], before["messages"], before["message_attachments"]) == (1, 1, 1)
    with db.sessionmaker() as session:
        message_id, author, sent_at = session.execute(
            select(Message.provider_message_id, Message.author, Message.sent_at)
        ).one()
        assert (message_id, author, as_utc(sent_at)) == (
            "99d78a$k8gjl@esa2.mentor.iphmx.com",
            "Mail Delivery Subsystem",
            datetime(2017, 11, 27, 9, 44, 30, tzinfo=UTC),  # stored in UTC (SQLite: naive, PostgreSQL: aware)
        )
        assert session.execute(
            select(MessageAttachment.name, MessageAttachment.size_bytes, MessageAttachment.content_type)
        ).all() == [("default_attachment.eml", None, "message/rfc822")]
        assert session.execute(select(Identity.kind, Identity.value)).all() == [
            ("email", "mailer-daemon@tjdpf.org.cn")
        ]
    again = import_threads(db, read_email([OUTLOOK / "other.msg"]), "NL")
    assert reimport_tally(again) == (0, 1, 0, 1)
    assert counts(db) == before


def test_bad_input_gives_a_message_per_item_and_the_rest_goes_in(db: Database) -> None:
    paths = [
        FIXTURES / name
        for name in ("broken_mime.eml", "support.mbox", "no_date_no_id.eml", "unknown_charset.eml")
    ]
    summary = import_threads(db, read_email(paths), "NL")
    assert [line.split(">: ")[-1] for line in summary.failed] == [
        "broken MIME: multipart without a boundary",
        "truncated: the file ends in the middle of this message",
    ]
    assert any("no Date header" in w for w in summary.warnings)  # imported anyway
    assert summary.imported_threads == 3 and counts(db)["threads"] == 3
    chats = import_threads(
        db, read_chat([FIXTURES / "generic_chat.json", FIXTURES / "missing.json"], "generic"), "NL"
    )
    assert [line for line in chats.failed if "missing.json" in line] == [
        f"{FIXTURES / 'missing.json'}: cannot read: No such file or directory"
    ]


def test_invalid_phone_is_a_warning_and_the_conversation_still_goes_in(db: Database) -> None:
    thread = _chat("c-1", [IdentityRef("phone", "12345"), IdentityRef("email", "ann@example.org")])
    summary = import_threads(db, ImportBatch((thread,), ()), "NL")
    assert summary.failed == () and summary.imported_threads == 1
    assert summary.warnings == (
        "chat conversation c-1: customer phone skipped: phone number '12345' is not a valid number "
        "(numbers without +country code are read as NL)",
    )
    with db.sessionmaker() as session:
        assert session.execute(select(Identity.kind, Identity.value)).all() == [("email", "ann@example.org")]


def test_a_failing_thread_leaves_nothing_behind_and_the_others_go_in(db: Database) -> None:
    broken = _chat("c-bad", [IdentityRef("email", "bad@example.org")])
    # An attachment without a name breaks a NOT NULL column after the thread, its messages and the
    # customer were written in the transaction: all of it must be rolled back.
    broken = replace(
        broken,
        messages=(replace(broken.messages[0], attachments=(Attachment(None, 1, None),)),),  # type: ignore[arg-type]
    )
    good = _chat("c-good", [IdentityRef("email", "good@example.org")])
    summary = import_threads(db, ImportBatch((broken, good), ()), "NL")
    assert summary.imported_threads == 1 and len(summary.failed) == 1
    assert summary.failed[0].startswith("chat conversation c-bad: not stored (IntegrityError:")
    with db.sessionmaker() as session:
        assert session.scalars(select(Thread.provider_id)).all() == ["c-good"]
        assert session.scalars(select(Identity.value)).all() == ["good@example.org"]
    assert counts(db)["messages"] == 1 and counts(db)["customers"] == 1


def test_nul_bytes_and_over_long_text_are_stored_as_postgresql_would_accept_them(
    db: Database, tmp_path: Path
) -> None:
    """SQLite stores NUL and any length; PostgreSQL refuses both. The stored values must fit both."""
    message = {"id": "m1", "direction": "inbound", "sent_at": "2024-05-01T10:00:00Z"}
    export = tmp_path / "export.json"
    export.write_text(
        json.dumps(
            {
                "conversations": [
                    {
                        "id": "c-\x00-1",
                        "subject": "Meter\x00 swap\x07" + "!" * 600,
                        "agent": "Sam\x00 " + "J" * 10_000,
                        "customer": {"name": "Ann\x00 " + "N" * 10_000, "email": "ann\x00@example.org"},
                        "messages": [
                            {
                                **message,
                                "author": "A" * 10_000,
                                "text": "line\x00 one\r\nline two\ud800",
                                "attachments": [{"name": "x" * 600 + ".pdf", "content_type": "a\x00/b"}],
                            }
                        ],
                    },
                    {"id": "c-" + "9" * 10_000, "messages": [{**message, "text": "lost?"}]},
                    {
                        "id": "c-3",
                        "customer": {"handle": "h" * 10_000},
                        "messages": [{**message, "text": "kept"}],
                    },
                ]
            }
        ),
        encoding="utf-8",
    )

    summary = import_threads(db, read_chat([export], "generic"), "NL")

    assert summary.imported_threads == 2
    assert [line.split(": not stored")[1] for line in summary.failed] == [
        " (KeyTooLong: conversation id is 10002 characters long; at most 255 fit "
        "(cut, it could name another item))"
    ]
    with db.sessionmaker() as session:
        thread = session.scalars(select(Thread).where(Thread.provider_id == "c--1")).one()
        assert thread.subject == "Meter swap" + "!" * 490
        assert thread.agent is not None and thread.agent.name == "Sam " + "J" * 196
        assert thread.customer is not None and thread.customer.display_name == "Ann " + "N" * 196
        (stored,) = thread.messages
        assert (stored.author, stored.body) == ("A" * 320, "line one\nline two\ufffd")
        assert session.execute(select(MessageAttachment.name, MessageAttachment.content_type)).one() == (
            "x" * 500,
            "a/b",
        )
        assert session.scalars(select(Identity.value)).all() == ["ann@example.org"]
    assert sorted(line.split(": ", 1)[1] for line in summary.warnings) == [
        "agent cut to 200 of its 10004 characters",
        "customer chat handle skipped: 10005 characters long; at most 320 fit",
        "customer name cut to 200 of its 10004 characters",
        "message m1: attachment name cut to 500 of its 604 characters",
        "message m1: author cut to 320 of its 10000 characters",
        "subject cut to 500 of its 610 characters",
    ]


def _mail(folder: Path, name: str, sender: str, date: str, text: str) -> Path:
    """A mail from a client that gives every mail the same Message-ID."""
    path = folder / name
    path.write_text(
        f"Message-ID: <same@broken-client>\nFrom: {sender}\nTo: help@earshot-telecom.example\n"
        f"Date: {date}\nSubject: {text}\n\n{text}\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("first_import", ["together", "one_by_one"])
def test_a_mail_that_reuses_a_stored_message_id_is_kept_and_reported(
    db: Database, tmp_path: Path, first_import: str
) -> None:
    ann = _mail(tmp_path, "ann.eml", "ann@example.org", "Mon, 1 Jan 2024 10:00:00 +0000", "Meter broken")
    bob = _mail(tmp_path, "bob.eml", "bob@example.org", "Tue, 2 Jan 2024 10:00:00 +0000", "Bill wrong")
    runs = [[ann, bob]] if first_import == "together" else [[ann], [bob]]

    summaries = [import_threads(db, read_email(paths, own_addresses=OWN), "NL") for paths in runs]

    assert sum(s.new_messages for s in summaries) == 2
    [warning] = [line for s in summaries for line in s.warnings]
    assert warning.startswith(
        "email conversation same@broken-client: message same@broken-client: its id is also that of "
        "another message; kept as same@broken-client#"
    )
    with db.sessionmaker() as session:
        stored = session.execute(select(Message.provider_message_id, Message.body).order_by(Message.id)).all()
    assert stored == [("same@broken-client", "Meter broken"), (warning.rsplit(" ", 1)[1], "Bill wrong")]
    for again in ([ann, bob], [bob], [ann]):  # the very same mails again: nothing new, nothing reported
        summary = import_threads(db, read_email(again, own_addresses=OWN), "NL")
        assert (summary.new_messages, summary.imported_threads, summary.warnings) == (0, 0, ())
    assert counts(db)["messages"] == 2


def test_a_message_edited_or_renamed_since_is_the_same_message(db: Database) -> None:
    first = _chat("c-1", [])
    import_threads(db, ImportBatch((first,), ()), "NL")
    edited = replace(first.messages[0], author="Someone Else", body="hello there (edited)")
    summary = import_threads(db, ImportBatch((replace(first, messages=(edited,)),), ()), "NL")
    assert (summary.new_messages, summary.skipped_duplicates, summary.warnings) == (0, 1, ())


def _chat(provider_id: str, identities: list[IdentityRef], text: str = "hello there") -> ImportedThread:
    message = ImportedMessage(
        provider_message_id=f"{provider_id}-m1",
        direction="inbound",
        author="Someone",
        author_identities=(),
        sent_at=datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
        body=text,
        quoted=None,
        attachments=(),
        subject=None,
    )
    return ImportedThread(
        channel="chat",
        provider="test",
        provider_id=provider_id,
        subject=None,
        customer_identities=tuple(identities),
        customer_name=None,
        agent="Sam Jansen",
        started_at=message.sent_at,
        messages=(message,),
    )


def test_identities_of_two_customers_make_one_suggestion_not_a_merge(db: Database) -> None:
    import_threads(db, ImportBatch((_chat("a", [IdentityRef("phone", "+31 6 11111111")]),), ()), "NL")
    import_threads(db, ImportBatch((_chat("b", [IdentityRef("email", "x@example.org")]),), ()), "NL")
    both = [IdentityRef("email", "X@example.org"), IdentityRef("phone", "0611111111")]
    summary = import_threads(db, ImportBatch((_chat("c", both), _chat("d", both)), ()), "NL")
    assert len(summary.warnings) == 2 and all("not merged" in w for w in summary.warnings)
    [suggestion] = customers.list_merge_suggestions(db)
    assert (suggestion.customer_a, suggestion.customer_b) == (1, 2)
    assert {i["kind"] for i in suggestion.evidence["identities"]} == {"phone", "email"}
    with db.sessionmaker() as session:
        assert {p: c for p, c in session.execute(select(Thread.provider_id, Thread.customer_id))} == {
            "a": 1,
            "b": 2,
            "c": 2,  # the first identity listed (the e-mail) decides
            "d": 2,
        }
    outcome = customers.resolve_suggestion(db, suggestion.id, accept=False, by="coach")
    assert outcome.suggestion.status == "rejected" and outcome.merge is None
    import_threads(db, ImportBatch((_chat("e", both),), ()), "NL")
    assert customers.list_merge_suggestions(db) == []  # a rejected pair is not suggested again


def test_merge_then_undo_restores_exactly(demo: Database) -> None:
    [peter] = customers.find_customers(demo, "peter", "NL")
    before = _ownership(demo)
    record = customers.merge_customers(demo, emma(demo), peter.id, by="coach")
    assert len(record.identity_ids) == 3 and len(record.thread_ids) == 2  # a call and a WhatsApp chat
    items = customer_history(demo, emma(demo)).items
    assert [i.channel for i in items].count("whatsapp") == 2 and [i.channel for i in items].count("call") == 3
    with pytest.raises(NotFound, match=f"customer {peter.id} was merged into customer {emma(demo)}"):
        customers.customer_detail(demo, peter.id)
    assert customers.find_customers(demo, "peter", "NL") == []  # the empty row is not found by name
    with pytest.raises(NotFound, match="merged into"):
        customers.merge_customers(demo, peter.id, emma(demo), by="coach")

    undone = customers.undo_merge(demo, record.id)
    assert undone.undone_at is not None
    assert _ownership(demo) == before
    with pytest.raises(CustomerChangeRefused, match="already undone"):
        customers.undo_merge(demo, record.id)


def _ownership(db: Database) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, str]]]:
    with db.sessionmaker() as session:
        return (
            [
                tuple(row)
                for row in session.execute(select(Identity.id, Identity.customer_id).order_by(Identity.id))
            ],
            [
                tuple(row)
                for row in session.execute(select(Thread.id, Thread.customer_id).order_by(Thread.id))
            ],
            [
                tuple(row)
                for row in session.execute(select(Customer.id, Customer.display_name).order_by(Customer.id))
            ],
        )


def test_undo_is_refused_when_a_later_change_makes_it_unsafe(demo: Database) -> None:
    [peter] = customers.find_customers(demo, "peter", "NL")
    record = customers.merge_customers(demo, emma(demo), peter.id, by="coach")
    peters_phone = next(
        i for i in customers.customer_detail(demo, emma(demo)).identities if i.value == "+31612345678"
    )
    split_off = customers.split_customer(demo, emma(demo), [peters_phone.id])
    with pytest.raises(
        CustomerChangeRefused,
        match=f"identity {peters_phone.id} that it moved now belongs to customer {split_off}",
    ):
        customers.undo_merge(demo, record.id)
    later = customers.merge_customers(demo, emma(demo), split_off, by="coach")
    with pytest.raises(CustomerChangeRefused, match=f"merge {later.id} .* came later"):
        customers.undo_merge(demo, record.id)


def test_split_moves_the_chosen_identities_and_the_threads_linked_only_through_them(demo: Database) -> None:
    emma_id = emma(demo)
    phone = next(i for i in customers.customer_detail(demo, emma_id).identities if i.kind == "phone")
    new_id = customers.split_customer(demo, emma_id, [phone.id])
    # The 8 May call was linked by the phone and the customer number: it stays. The 6 May call and
    # the chat also name the e-mail; the e-mail thread names only the e-mail. Nothing is linked by the
    # phone alone, so only the identity moves.
    assert [i.value for i in customers.customer_detail(demo, new_id).identities] == ["+31201234567"]
    assert customer_history(demo, new_id).items == ()
    mail = next(i for i in customers.customer_detail(demo, emma_id).identities if i.kind == "email")
    email_only = customers.split_customer(demo, emma_id, [mail.id])
    assert [i.channel for i in customer_history(demo, email_only).items] == ["email"] * 3
    with pytest.raises(CustomerChangeRefused, match="does not belong to customer"):
        customers.split_customer(demo, emma_id, [mail.id])
    remaining = [i.id for i in customers.customer_detail(demo, emma_id).identities]
    with pytest.raises(CustomerChangeRefused, match="would leave nothing behind"):
        customers.split_customer(demo, emma_id, remaining)


def test_search_covers_calls_and_messages_and_narrows_by_channel(demo: Database) -> None:
    hits = search_utterances(demo, "refund*", SearchFilters()).hits
    assert {h.channel for h in hits} == {"call", "email", "chat"}
    assert [h.score for h in hits] == sorted(h.score for h in hits)
    call = next(h for h in hits if h.channel == "call")
    assert call.start == 4.0 and call.message_id is None and call.recording_id is not None
    chat = next(h for h in hits if h.channel == "chat")
    assert chat.start is None and chat.recording_id is None and chat.message_id is not None
    assert (chat.customer_id, chat.speaker_role, chat.agent_name) == (emma(demo), "customer", "Sam Jansen")
    assert {h.channel for h in search_utterances(demo, "refund*", SearchFilters(channel="email")).hits} == {
        "email"
    }
    assert {h.channel for h in search_utterances(demo, "refund*", SearchFilters(channel="call")).hits} == {
        "call"
    }
    agents = search_utterances(demo, "refund*", SearchFilters(speaker_role="agent")).hits
    assert {(h.channel, h.speaker_role) for h in agents} == {("email", "agent")}
    first = search_utterances(demo, "refund*", SearchFilters(), limit=2)
    rest = search_utterances(demo, "refund*", SearchFilters(), limit=50, offset=2)
    assert first.has_more and [h.snippet for h in first.hits + rest.hits] == [h.snippet for h in hits]
    assert search_utterances(demo, "credit", SearchFilters(channel="whatsapp", customer="06 1234 5678")).hits


# --- the command line ------------------------------------------------------------------------


Earshot = Callable[..., Result]


@pytest.fixture
def earshot(database_url: str, tmp_path: Path) -> Earshot:
    """The command line on the test's database (``database_url``), its data folder ``tmp_path/data``."""

    def run(*args: str) -> Result:
        return CliRunner(env={"EARSHOT_DATABASE_URL": database_url}).invoke(
            main, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False
        )

    return run


def test_cli_import_customer_history_and_search(earshot: Earshot) -> None:
    mail = earshot("import-email", str(SAMPLE_THREADS / "emma_refund.mbox"), "--own-address", OWN[0])
    assert mail.exit_code == 0 and "1 conversation(s) imported with 3 new message(s)" in mail.stderr
    again = earshot("import-email", str(SAMPLE_THREADS / "emma_refund.mbox"), "--own-address", OWN[0])
    assert "0 conversation(s) imported" in again.stderr and "3 message(s) already stored" in again.stderr
    chat = earshot("import-chat", str(SAMPLE_THREADS / "chats.json"))
    assert chat.exit_code == 0 and "2 conversation(s) imported" in chat.stderr

    shown = earshot("customer", "show", "emma.devries@example.nl")
    assert shown.exit_code == 0 and shown.stdout.startswith("customer 1: Emma de Vries")
    assert "customer_number  482913" in shown.stdout
    history = json.loads(earshot("history", "482913", "--json").stdout)
    assert [i["channel"] for i in history["items"]] == ["email"] * 3 + ["chat"] * 3
    assert (
        history["items"][0]["at"] == "2024-05-08T12:20:11+00:00" and history["items"][0]["kind"] == "message"
    )
    text = earshot("history", "Emma").stdout
    assert "2024-05-11 08:02  chat inbound  agent Sam Jansen" in text

    found = earshot("search", "refund", "--channel", "chat")
    assert found.exit_code == 0 and found.stdout.startswith("chat ") and "1 hit(s)" in found.stderr

    merged = earshot("customer", "merge", "1", "2")
    assert merged.exit_code == 0 and merged.stdout.startswith("merge 1: customer 2 into 1")
    assert "whatsapp" in earshot("history", "1").stdout
    assert earshot("customer", "undo-merge", "1").stdout.startswith("merge 1 undone")
    assert "whatsapp" not in earshot("history", "1").stdout
    split = earshot("customer", "split", "1", "2")
    assert split.exit_code == 0 and "split off from 1" in split.stdout
    assert earshot("customer", "suggestions").stdout == ""


def test_cli_reads_and_searches_are_audited_as_the_command_line(demo: Database, earshot: Earshot) -> None:
    [first_call] = [i for i in customer_history(demo, emma(demo)).items if isinstance(i, CallItem)][:1]
    assert earshot("customer", "show", "482913").exit_code == 0
    assert earshot("history", "Emma").exit_code == 0
    assert earshot("export", str(first_call.recording_id), "--format", "txt").exit_code == 0
    assert earshot("search", "refund").exit_code == 0
    with read_scope(demo) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        rows = [
            (e.username, e.action, e.target, e.details.get("about"), e.details.get("transcripts"))
            for e in entries
        ]
        file_name = session.scalar(
            select(Recording.original_name).where(Recording.id == first_call.recording_id)
        )
    customer = f"customer:{emma(demo)}"
    call = f"call {file_name} with Emma de Vries, 2024-05-06 07:14 UTC"
    assert rows == [
        ("(command line)", "customer_viewed", customer, "Emma de Vries", None),
        ("(command line)", "history_viewed", customer, "Emma de Vries", [first_call.recording_id]),
        ("(command line)", "follow_ups_listed", customer, "Emma de Vries", None),  # the history's follow-ups
        ("(command line)", "export", f"recording:{first_call.recording_id}", call, None),
        ("(command line)", "search_run", None, None, None),
    ]


def test_cli_imports_outlook_msg_files(earshot: Earshot) -> None:
    result = earshot("import-email", str(OUTLOOK / "outer.msg"), str(OUTLOOK / "other.msg"))
    assert result.exit_code == 1
    assert f"{OUTLOOK / 'outer.msg'}: an unsent draft: it never reached anyone" in result.stdout
    assert "1 conversation(s) imported with 1 new message(s)" in result.stderr
    again = earshot("import-email", str(OUTLOOK / "other.msg"))
    assert again.exit_code == 0 and "1 already stored unchanged" in again.stderr


def test_cli_reports_each_bad_item_and_exits_1(earshot: Earshot, tmp_path: Path) -> None:
    result = earshot("import-email", str(FIXTURES / "broken_mime.eml"), str(FIXTURES / "pl_1_question.eml"))
    assert result.exit_code == 1
    assert (
        "broken_mime.eml: <broken-1@example.org>: broken MIME: multipart without a boundary" in result.stdout
    )
    assert "1 conversation(s) imported" in result.stderr and "1 failed" in result.stderr
    bad_chat = tmp_path / "bad.json"
    bad_chat.write_text(
        '{"conversations": [{"messages": []}, {"id": "ok", "messages": '
        '[{"id": "1", "direction": "inbound", "sent_at": "2024-05-01T10:00:00Z", "text": "hi"}]}]}'
    )
    chat = earshot("import-chat", str(bad_chat))
    assert chat.exit_code == 1 and "1 conversation(s) imported" in chat.stderr
    assert f"{bad_chat}: conversation #1: conversation has no 'id'" in chat.stdout
    assert earshot("customer", "show", "nobody@example.org").stderr.startswith("error: no customer matches")
    assert earshot("customer", "undo-merge", "7").stderr == "error: no customer merge with id 7\n"
    assert "not a channel name" in earshot("search", "hi", "--channel", "Chat!").stderr
