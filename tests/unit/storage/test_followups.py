"""Follow-ups (``storage.followups``) on SQLite and PostgreSQL: adding with clear refusals, whom they
are for, overdue first, done once, the roles, the audit rows (ids, never the text), and that they go
with their conversation when a customer is erased or retention deletes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from storage import followups
from storage.access import Principal
from storage.audit import COMMAND_LINE, list_audit
from storage.blobs import BlobStore
from storage.db import Database, session_scope
from storage.deletion import DeletionPlan, delete
from storage.erasure import erase_customer
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.followups import (
    Assignee,
    add_followup,
    assignee_of,
    complete_followup,
    conversation_followups,
    customer_followups,
    list_followups,
    parse_due,
    resolve_assignee,
)
from storage.models import Agent, Customer, FollowUp, Thread
from tests.unit.storage.conftest import row_count

NOW = datetime.now(UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _thread(session: Session, customer: Customer, agent: Agent | None, channel: str, key: str) -> Thread:
    thread = Thread(
        customer=customer, agent=agent, channel=channel, provider="test", provider_id=key, started_at=NOW
    )
    session.add(thread)
    return thread


@pytest.fixture
def conversations(db: Database, people: dict[str, Principal]) -> dict[str, int]:
    """Emma's call with Alice (the agent account's agent) and her e-mail with Bob (no account);
    Noah's chat with nobody."""
    with session_scope(db) as session:
        alice = session.query(Agent).filter_by(name="Alice").one()
        bob = Agent(name="Bob")
        emma = Customer(display_name="Emma Stone")
        noah = Customer(display_name="Noah Berg")
        found = {
            "call": _thread(session, emma, alice, "call", "c1"),
            "email": _thread(session, emma, bob, "email", "e1"),
            "chat": _thread(session, noah, None, "chat", "n1"),
        }
        session.flush()
        return {name: thread.id for name, thread in found.items()} | {"emma": emma.id, "noah": noah.id}


