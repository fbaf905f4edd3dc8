"""Time to first chart on the Figures page with a million contacts in the embedded SQLite database.

    .venv/bin/python -m bench.figures_latency [--contacts 1000000] [--runs 20] [--db PATH]

Builds (once; reused when ``--db`` already exists) a database through the real migrations with
``--contacts`` conversations over two years (numbered in the order they start, give or take a few
hours, as ingest and import number them), 200 agents and a customer for every three contacts:
55 % calls (a recording each), 30 % chats (four messages), 15 % e-mail threads (three messages),
and a survey answer (CSAT, NPS or CES) for one contact in ten. Bulk-inserted through the driver: the
search bench's builder writes transcripts, which the figures do not read and which would take hours
here.

Then times what the page runs before its first chart, ``--runs`` times: the filter choices
(channels in use, newest contact) and the default view (28 days up to the newest contact, per
channel and day), and, for comparison, heavier views (per agent and week over 90 days; per channel
and week over a year). Prints p50 and p95 in milliseconds and how many contacts each view covers.
The machine's load skews single runs; compare figures taken in one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from storage.channel_figures import FigureRequest, channel_figures, figure_choices
from storage.db import Database, open_database, session_scope
from storage.models import Thread
from storage.users import create_user

SPAN_DAYS = 730
CHUNK = 50_000
START = datetime(2025, 1, 1, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    """A moment as SQLAlchemy stores it in SQLite: the rows go in through the driver, for speed."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


_INSERTS = {
    "threads": "INSERT INTO threads (id, customer_id, agent_id, channel, provider, provider_id, "
    "provider_account, direction, started_at, created_at) "
    "VALUES (?, ?, ?, ?, 'bench', ?, '', 'inbound', ?, ?)",
    "recordings": "INSERT INTO recordings (id, thread_id, sha256, original_name, format, size_bytes, "
    "duration, sample_rate, channels, ingested_at) "
    "VALUES (?, ?, ?, 'call.wav', 'WAV/PCM_16', 1, ?, 8000, 2, ?)",
    "messages": "INSERT INTO messages (thread_id, provider_message_id, direction, sent_at, body) "
    "VALUES (?, ?, ?, ?, 'Thanks for your message, we are looking into it.')",
    "survey_responses": "INSERT INTO survey_responses (source, response_id, thread_id, kind, score, "
    "answered_at, imported_at) VALUES ('bench', ?, ?, ?, ?, ?, ?)",
}


def build(db: Database, contacts: int, seed: int = 11) -> None:
    """Through the driver's executemany in one transaction per chunk (the ORM would take most of
    an hour for a million contacts); the schema, its indexes and constraints are the migrations'."""
    rng = random.Random(seed)
    agents, customers = 200, max(1, contacts // 3)
    now = _stamp(datetime.now(UTC))
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(
            "INSERT INTO agents (id, name, created_at) VALUES (?, ?, ?)",
            [(i + 1, f"Agent {i + 1:03d}", now) for i in range(agents)],
        )
        cursor.executemany(
            "INSERT INTO customers (id, display_name, created_at) VALUES (?, ?, ?)",
            [(i + 1, f"Customer {i + 1}", now) for i in range(customers)],
        )
        raw.commit()
        answers = 0
        for first in range(1, contacts + 1, CHUNK):
            rows: dict[str, list[tuple]] = {name: [] for name in _INSERTS}
            numbers = range(first, min(contacts, first + CHUNK - 1) + 1)
            # Ids in the order contacts arrive, as ingest and import give them, a few hours' jitter.
            step = SPAN_DAYS * 86_400 / contacts
            times = sorted(step * number + rng.uniform(-4 * 3600, 4 * 3600) for number in numbers)
            for number, offset in zip(numbers, times, strict=True):
                started = START + timedelta(seconds=max(0.0, offset))
                draw = rng.random()
                channel = "call" if draw < 0.55 else "chat" if draw < 0.85 else "email"
                agent = rng.randrange(1, agents + 1) if rng.random() < 0.97 else None
                customer = rng.randrange(1, customers + 1)
                rows["threads"].append((number, customer, agent, channel, str(number), _stamp(started), now))
                if channel == "call":
                    rows["recordings"].append((number, number, f"{number:064x}", rng.uniform(60, 900), now))
                else:
                    gap = 60 if channel == "chat" else 3600
                    directions = ("inbound", "outbound", "inbound", "outbound")[
                        : 4 if channel == "chat" else 3
                    ]
                    at = started
                    for step, direction in enumerate(directions):
                        at += timedelta(seconds=0 if step == 0 else rng.randrange(10, gap * 4))
                        rows["messages"].append((number, str(step), direction, _stamp(at)))
                if rng.random() < 0.1:
                    answers += 1
                    kind = rng.choice(("csat", "nps", "ces"))
                    low, top = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}[kind]
                    answered = _stamp(started + timedelta(hours=2))
                    rows["survey_responses"].append(
                        (str(answers), number, kind, float(rng.randint(low, top)), answered, now)
                    )
            for table, statement in _INSERTS.items():
                cursor.executemany(statement, rows[table])
            raw.commit()
            print(f"  {min(contacts, first + CHUNK - 1):>9} contacts written", flush=True)
    finally:
        raw.close()


