"""Customer lookup and timeline, agent list and saved searches, on real SQLite files."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from recorder.types import CallMetadata
from storage.access import Principal
from storage.agents_view import list_agents
from storage.audit import COMMAND_LINE, verify_audit_chain
from storage.blobs import BlobStore
from storage.customers_view import (
    customer_history,
    customer_profile,
    customer_timeline,
    find_customers,
    thread_messages,
)
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.guarded import view_transcript
from storage.models import AuditEntry, Message, Thread
from storage.query import QueryError
from storage.saved_searches import delete_saved_search, list_saved_searches, save_search
from storage.search import SearchFilters
from storage.services import ingest_recording, save_transcript
from tests.unit.storage.conftest import MakeRecording
from transcribe import types as t

HAND_TRANSCRIPT = t.Transcript(
    language="en",
    duration=2.0,
    speakers=(t.Speaker("S1", "agent", 0),),
    utterances=(t.Utterance("S1", 0.5, 1.0, "Hello.", (t.Word(0.5, 1.0, "Hello.", 0.9, "S1"),)),),
    options=t.TranscribeOptions(),
    models={"asr": "hand"},
)


@pytest.fixture
def emma(db: Database, blobs: BlobStore, make_recording: MakeRecording) -> int:
    """Emma: one call (phone, e-mail and customer number from its metadata) and one chat thread."""
    metadata = CallMetadata(
        customer_name="Emma de Vries",
        customer_phone="+31 6 12345678",
        customer_email="Emma@Example.com",
        customer_number="C-1001",
        agent="Alice",
        started_at=datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
    )
    recording_id = ingest_recording(db, make_recording(1, metadata=metadata), blobs, "NL").recording_id
    with session_scope(db) as session:
        call = session.get_one(Thread, recording_id)  # one thread per recording, created in order
        chat = Thread(
            customer_id=call.customer_id,
            channel="chat",
            provider="test",
            provider_id="chat-1",
            started_at=datetime(2024, 5, 7, 10, 0, tzinfo=UTC),
        )
        session.add(chat)
        session.flush()
        session.add_all(
            [
                Message(
                    thread_id=chat.id,
                    provider_message_id=f"m{i}",
                    direction=direction,
                    author=author,
                    sent_at=datetime(2024, 5, 7, 10, i, tzinfo=UTC),
                    body=body,
                )
                for i, (direction, author, body) in enumerate(
                    [("inbound", "Emma", "Where is my refund?"), ("outbound", "Bob", "It was sent today.")]
                )
            ]
        )
        return call.customer_id  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("text", "matched_by"),
    [
        ("06 12345678", "phone"),  # national format, read in NL
        ("+31612345678", "phone"),
        ("0031 6 1234 5678", "phone"),
        ("12345678", "phone"),  # trailing digits
        ("EMMA@example.com ", "email"),
        ("c-1001", "customer_number"),
        ("de vries", "name"),
    ],
)
def test_find_customer_by_any_identity(
    db: Database, people: dict[str, Principal], emma: int, text: str, matched_by: str
) -> None:
    [match] = find_customers(db, people["agent"], text, "NL")
    assert (match.id, match.matched_by, match.display_name) == (emma, matched_by, "Emma de Vries")
    assert {i.kind for i in match.identities} == {"phone", "email", "customer_number"}
    assert match.conversations == 2


def test_find_customer_misses_and_refuses_empty(
    db: Database, people: dict[str, Principal], emma: int
) -> None:
    assert find_customers(db, people["agent"], "0687654321", "NL") == []
    assert find_customers(db, people["agent"], "Jansen", "NL") == []
    with pytest.raises(InvalidValue, match="type a phone number"):
        find_customers(db, people["agent"], "  ", "NL")


def test_timeline_has_every_channel_newest_first(
    db: Database, people: dict[str, Principal], emma: int
) -> None:
    items = customer_timeline(db, people["agent"], emma)
    assert [(i.channel, i.messages) for i in items] == [("chat", 2), ("call", 0)]
    chat, call = items
    assert chat.preview == "Where is my refund?" and chat.recording_id is None
    assert call.recording_id is not None and call.duration == pytest.approx(2.0) and call.agent == "Alice"
    assert [m.body for m in thread_messages(db, people["agent"], chat.thread_id)] == [
        "Where is my refund?",
        "It was sent today.",
    ]
    profile = customer_profile(db, people["agent"], emma)
    assert profile.display_name == "Emma de Vries" and len(profile.identities) == 3
    with pytest.raises(NotFound, match="no customer with id 999"):
        customer_timeline(db, people["agent"], 999)


def test_agents_list_needs_coach(db: Database, people: dict[str, Principal], emma: int) -> None:
    # The latest call's day: an overview's default period ends there, so old calls are not out of view.
    assert [(a.name, a.calls, a.last_call) for a in list_agents(db, people["coach"])] == [
        ("Alice", 1, date(2024, 5, 6))
    ]
    with pytest.raises(PermissionDenied, match="needs the role coach"):
        list_agents(db, people["agent"])


def test_saved_searches_are_per_user_and_replace_by_name(db: Database, people: dict[str, Principal]) -> None:
    compliance, admin = people["compliance"], people["admin"]
    filters = SearchFilters(speaker_role="agent", customer="Emma", date_from=date(2024, 5, 1))
    first = save_search(db, compliance, "Refunds", "refund NEAR/5 sent", filters)
    again = save_search(db, compliance, " Refunds ", '"money back"', SearchFilters())
    assert again.id == first.id
    [saved] = list_saved_searches(db, compliance)
    assert (saved.name, saved.query, saved.filters) == ("Refunds", '"money back"', SearchFilters())
    save_search(db, compliance, "Dated", "refund", filters)
    assert [s.filters for s in list_saved_searches(db, compliance) if s.name == "Dated"] == [filters]
    assert list_saved_searches(db, admin) == []
    with pytest.raises(NotFound):
        delete_saved_search(db, admin, first.id)
    delete_saved_search(db, compliance, first.id)
    assert [s.name for s in list_saved_searches(db, compliance)] == ["Dated"]


def test_saved_search_refusals(db: Database, people: dict[str, Principal]) -> None:
    with pytest.raises(PermissionDenied):
        save_search(db, people["coach"], "x", "refund", SearchFilters())
    with pytest.raises(QueryError):
        save_search(db, people["compliance"], "broken", '"unclosed', SearchFilters())
    with pytest.raises(InvalidValue, match="needs a name"):
        save_search(db, people["compliance"], " ", "refund", SearchFilters())
    assert list_saved_searches(db, people["compliance"]) == []


def _audit_rows(db: Database) -> list[tuple[str, str, str | None, str | None]]:
    """(who, action, target, about) of every audit row after the accounts were made."""
    with read_scope(db) as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action != "user_changed").order_by(AuditEntry.id)
        ).all()
    return [(r.username, r.action, r.target, r.details.get("about")) for r in rows]


def test_every_read_of_a_customers_data_is_audited_with_what_it_was(
    db: Database, people: dict[str, Principal], emma: int
) -> None:
    agent = people["agent"]
    find_customers(db, agent, "06 12345678", "NL")
    customer_profile(db, agent, emma)
    [chat, call] = customer_timeline(db, agent, emma)
    thread_messages(db, agent, chat.thread_id)
    customer_history(db, None, emma)  # the command line: no role, named as such
    assert _audit_rows(db) == [
        (agent.username, "customer_looked_up", f"customer:{emma}", "Emma de Vries"),
        (agent.username, "customer_viewed", f"customer:{emma}", "Emma de Vries"),
        (agent.username, "history_viewed", f"customer:{emma}", "Emma de Vries"),
        (
            agent.username,
            "thread_read",
            f"thread:{chat.thread_id}",
            "chat with Emma de Vries, 2024-05-07 10:00 UTC",
        ),
        (COMMAND_LINE, "history_viewed", f"customer:{emma}", "Emma de Vries"),
    ]
    with read_scope(db) as session:
        lookup = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer_looked_up")).one()
    assert lookup.details == {"about": "Emma de Vries", "query": "06 12345678", "customers": [emma]}
    assert verify_audit_chain(db).ok


def test_transcripts_read_anywhere_are_audited_with_the_call(
    db: Database, people: dict[str, Principal], emma: int
) -> None:
    [_, call] = customer_timeline(db, people["agent"], emma)
    assert call.recording_id is not None
    save_transcript(db, call.recording_id, HAND_TRANSCRIPT)
    view_transcript(db, people["agent"], call.recording_id)
    history = customer_history(db, people["agent"], emma)
    assert [i.kind for i in history.items] == ["call", "message", "message"]
    about = "call call-1.wav with Emma de Vries, 2024-05-06 09:30 UTC"
    with read_scope(db) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(2)).all()
    assert [(r.action, r.target, r.details.get("about")) for r in rows] == [
        ("history_viewed", f"customer:{emma}", "Emma de Vries"),
        ("transcript_viewed", f"recording:{call.recording_id}", about),
    ]
    assert rows[0].details["transcripts"] == [call.recording_id]