def test_added_for_the_signed_in_user_and_listed_overdue_first(
    db: Database, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    agent = people["agent"]
    later = add_followup(db, agent, conversations["call"], "  Send the contract  ", NOW + timedelta(days=2))
    overdue = add_followup(db, agent, conversations["email"], "Call back", NOW - timedelta(hours=3))
    sooner = add_followup(db, agent, conversations["chat"], "Check the refund", NOW + timedelta(hours=1))
    assert later.what == "Send the contract"  # trimmed
    assert later.assignee == agent.username and later.for_user_id == agent.user_id
    assert later.created_by == agent.username and later.done_at is None
    mine = list_followups(db, agent, assignee_of(agent))
    assert [f.id for f in mine] == [overdue.id, sooner.id, later.id]
    assert [f.overdue(NOW) for f in mine] == [True, False, False]
    assert [f.id for f in list_followups(db, agent, assignee_of(agent), overdue_only=True)] == [overdue.id]
    # The customer's history shows both of Emma's, not Noah's.
    assert {f.id for f in customer_followups(db, agent, conversations["emma"])} == {later.id, overdue.id}
    assert [f.id for f in conversation_followups(db, agent, conversations["chat"])] == [sooner.id]


def test_command_line_gives_it_to_the_conversations_agent(
    db: Database, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    # Alice has an account: the follow-up is the account's. Bob has none: it is the agent's.
    to_alice = add_followup(db, None, conversations["call"], "Confirm the address", NOW)
    to_bob = add_followup(db, None, conversations["email"], "Answer the complaint", NOW)
    assert (to_alice.assignee, to_alice.for_user_id) == (people["agent"].username, people["agent"].user_id)
    assert (to_bob.assignee, to_bob.for_user_id, to_bob.created_by) == ("Bob", None, COMMAND_LINE)
    with pytest.raises(InvalidValue, match="has no agent: say whom"):
        add_followup(db, None, conversations["chat"], "Anything", NOW)
    bob = resolve_assignee(db, "Bob")
    assert [f.id for f in list_followups(db, None, bob)] == [to_bob.id]
    # An agent's list also holds what was given to their PBX agent before the account existed.
    with session_scope(db) as session:
        alice_id = session.query(Agent).filter_by(name="Alice").one().id
        session.add(FollowUp(thread_id=conversations["call"], what="Old", for_agent_id=alice_id, due_at=NOW))
    assert len(list_followups(db, people["agent"], assignee_of(people["agent"]))) == 2


def test_bad_input_is_refused_clearly_and_stores_nothing(
    db: Database, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    coach = people["coach"]
    with pytest.raises(InvalidValue, match="needs a text"):
        add_followup(db, coach, conversations["call"], "   ", NOW)
    with pytest.raises(InvalidValue, match="more than"):
        add_followup(db, coach, conversations["call"], "x" * (followups.LIMITS.what_max_chars + 1), NOW)
    with pytest.raises(NotFound, match="no conversation with id 999"):
        add_followup(db, coach, 999, "Call back", NOW)
    with pytest.raises(NotFound, match="no user or agent 'nobody'"):
        resolve_assignee(db, "nobody")
    with pytest.raises(InvalidValue, match="no active account"):
        add_followup(db, coach, conversations["call"], "Call back", NOW, Assignee("ghost", 999))
    with pytest.raises(InvalidValue, match="is no date"):
        parse_due("next tuesday", AMSTERDAM)
    with pytest.raises(NotFound, match="no follow-up with id 42"):
        complete_followup(db, coach, 42)
    assert row_count(db, FollowUp) == 0


def test_due_read_in_the_organisations_zone() -> None:
    # A day alone is due at its end, in the zone; a time without offset is the zone's wall clock.
    assert parse_due("2026-12-09", AMSTERDAM) == datetime(2026, 12, 9, 22, 59, tzinfo=UTC)
    assert parse_due("2026-07-01 14:30", AMSTERDAM) == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert parse_due("2026-07-01T14:30+00:00", AMSTERDAM) == datetime(2026, 7, 1, 14, 30, tzinfo=UTC)


def test_done_once_by_whom_it_is_for_its_author_or_a_coach(
    db: Database, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    agent, coach, admin = people["agent"], people["coach"], people["admin"]
    for_admin = add_followup(
        db, coach, conversations["call"], "Escalate", NOW, resolve_assignee(db, admin.username)
    )
    with pytest.raises(PermissionDenied, match="someone else's"):
        complete_followup(db, agent, for_admin.id)
    done = complete_followup(db, coach, for_admin.id)  # its author
    assert done.done_by == coach.username and done.done_at is not None
    assert done.done_at >= NOW
    with pytest.raises(InvalidValue, match="already done"):
        complete_followup(db, admin, for_admin.id)
    own = add_followup(db, agent, conversations["call"], "Mine", NOW)
    assert complete_followup(db, agent, own.id).done_by == agent.username
    # Done ones leave the open list and come last, the latest done first, in "all".
    assert list_followups(db, admin, None) == []
    assert [f.id for f in list_followups(db, admin, None, status="all")] == [own.id, for_admin.id]


def test_someone_elses_list_needs_a_coach(
    db: Database, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    coach_as_assignee = resolve_assignee(db, people["coach"].username)
    add_followup(db, people["agent"], conversations["call"], "For the coach", NOW, coach_as_assignee)
    with pytest.raises(PermissionDenied, match="only their own"):
        list_followups(db, people["agent"], coach_as_assignee)
    with pytest.raises(PermissionDenied, match="only their own"):
        list_followups(db, people["agent"], None)
    assert len(list_followups(db, people["admin"], coach_as_assignee)) == 1
    assert len(list_followups(db, people["coach"], None)) == 1


def test_audited_by_ids_never_the_text(
    db: Database, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    agent = people["agent"]
    added = add_followup(db, agent, conversations["call"], "Secret plan", NOW)
    complete_followup(db, None, added.id)
    list_followups(db, agent, assignee_of(agent), status="all")
    customer_followups(db, agent, conversations["emma"])
    rows = list_audit(db, people["compliance"])
    ours = [r for r in rows if r.action.startswith("follow_up")]
    assert [(r.action, r.username, r.target) for r in reversed(ours)] == [
        ("follow_up_added", agent.username, f"thread:{conversations['call']}"),
        ("follow_up_done", COMMAND_LINE, f"thread:{conversations['call']}"),
        ("follow_ups_listed", agent.username, f"agent:{agent.agent_id}"),
        ("follow_ups_listed", agent.username, f"customer:{conversations['emma']}"),
    ]
    assert all(r.details.get("follow_ups", [added.id]) == [added.id] for r in ours)
    assert not any("Secret plan" in str(r.details) for r in rows)


def test_erasure_and_retention_take_the_follow_ups_with_their_conversations(
    db: Database, blobs: BlobStore, people: dict[str, Principal], conversations: dict[str, int]
) -> None:
    add_followup(db, None, conversations["call"], "Emma's", NOW)
    add_followup(db, None, conversations["email"], "Emma's too", NOW)
    noah = add_followup(db, people["agent"], conversations["chat"], "Noah's", NOW)
    erase_customer(db, blobs, None, conversations["emma"], dry_run=False)
    assert row_count(db, FollowUp) == 1
    assert [f.id for f in list_followups(db, None, None)] == [noah.id]
    plan = DeletionPlan(thread_ids=frozenset({conversations["chat"]}))
    delete(db, blobs, plan, who=None, purpose="retention", target="test", dry_run=False, skip_held=False)
    assert row_count(db, FollowUp) == 0
