"""The call list and the review queue (``storage.call_list``) on SQLite and PostgreSQL: filters, sort,
paging, the role check and the audit, and the fair draw of the next call to review."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from recorder.types import CallMetadata
from storage.access import Principal
from storage.assignments import Reviewer, assign_call, assign_calls, list_reviewers
from storage.audit import list_audit
from storage.blobs import BlobStore
from storage.call_list import CallFilters, CallRow, list_call_page, next_call_to_review
from storage.db import Database, session_scope
from storage.disputes import uphold_dispute
from storage.erasure import erase_customer
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.models import Recording
from storage.quality import (
    AnswerInput,
    QuestionSpec,
    SectionSpec,
    create_form,
    dispute_evaluation,
    list_evaluations,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from storage.services import ingest_recording
from storage.teams import set_agent_team
from tests.unit.storage.conftest import MakeRecording
from tests.unit.storage.test_audio_export import save_redacted_transcript

DAY = datetime(2026, 11, 2, 9, tzinfo=UTC)
# (agent, customer, e-mail, phone, direction, day offset, duration in seconds)
CALLS = [
    ("Alice", "Emma Stone", "emma@example.com", "+31612345678", "inbound", 0, 120.0),
    ("Alice", "Noah Berg", "noah@example.com", None, "outbound", 1, 600.0),
    ("Alice", "Emma Stone", "emma@example.com", "+31612345678", "inbound", 2, 45.0),
    ("Alice", "Liam Vos", "liam@example.com", None, "inbound", 3, 300.0),
    ("Bob", "Emma Stone", "emma@example.com", "+31612345678", "outbound", 4, 900.0),
    ("Bob", "Sara Jansen", "sara@example.com", None, "inbound", 5, 30.0),
    ("Carol", "Noah Berg", "noah@example.com", None, "inbound", 6, 240.0),
    ("Carol", "Liam Vos", "liam@example.com", None, "outbound", 7, 75.0),
]


@pytest.fixture
def calls(db: Database, blobs: BlobStore, make_recording: MakeRecording) -> list[int]:
    """Eight calls of three agents over eight days, with the durations of ``CALLS``."""
    ids = []
    for seed, (agent, name, email, phone, direction, day, duration) in enumerate(CALLS):
        metadata = CallMetadata(
            agent=agent,
            customer_name=name,
            customer_email=email,
            customer_phone=phone,
            direction=direction,  # type: ignore[arg-type]
            started_at=DAY + timedelta(days=day),
        )
        recording_id = ingest_recording(
            db, make_recording(seed=seed, metadata=metadata), blobs, "NL"
        ).recording_id
        with session_scope(db) as session:
            session.execute(update(Recording).where(Recording.id == recording_id).values(duration=duration))
        ids.append(recording_id)
    return ids


def _score(db: Database, people: dict[str, Principal], recording_ids: list[int], submit: bool = True) -> None:
    form = create_form(
        db, people["admin"], f"Form {recording_ids}", [SectionSpec("One", (QuestionSpec("Q"),))]
    )
    question = form.sections[0].questions[0].id
    assert question is not None
    for recording_id in recording_ids:
        view = start_evaluation(db, people["coach"], recording_id, form.id)
        save_answers(db, people["coach"], view.summary.id, {question: AnswerInput("yes")})
        if submit:
            submit_evaluation(db, people["coach"], view.summary.id)


def _all(
    db: Database, who: Principal, filters: CallFilters | None = None, **options: object
) -> list[CallRow]:
    return list(list_call_page(db, who, filters or CallFilters(), limit=200, **options).calls)  # type: ignore[arg-type]


def test_newest_first_with_what_a_row_shows(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    rows = _all(db, people["coach"])
    assert [r.id for r in rows] == calls[::-1]
    starts = [r.started_at for r in rows]
    assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]
    assert all(r.started_at is not None and r.started_at.tzinfo is not None for r in rows)
    first = rows[-1]
    assert (first.agent, first.customer, first.direction, first.duration, first.evaluations) == (
        "Alice",
        "Emma Stone",
        "inbound",
        120.0,
        0,
    )


@pytest.mark.parametrize("sort", ["started", "duration", "agent"])
@pytest.mark.parametrize("descending", [True, False])
def test_pages_cover_the_sorted_list_once(
    db: Database, people: dict[str, Principal], calls: list[int], sort: str, descending: bool
) -> None:
    whole = _all(db, people["coach"], sort=sort, descending=descending)
    key = {"started": lambda r: r.started_at, "duration": lambda r: r.duration, "agent": lambda r: r.agent}[
        sort
    ]
    keys = [key(r) for r in whole]
    assert keys == sorted(keys, reverse=descending)
    paged: list[int] = []
    offset = 0
    while True:
        page = list_call_page(db, people["coach"], sort=sort, descending=descending, limit=3, offset=offset)  # type: ignore[arg-type]
        paged += [r.id for r in page.calls]
        assert len(page.calls) <= 3
        if not page.has_more:
            break
        offset += 3
    assert paged == [r.id for r in whole]
    assert sorted(paged) == sorted(calls)


def test_filters_narrow_the_list(db: Database, people: dict[str, Principal], calls: list[int]) -> None:
    coach = people["coach"]
    alice = _all(db, coach)[-1].agent_id
    assert {r.agent for r in _all(db, coach, CallFilters(agent_id=alice))} == {"Alice"}
    assert len(_all(db, coach, CallFilters(agent_id=alice))) == 4
    inbound = _all(db, coach, CallFilters(direction="inbound"))
    assert len(inbound) == 5 and {r.direction for r in inbound} == {"inbound"}
    middle = _all(db, coach, CallFilters(min_duration=60, max_duration=300))
    assert sorted(r.duration for r in middle) == [75.0, 120.0, 240.0, 300.0]
    week = _all(
        db, coach, CallFilters(started_from=DAY + timedelta(days=2), started_before=DAY + timedelta(days=5))
    )
    assert sorted(r.id for r in week) == calls[2:5]
    combined = _all(db, coach, CallFilters(agent_id=alice, direction="inbound", max_duration=200))
    assert sorted(r.id for r in combined) == [calls[0], calls[2]]


def test_team_filter_lists_the_calls_of_the_teams_agents(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    set_agent_team(db, "Alice", "North", actor=None)
    set_agent_team(db, "Carol", "North", actor=None)
    set_agent_team(db, "Bob", "South", actor=None)
    coach = people["coach"]
    north = _all(db, coach, CallFilters(team="North"))
    assert sorted(r.id for r in north) == sorted(calls[:4] + calls[6:])
    assert [r.id for r in _all(db, coach, CallFilters(team="South", direction="inbound"))] == [calls[5]]
    assert _all(db, coach, CallFilters(team="Nobody")) == []
    with pytest.raises(InvalidValue, match="team filter is empty"):
        CallFilters(team=" ")
    [event] = [
        e for e in list_audit(db, people["admin"], username="coach@example.com") if e.action == "calls_listed"
    ][:1]
    assert event.details["filters"] == {"team": "Nobody"}


def test_a_period_in_another_zone_is_the_same_moments(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    """The page gives local midnights: 2 Nov 10:00 in Amsterdam is the first call's 09:00 UTC."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    just_after = CallFilters(started_from=datetime(2026, 11, 2, 10, 1, tzinfo=amsterdam))
    assert calls[0] not in [r.id for r in _all(db, people["coach"], just_after)]
    at_it = CallFilters(started_from=datetime(2026, 11, 2, 10, 0, tzinfo=amsterdam))
    assert calls[0] in [r.id for r in _all(db, people["coach"], at_it)]


