"""Teams (``storage.teams``) and the team view (``storage.quality.team_view``) on SQLite and PostgreSQL:
the figures of every agent on known calls and transcripts, the team filter, periods in a time zone,
the role checks and the audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from recorder.types import CallMetadata
from storage.access import Principal
from storage.agents_view import list_agents
from storage.audit import list_audit
from storage.blobs import BlobStore
from storage.db import Database
from storage.errors import InvalidValue, PermissionDenied
from storage.limits import TEAM_MAX_CHARS
from storage.quality import TeamRow, create_form, save_answers, start_evaluation, submit_evaluation, team_view
from storage.services import ingest_recording
from storage.teams import AgentTeam, list_teams, set_agent_team
from tests.unit.storage.conftest import MakeRecording
from tests.unit.storage.test_quality import SECTIONS, _answers, calls  # noqa: F401 (a fixture)

NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


@pytest.fixture
def teams(
    db: Database,
    blobs: BlobStore,
    make_recording: MakeRecording,
    people: dict[str, Principal],
    calls: dict[str, int],  # noqa: F811 (the fixture imported above)
) -> dict[str, int]:
    """Alice (Emma's and Noah's calls, Emma's scored) and Carol (one call, in December) in North;
    Bob (one call) in South."""
    metadata = CallMetadata(agent="Carol", started_at=datetime(2026, 12, 20, 9, tzinfo=UTC))
    calls["carol"] = ingest_recording(db, make_recording(seed=9, metadata=metadata), blobs, "NL").recording_id
    for agent, team in (("Alice", "North"), ("Bob", "South"), ("carol", " North ")):
        set_agent_team(db, agent, team, actor=people["admin"])
    form = create_form(db, people["admin"], "Service call", SECTIONS)
    evaluation = start_evaluation(db, people["coach"], calls["emma"], form.id)
    save_answers(db, people["coach"], evaluation.summary.id, _answers(form, "yes", "4", "yes", "no"))
    submit_evaluation(db, people["coach"], evaluation.summary.id)
    return calls


def _by_agent(rows: list[TeamRow]) -> dict[str, TeamRow]:
    return {row.agent: row for row in rows}


def test_every_agent_side_by_side(db: Database, people: dict[str, Principal], teams: dict[str, int]) -> None:
    rows = team_view(db, people["coach"], *NOVEMBER)
    assert [(r.agent, r.team) for r in rows] == [("Alice", "North"), ("Bob", "South"), ("Carol", "North")]
    alice, bob, carol = rows
    assert (alice.calls, alice.scored_calls, alice.evaluations, alice.transcribed_calls) == (2, 1, 1, 2)
    assert alice.average_score == pytest.approx(100 * (1 + 1.5) / 4)
    # Emma's call: agent 1.0 s of 2.3 s speech, 0.1 silent, the customer interrupts once; Noah's: half, none.
    assert alice.talk_ratio == pytest.approx((1.0 / 2.3 + 0.5) / 2)
    assert alice.silence_share == pytest.approx(0.05)
    assert (alice.agent_interruptions, alice.customer_interruptions) == (0, 1)
    assert (bob.calls, bob.scored_calls, bob.average_score, bob.talk_ratio, bob.silence_share) == (
        1,
        0,
        None,
        pytest.approx(1.0),
        pytest.approx(0.0),
    )
    # Carol's only call is in December: a row of zeros, not a missing row.
    assert (carol.calls, carol.transcribed_calls, carol.talk_ratio, carol.average_score) == (0, 0, None, None)


def test_team_filter_and_a_period_in_a_time_zone(
    db: Database, people: dict[str, Principal], teams: dict[str, int]
) -> None:
    north = team_view(db, people["coach"], *NOVEMBER, team="North")
    assert [r.agent for r in north] == ["Alice", "Carol"]
    assert team_view(db, people["coach"], *NOVEMBER, team="Nobody") == []
    # Emma's call at 09:00 UTC on 2 November is 10:00 in Amsterdam: the 3rd's midnight there leaves it out.
    amsterdam = ZoneInfo("Europe/Amsterdam")
    start = datetime(2026, 11, 3, tzinfo=amsterdam)
    alice = _by_agent(team_view(db, people["coach"], start, start + timedelta(days=28)))["Alice"]
    assert (alice.calls, alice.scored_calls, alice.talk_ratio) == (1, 0, pytest.approx(0.5))
    with pytest.raises(InvalidValue, match="time zone"):
        team_view(db, people["coach"], datetime(2026, 11, 1), datetime(2026, 12, 1))
    with pytest.raises(InvalidValue, match="ends before it starts"):
        team_view(db, people["coach"], NOVEMBER[1], NOVEMBER[0])
    with pytest.raises(InvalidValue, match="at most 366 days"):
        team_view(db, people["coach"], NOVEMBER[0], NOVEMBER[0] + timedelta(days=367))
    with pytest.raises(InvalidValue, match="empty"):
        team_view(db, people["coach"], *NOVEMBER, team=" ")


def test_team_view_needs_a_coach_and_is_audited(
    db: Database, people: dict[str, Principal], teams: dict[str, int]
) -> None:
    with pytest.raises(PermissionDenied, match="may not view agent overviews"):
        team_view(db, people["agent"], *NOVEMBER)
    team_view(db, people["compliance"], *NOVEMBER, team="South")
    [event] = [e for e in list_audit(db, people["admin"]) if e.action == "team_viewed"]
    assert event.username == "compliance@example.com"
    assert event.details == {
        "from": "2026-11-01T00:00:00+00:00",
        "to": "2026-12-01T00:00:00+00:00",
        "team": "South",
        "agents": 1,
    }


def test_an_admin_sets_and_clears_a_team(
    db: Database, people: dict[str, Principal], teams: dict[str, int]
) -> None:
    assert list_teams(db, people["coach"]) == ["North", "South"]
    with pytest.raises(PermissionDenied):
        set_agent_team(db, "Bob", "North", actor=people["coach"])
    with pytest.raises(PermissionDenied):
        list_teams(db, people["agent"])
    assert set_agent_team(db, "bob", "North", actor=people["admin"]) == AgentTeam("Bob", "North")
    assert set_agent_team(db, "Carol", "", actor=None) == AgentTeam("Carol", None)
    assert list_teams(db, people["coach"]) == ["North"]
    assert [(a.name, a.team) for a in list_agents(db, people["coach"])] == [
        ("Alice", "North"),
        ("Bob", "North"),
        ("Carol", None),
    ]
    changes = [e for e in list_audit(db, people["admin"]) if e.action == "agent_team_set"]
    assert [(e.username, e.about, e.details["team"], e.details["before"]) for e in changes[:2]] == [
        ("(command line)", "agent Carol", None, "North"),  # newest first
        ("admin@example.com", "agent Bob", "North", "South"),
    ]
    with pytest.raises(InvalidValue, match="no PBX agent 'Dave'"):
        set_agent_team(db, "Dave", "North", actor=None)
    with pytest.raises(InvalidValue, match="at most"):
        set_agent_team(db, "Bob", "x" * (TEAM_MAX_CHARS + 1), actor=None)
