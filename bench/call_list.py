"""The call list and review queue at scale: time to a first page, to a filtered page and to the next
call to review, and to the team view, on a temporary SQLite database of ``--calls`` calls.

    PYTHONPATH=. .venv/bin/python -m bench.call_list [--calls 100000] [--agents 40] [--runs 30]

The calls are written with bulk inserts (no audio, no transcripts: the list reads rows only):
``--agents`` agents in four teams, a customer per five calls (with an e-mail identity), calls over
the last year, inbound or outbound, 30 s to 30 min, a fifth of them evaluated, one in 2000 flagged
for review (its redaction failed verification) and one in 500 assigned to the first of two coaches.
Each figure is the median and p95 of ``--runs`` calls of the service (audit write included), in
milliseconds. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from storage.access import Principal
from storage.call_list import CallFilters, list_call_page, next_call_to_review
from storage.db import Database, open_database, session_scope
from storage.models import (
    Agent,
    CallAssignment,
    Customer,
    Evaluation,
    Identity,
    Recording,
    RedactedSpan,
    ScorecardForm,
    Thread,
    Transcript,
    User,
)
from storage.quality import team_view

_BATCH = 20_000


def build(db: Database, calls: int, agents: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    customers = max(1, calls // 5)
    with session_scope(db) as session:
        session.execute(
            insert(User),
            [
                {"id": 1, "username": "coach@example.com", "role": "coach"},
                {"id": 2, "username": "coach2@example.com", "role": "coach"},
            ],
        )
        session.execute(insert(ScorecardForm), [{"id": 1, "name": "Bench", "version": 1, "created_by": 1}])
        session.execute(
            insert(Agent),
            [{"id": i + 1, "name": f"Agent {i + 1:03d}", "team": f"Team {i % 4}"} for i in range(agents)],
        )
        session.execute(
            insert(Customer), [{"id": i + 1, "display_name": f"Customer {i + 1}"} for i in range(customers)]
        )
        session.execute(
            insert(Identity),
            [
                {
                    "customer_id": i + 1,
                    "kind": "email",
                    "value": f"c{i + 1}@example.com",
                    "raw_value": f"c{i + 1}@example.com",
                }
                for i in range(customers)
            ],
        )
    for start in range(0, calls, _BATCH):
        ids = range(start + 1, min(calls, start + _BATCH) + 1)
        threads, recordings, evaluations = [], [], []
        for i in ids:
            agent = rng.randint(1, agents)
            threads.append(
                {
                    "id": i,
                    "customer_id": rng.randint(1, customers),
                    "agent_id": agent,
                    "channel": "call",
                    "provider": "earshot",
                    "provider_id": f"call-{i}",
                    "direction": rng.choice(("inbound", "outbound")),
                    "started_at": now - timedelta(seconds=rng.uniform(0, 365 * 86400)),
                }
            )
            recordings.append(
                {
                    "id": i,
                    "thread_id": i,
                    "sha256": f"{i:064x}",
                    "original_name": f"call-{i}.wav",
                    "format": "WAV/PCM_16",
                    "size_bytes": 1,
                    "duration": rng.uniform(30, 1800),
                    "sample_rate": 8000,
                    "channels": 2,
                }
            )
            if rng.random() < 0.2:
                evaluations.append(
                    {
                        "recording_id": i,
                        "form_id": 1,
                        "coach_id": 1,
                        "agent_id": agent,
                        "score": rng.uniform(40, 100),
                        "status": "submitted",
                    }
                )
        flagged = [i for i in ids if i % 2000 == 0]
        transcripts = [
            {"id": i, "recording_id": i, "language": "en", "duration": 1.0, "options": {}, "models": {}}
            for i in flagged
        ]
        spans = [
            {
                "transcript_id": i,
                "entity": "CARD",
                "speaker": "SPEAKER_01",
                "start": 0.0,
                "end": 1.0,
                "words": [[0, 0]],
                "heard": ["4519"],
                "verified": False,
            }
            for i in flagged
        ]
        assigned = [{"recording_id": i, "coach_id": 1, "assigned_by": 1} for i in ids if i % 500 == 7]
        with session_scope(db) as session:
            session.execute(insert(Thread), threads)
            session.execute(insert(Recording), recordings)
            if evaluations:
                session.execute(insert(Evaluation), evaluations)
            for model, rows in ((Transcript, transcripts), (RedactedSpan, spans), (CallAssignment, assigned)):
                if rows:
                    session.execute(insert(model), rows)


def _timed(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    action()  # warm the caches once
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'earshot.db'}")
        began = time.perf_counter()
        build(db, args.calls, args.agents)
        print(f"built {args.calls} calls, {args.agents} agents in {time.perf_counter() - began:.1f} s")
        coach = Principal(user_id=1, username="coach@example.com", role="coach", agent_id=None)
        other = Principal(user_id=2, username="coach2@example.com", role="coach", agent_id=None)
        month_ago = datetime.now(UTC) - timedelta(days=30)
        filtered = CallFilters(
            agent_id=3, direction="inbound", min_duration=120, started_from=month_ago, unscored=True
        )
        rng = random.Random(1)
        by_email, by_name = CallFilters(customer="c77@example.com"), CallFilters(customer="Customer 123")
        last_month = CallFilters(started_from=month_ago)
        team, now = CallFilters(team="Team 1"), datetime.now(UTC)
        flagged, mine = CallFilters(flagged=True), CallFilters(assigned_to=coach.user_id)
        year_ago = now - timedelta(days=365)
        cases: list[tuple[str, Callable[[], object]]] = [
            ("first page (newest 25)", lambda: list_call_page(db, coach)),
            ("first page, oldest first", lambda: list_call_page(db, coach, descending=False)),
            ("first page by duration", lambda: list_call_page(db, coach, sort="duration")),
            ("shortest first", lambda: list_call_page(db, coach, sort="duration", descending=False)),
            ("first page by agent", lambda: list_call_page(db, coach, sort="agent", descending=False)),
            ("page 40 (offset 975)", lambda: list_call_page(db, coach, offset=975)),
            ("filtered: agent+inbound+2min+30d+unscored", lambda: list_call_page(db, coach, filtered)),
            ("filtered: customer e-mail", lambda: list_call_page(db, coach, by_email)),
            ("filtered: customer name part", lambda: list_call_page(db, coach, by_name)),
            ("filtered: team (a quarter of the agents)", lambda: list_call_page(db, coach, team)),
            ("filtered: flagged only (1 in 2000)", lambda: list_call_page(db, coach, flagged)),
            ("filtered: assigned to me (1 in 500)", lambda: list_call_page(db, coach, mine)),
            ("next call to review (all; own calls first)", lambda: next_call_to_review(db, coach, rng=rng)),
            ("next call to review (30 days)", lambda: next_call_to_review(db, coach, last_month, rng=rng)),
            ("next call, a coach with none assigned", lambda: next_call_to_review(db, other, rng=rng)),
            ("next call, same, 30 days", lambda: next_call_to_review(db, other, last_month, rng=rng)),
            ("team view, every agent, 30 days", lambda: team_view(db, coach, month_ago, now)),
            ("team view, one team, 365 days", lambda: team_view(db, coach, year_ago, now, "Team 1")),
        ]  # fmt: skip
        print(f"{'case':45} {'p50 ms':>8} {'p95 ms':>8}")
        for name, action in cases:
            p50, p95 = _timed(args.runs, action)
            print(f"{name:45} {p50:8.1f} {p95:8.1f}")
        db.engine.dispose()


if __name__ == "__main__":
    main()