@pytest.mark.parametrize(
    "customer", ["emma", "EMMA STONE", "emma@example.com", "06 1234 5678", "+31612345678", "12345678"]
)
def test_customer_filter_is_as_forgiving_as_search(
    db: Database, people: dict[str, Principal], calls: list[int], customer: str
) -> None:
    rows = _all(db, people["coach"], CallFilters(customer=customer))
    assert sorted(r.id for r in rows) == [calls[0], calls[2], calls[4]]
    assert {r.customer for r in rows} == {"Emma Stone"}


def test_customer_filter_takes_name_parts_literally(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    assert _all(db, people["coach"], CallFilters(customer="%")) == []
    assert _all(db, people["coach"], CallFilters(customer="nobody@example.com")) == []


def test_unscored_leaves_out_every_evaluated_call(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    _score(db, people, [calls[0], calls[4]])
    _score(db, people, [calls[1]], submit=False)  # a draft: a coach is on it
    rows = _all(db, people["coach"], CallFilters(unscored=True))
    assert sorted(r.id for r in rows) == sorted(set(calls) - {calls[0], calls[1], calls[4]})
    assert all(r.evaluations == 0 for r in rows)
    assert {r.id: r.evaluations for r in _all(db, people["coach"])}[calls[0]] == 1


def test_disputed_keeps_the_calls_whose_dispute_is_open(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    _score(db, people, calls[:3])  # Alice's calls, whose agent is the agent account
    evaluation = {e.recording_id: e.id for e in list_evaluations(db, people["agent"])}
    for call in calls[:2]:
        dispute_evaluation(db, people["agent"], evaluation[call], "Not fair")
    uphold_dispute(db, people["coach"], evaluation[calls[1]], "The score stands")  # closed
    rows = _all(db, people["coach"], CallFilters(disputed=True))
    assert [(r.id, r.disputed) for r in rows] == [(calls[0], True)]
    assert [r.id for r in _all(db, people["coach"]) if r.disputed] == [calls[0]]
    assert (
        _all(db, people["coach"], CallFilters(disputed=True, unscored=True)) == []
    )  # a disputed call is scored


@pytest.mark.parametrize(
    "filters",
    [
        lambda: CallFilters(customer="  "),
        lambda: CallFilters(min_duration=-1),
        lambda: CallFilters(min_duration=10, max_duration=5),
        lambda: CallFilters(started_from=DAY, started_before=DAY),
        lambda: CallFilters(started_from=datetime(2026, 11, 2)),
        lambda: CallFilters(direction="sideways"),  # type: ignore[arg-type]
    ],
)
def test_nonsense_filters_are_refused(filters: object) -> None:
    with pytest.raises(InvalidValue):
        filters()  # type: ignore[operator]


def test_nonsense_paging_is_refused(db: Database, people: dict[str, Principal]) -> None:
    for options in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"sort": "customer"}):
        with pytest.raises(InvalidValue):
            list_call_page(db, people["coach"], **options)  # type: ignore[arg-type]


def test_agents_may_not_list_calls_and_every_listing_is_audited(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    with pytest.raises(PermissionDenied):
        list_call_page(db, people["agent"])
    with pytest.raises(PermissionDenied):
        next_call_to_review(db, people["agent"])
    list_call_page(db, people["coach"], CallFilters(customer="emma", unscored=True), offset=0)
    next_call_to_review(db, people["coach"], rng=random.Random(1))
    entries = [
        e for e in list_audit(db, people["admin"], username="coach@example.com") if e.action == "calls_listed"
    ]
    assert len(entries) == 2
    listed = next(e for e in entries if "calls" in e.details)
    assert listed.details["filters"] == {"customer": "emma", "unscored": True}
    assert listed.details["calls"] == 3
    picked = next(e for e in entries if "next_to_review" in e.details)
    assert picked.details["next_to_review"] in calls


def test_next_call_goes_to_the_agent_with_the_fewest_scored_calls(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    # Alice 2 scored, Bob 1, Carol 0: Carol's unscored calls come first, whatever the draw.
    _score(db, people, [calls[0], calls[1], calls[4]])
    for seed in range(10):
        chosen = next_call_to_review(db, people["coach"], rng=random.Random(seed))
        assert chosen is not None and chosen.agent == "Carol" and chosen.evaluations == 0
    _score(db, people, [calls[6], calls[7]])  # Carol 2, and none of hers left: Bob (1) goes next
    chosen = next_call_to_review(db, people["coach"], rng=random.Random(0))
    assert chosen is not None and (chosen.agent, chosen.id) == ("Bob", calls[5])


def test_next_call_counts_the_period_and_keeps_to_the_filters(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    _score(db, people, [calls[6], calls[7]])  # Carol's calls, on days 6 and 7
    early = CallFilters(started_before=DAY + timedelta(days=6))
    # In days 0-5 nobody is scored and only Alice and Bob have calls: a tie, drawn among them.
    assert {next_call_to_review(db, people["coach"], early, random.Random(s)).agent for s in range(20)} == {  # type: ignore[union-attr]
        "Alice",
        "Bob",
    }
    inbound = CallFilters(direction="inbound", max_duration=100)
    for seed in range(10):
        chosen = next_call_to_review(db, people["coach"], inbound, random.Random(seed))
        assert chosen is not None and chosen.direction == "inbound" and chosen.duration <= 100


def test_the_draw_samples_an_agents_calls_not_the_first(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    alice = CallFilters(agent_id=_all(db, people["coach"])[-1].agent_id)
    drawn = {next_call_to_review(db, people["coach"], alice, random.Random(s)).id for s in range(40)}  # type: ignore[union-attr]
    assert drawn == set(calls[:4])
    same = [next_call_to_review(db, people["coach"], alice, random.Random(7)) for _ in range(3)]
    assert len({c.id for c in same if c}) == 1  # the seed decides


def test_nothing_left_to_review(db: Database, people: dict[str, Principal], calls: list[int]) -> None:
    _score(db, people, calls)
    assert next_call_to_review(db, people["coach"], rng=random.Random(0)) is None
    assert list_call_page(db, people["coach"], CallFilters(unscored=True)).calls == ()


def test_flagged_keeps_the_calls_whose_redaction_failed_verification(
    db: Database, blobs: BlobStore, people: dict[str, Principal], calls: list[int]
) -> None:
    save_redacted_transcript(db, blobs, calls[2], verified=False)
    save_redacted_transcript(db, blobs, calls[3], verified=True, copy=b"another copy")
    assert [r.id for r in _all(db, people["coach"]) if r.flagged] == [calls[2]]
    rows = _all(db, people["coach"], CallFilters(flagged=True))
    assert [(r.id, r.flagged) for r in rows] == [(calls[2], True)]
    newest = next(
        e for e in list_audit(db, people["admin"], username="coach@example.com") if "calls" in e.details
    )
    assert newest.details["filters"] == {"flagged": True}


def test_a_coach_assigns_a_call_and_the_list_shows_and_filters_it(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    coach, admin = people["coach"], people["admin"]
    assert [r.username for r in list_reviewers(db, coach)] == [
        "admin@example.com",
        "coach@example.com",
        "compliance@example.com",
    ]
    with pytest.raises(PermissionDenied):
        assign_call(db, people["agent"], calls[0], coach.user_id)
    with pytest.raises(PermissionDenied):
        list_reviewers(db, people["agent"])
    with pytest.raises(InvalidValue, match="may score calls"):
        assign_call(db, coach, calls[0], people["agent"].user_id)  # agents do not review
    with pytest.raises(NotFound):
        assign_call(db, coach, 9999, coach.user_id)

    assert assign_call(db, admin, calls[1], coach.user_id) == Reviewer(coach.user_id, "coach@example.com")
    assign_call(db, coach, calls[5], coach.user_id)
    assign_call(db, coach, calls[6], admin.user_id)
    mine = _all(db, coach, CallFilters(assigned_to=coach.user_id))
    assert [(r.id, r.assignee) for r in mine] == [
        (calls[5], "coach@example.com"),
        (calls[1], "coach@example.com"),
    ]
    assert {r.id: r.assignee for r in _all(db, coach)}[calls[6]] == "admin@example.com"

    assert assign_call(db, coach, calls[6], coach.user_id) is not None  # handed over
    assert assign_call(db, coach, calls[5], None) is None  # taken back
    assert [r.id for r in _all(db, coach, CallFilters(assigned_to=coach.user_id))] == [calls[6], calls[1]]
    assigned = [
        (e.username, e.target, e.details["coach"], e.details["before"])
        for e in reversed(list_audit(db, admin))
        if e.action == "call_assigned"
    ]
    assert assigned == [
        ("admin@example.com", f"recording:{calls[1]}", "coach@example.com", None),
        ("coach@example.com", f"recording:{calls[5]}", "coach@example.com", None),
        ("coach@example.com", f"recording:{calls[6]}", "admin@example.com", None),
        ("coach@example.com", f"recording:{calls[6]}", "coach@example.com", "admin@example.com"),
        ("coach@example.com", f"recording:{calls[5]}", None, "coach@example.com"),
    ]


def test_a_coach_assigns_several_calls_at_once_all_or_none(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    coach, admin = people["coach"], people["admin"]
    with pytest.raises(PermissionDenied):
        assign_calls(db, people["agent"], calls[:2], coach.user_id)
    with pytest.raises(InvalidValue, match="at least one call"):
        assign_calls(db, coach, [], coach.user_id)
    assign_call(db, coach, calls[2], admin.user_id)
    # One missing call: none of them changes, and the error names it.
    with pytest.raises(NotFound, match="9999"):
        assign_calls(db, coach, [calls[0], 9999, calls[2]], coach.user_id)
    with pytest.raises(InvalidValue, match="may score calls"):
        assign_calls(db, coach, [calls[0], calls[2]], people["agent"].user_id)
    assert {r.id: r.assignee for r in _all(db, coach)} == {
        **{call: None for call in calls},
        calls[2]: "admin@example.com",
    }

    assigned = assign_calls(db, coach, [calls[0], calls[2], calls[0]], coach.user_id)  # a call twice: once
    assert assigned == Reviewer(coach.user_id, "coach@example.com")
    mine = _all(db, coach, CallFilters(assigned_to=coach.user_id))
    assert sorted(r.id for r in mine) == sorted([calls[0], calls[2]])
    assert assign_calls(db, admin, [calls[0], calls[2]], None) is None  # both taken back
    assert _all(db, coach, CallFilters(assigned_to=coach.user_id)) == []
    audited = [
        (e.target, e.details["coach"], e.details["before"])
        for e in reversed(list_audit(db, admin))
        if e.action == "call_assigned"
    ]
    assert audited == [
        (f"recording:{calls[2]}", "admin@example.com", None),
        (f"recording:{calls[0]}", "coach@example.com", None),
        (f"recording:{calls[2]}", "coach@example.com", "admin@example.com"),
        (f"recording:{calls[0]}", None, "coach@example.com"),
        (f"recording:{calls[2]}", None, "coach@example.com"),
    ]


def test_next_call_offers_a_coach_their_assigned_calls_first_and_leaves_others_alone(
    db: Database, people: dict[str, Principal], calls: list[int]
) -> None:
    coach, admin = people["coach"], people["admin"]
    assign_call(db, admin, calls[4], coach.user_id)
    assign_call(db, admin, calls[2], coach.user_id)
    assign_call(db, admin, calls[7], admin.user_id)
    # Carol has the fewest scored calls, yet the coach's own come first, the earliest call first.
    _score(db, people, [calls[0], calls[1]])
    picks = [next_call_to_review(db, coach, rng=random.Random(s)) for s in range(3)]
    assert {p.id for p in picks if p} == {calls[2]}
    _score(db, people, [calls[2]])
    assert next_call_to_review(db, coach, rng=random.Random(0)).id == calls[4]  # type: ignore[union-attr]
    _score(db, people, [calls[4]])
    # None of the coach's own left: the fair draw, without the call assigned to the admin.
    drawn = {next_call_to_review(db, coach, rng=random.Random(s)).id for s in range(30)}  # type: ignore[union-attr]
    assert drawn == {calls[6]}  # Carol's only unassigned call
    assert next_call_to_review(db, admin, rng=random.Random(0)).id == calls[7]  # type: ignore[union-attr]
    entries = [
        e for e in list_audit(db, admin, username="coach@example.com") if "next_to_review" in e.details
    ]
    assert [e.details["assigned"] for e in reversed(entries)][:4] == [True, True, True, True]


def test_erasing_a_customer_takes_their_calls_assignments_with_them(
    db: Database, blobs: BlobStore, people: dict[str, Principal], calls: list[int]
) -> None:
    coach = people["coach"]
    assign_call(db, coach, calls[5], coach.user_id)  # Sara Jansen's only call
    assign_call(db, coach, calls[1], coach.user_id)
    sara = next(r.customer_id for r in _all(db, coach) if r.id == calls[5])
    assert sara is not None
    erase_customer(db, blobs, None, sara, dry_run=False)
    assert [r.id for r in _all(db, coach, CallFilters(assigned_to=coach.user_id))] == [calls[1]]