def timed(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        took.append(1000 * (time.perf_counter() - began))
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--db", type=Path, help="SQLite file, built when missing and reused when there")
    parser.add_argument("--secrets", type=Path, help="the keys folder (default: next to --db)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.db or Path(scratch) / "figures.sqlite"
        url = f"sqlite:///{path}"
        secrets = args.secrets or (path.parent / "figures-secrets" if args.db else Path(scratch) / "secrets")
        db = open_database(url, secrets_dir=secrets)
        with session_scope(db) as session:
            stored = session.scalar(select(func.count()).select_from(Thread)) or 0
        if not stored:
            print(f"building {args.contacts} contacts in {db.label}", flush=True)
            began = time.perf_counter()
            build(db, args.contacts)
            print(f"built in {time.perf_counter() - began:.0f} s", flush=True)
            stored = args.contacts
        coach = _coach(db)
        latest = figure_choices(db, coach).latest or START
        end = datetime.combine(latest.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        default = FigureRequest(end - timedelta(days=28), end)
        views = {
            "default view: 28 days, per channel and day": default,
            "90 days, per agent and week": FigureRequest(
                end - timedelta(days=90), end, by="agent", per="week"
            ),
            "365 days, per channel and week": FigureRequest(end - timedelta(days=365), end, per="week"),
        }
        print(f"\n{stored} contacts, {db.label}, {args.runs} runs each")
        print(f"{'view':<46} {'contacts':>9} {'p50 ms':>8} {'p95 ms':>8}")
        p50, p95 = timed(args.runs, lambda: figure_choices(db, coach))
        print(f"{'filter choices (channels, newest contact)':<46} {'':>9} {p50:>8.1f} {p95:>8.1f}")
        for name, request in views.items():
            covered = sum(row.contacts for row in channel_figures(db, coach, request).totals)
            p50, p95 = timed(args.runs, partial(channel_figures, db, coach, request))
            print(f"{name:<46} {covered:>9} {p50:>8.1f} {p95:>8.1f}")
        p50, p95 = timed(args.runs, lambda: (figure_choices(db, coach), channel_figures(db, coach, default)))
        print(f"{'time to first chart (choices + default view)':<46} {'':>9} {p50:>8.1f} {p95:>8.1f}")
        db.engine.dispose()


def _coach(db: Database):  # type: ignore[no-untyped-def]
    """A coach's principal: the page reads as one (the role check and audit rows are part of the cost)."""
    from storage.access import Principal
    from storage.users import list_users

    found = [u for u in list_users(db, actor=None) if u.username == "bench-coach@example.com"]
    summary = (
        found[0]
        if found
        else create_user(db, "bench-coach@example.com", "bench-password-1", "coach", actor=None)
    )
    return Principal(summary.id, summary.username, summary.role, None)


if __name__ == "__main__":
    main()
