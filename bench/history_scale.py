"""Customer history at scale: import throughput, history latency, search over calls + messages.

    .venv/bin/python -m bench.history_scale [--emails 10000] [--chat-messages 10000]
        [--utterances 50000] [--history-items 1000] [--runs 20]

1. Import: writes a generated mbox of ``--emails`` e-mails (threads of 1-6 replies between 2,000
   customers and 20 agents, ~40% of customers also with a phone) and a generic-format chat export
   of ``--chat-messages`` messages (conversations of 2-20 messages), then times parsing
   (``read_email``/``read_chat``) and storing (``import_threads``, one transaction per thread)
   apart, as messages per second. A second import of the same files measures the idempotent path.
2. History: one customer with ``--history-items`` items (a fifth of them calls with 20 utterances
   each, the rest chat and e-mail messages); times ``customer_history`` and the ``earshot history``
   command (in process, text output) as median/p95 milliseconds.
3. Search: the calls of ``bench.search_latency.build`` (``--utterances``) plus every imported
   message; times ``search_utterances`` (two ranked queries merged) against a single UNION ALL of
   both indexes ordered by bm25, first page of 50.

The machine's load skews single runs; compare figures taken in one run.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, insert, select, text

from bench.search_latency import build as build_calls
from earshot.cli import main as earshot
from recorder.chat_import import read_chat
from recorder.email_import import read_email
from storage.db import Database, open_database, session_scope
from storage.history import customer_history
from storage.models import Customer, Message, Recording, Speaker, Thread, Transcript, Utterance
from storage.query import parse_query
from storage.search import HIGHLIGHT_END, HIGHLIGHT_START, SearchFilters, compile_fts5, search_utterances

OWN = "@earshot-telecom.example"
LINES = (
    "I was charged a late fee of {n} euros on my invoice",
    "could you send me the refund confirmation by e-mail",
    "my internet keeps dropping every evening since {day}",
    "we have issued a refund of {n} euros, it arrives within five working days",
    "the technician can come on {day} between nine and twelve",
    "I would like to cancel my contract because the price went up",
    "thank you, that solves it. Have a nice {day}",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def line(rng: random.Random) -> str:
    return rng.choice(LINES).format(n=rng.randrange(5, 200), day=rng.choice(DAYS))


def write_mbox(path: Path, count: int, rng: random.Random) -> None:
    box = mailbox.mbox(path)
    box.lock()
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    written = thread = 0
    while written < count:
        thread += 1
        customer = rng.randrange(2000)
        agent = rng.randrange(20)
        at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        root = f"<t{thread}@mail.example>"
        previous: list[str] = []
        for reply in range(min(rng.randint(1, 6), count - written)):
            inbound = reply % 2 == 0
            message = EmailMessage()
            message_id = root if reply == 0 else f"<t{thread}.{reply}@mail.example>"
            message["Message-ID"] = message_id
            message["Date"] = format_datetime(at + timedelta(hours=reply * 3))
            customer_address = f"Customer {customer} <customer{customer}@example.org>"
            agent_address = f"Agent {agent} <agent{agent}{OWN}>"
            message["From"], message["To"] = (
                (customer_address, agent_address) if inbound else (agent_address, customer_address)
            )
            message["Subject"] = ("Re: " if reply else "") + f"Question {thread}"
            if previous:
                message["In-Reply-To"] = previous[-1]
                message["References"] = " ".join(previous)
            message.set_content(f"Hello,\n\n{line(rng)}.\n\nRegards")
            box.add(message)
            previous.append(message_id)
            written += 1
    box.flush()
    box.unlock()


def write_chats(path: Path, count: int, rng: random.Random) -> None:
    conversations: list[dict[str, object]] = []
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    written = 0
    while written < count:
        n = min(rng.randint(2, 20), count - written)
        customer = rng.randrange(2000)
        at = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        conversations.append(
            {
                "id": f"chat-{len(conversations)}",
                "channel": rng.choice(("chat", "whatsapp")),
                "customer": {
                    "name": f"Customer {customer}",
                    "email": f"customer{customer}@example.org",
                    **({"phone": f"+3161{customer:07d}"} if customer % 5 < 2 else {}),
                },
                "agent": f"Agent {rng.randrange(20)}",
                "messages": [
                    {
                        "id": str(i),
                        "direction": "inbound" if i % 2 == 0 else "outbound",
                        "sent_at": (at + timedelta(seconds=40 * i)).isoformat(),
                        "text": line(rng),
                    }
                    for i in range(n)
                ],
            }
        )
        written += n
    path.write_text(json.dumps({"conversations": conversations}), encoding="utf-8")


def timed(action: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def bench_import(db: Database, folder: Path, emails: int, chat_messages: int) -> None:
    from storage.threads_import import import_threads

    rng = random.Random(3)
    write_mbox(folder / "mail.mbox", emails, rng)
    write_chats(folder / "chats.json", chat_messages, rng)
    print(f"{'import':<26} {'messages':>8} {'threads':>8} {'parse s':>8} {'store s':>8} {'msg/s':>8}")
    for label, read in (
        ("e-mail (mbox)", lambda: read_email([folder / "mail.mbox"], own_addresses=[OWN])),
        ("chat (generic JSON)", lambda: read_chat([folder / "chats.json"], "generic")),
    ):
        for attempt in ("first", "again"):
            parse_s, batch = timed(read)
            store_s, summary = timed(lambda b=batch: import_threads(db, b, "NL"))  # type: ignore[misc]
            total = summary.new_messages + summary.skipped_duplicates  # type: ignore[attr-defined]
            assert not summary.failed, summary.failed[:3]  # type: ignore[attr-defined]
            print(
                f"{label + ' ' + attempt:<26} {total:>8} {len(batch.threads):>8} {parse_s:>8.2f} "  # type: ignore[attr-defined]
                f"{store_s:>8.2f} {total / (parse_s + store_s):>8.0f}"
            )


def build_history(db: Database, items: int, rng: random.Random) -> int:
    """One customer with ``items`` history items: a fifth calls (20 utterances each), the rest messages."""
    calls = items // 5
    with session_scope(db) as session:
        customer = Customer(display_name="Heavy User")
        session.add(customer)
        session.flush()
        start = datetime(2023, 1, 1, tzinfo=UTC)
        for i in range(calls):
            thread = Thread(
                customer_id=customer.id,
                channel="call",
                provider="bench-history",
                provider_id=f"call-{i}",
                started_at=start + timedelta(hours=rng.randrange(365 * 24)),
            )
            session.add(thread)
            session.flush()
            recording = Recording(
                thread_id=thread.id,
                sha256=f"h{i:063x}",
                original_name=f"h{i}.wav",
                format="WAV",
                size_bytes=1,
                duration=120.0,
                sample_rate=8000,
                channels=2,
            )
            session.add(recording)
            session.flush()
            transcript = Transcript(
                recording_id=recording.id, language="en", duration=120.0, options={}, models={}
            )
            session.add(transcript)
            session.flush()
            agent, caller = (
                Speaker(transcript_id=transcript.id, label="S1", role="agent"),
                Speaker(transcript_id=transcript.id, label="S2", role="customer"),
            )
            session.add_all([agent, caller])
            session.flush()
            session.execute(
                insert(Utterance),
                [
                    {
                        "transcript_id": transcript.id,
                        "speaker_id": (agent if seq % 2 == 0 else caller).id,
                        "seq": seq,
                        "start": 6.0 * seq,
                        "end": 6.0 * seq + 5,
                        "text": line(rng),
                    }
                    for seq in range(20)
                ],
            )
        threads = []
        for i in range(max(1, (items - calls) // 10)):
            thread = Thread(
                customer_id=customer.id,
                channel=rng.choice(("chat", "email")),
                provider="bench-history",
                provider_id=f"thread-{i}",
                started_at=start + timedelta(hours=rng.randrange(365 * 24)),
            )
            session.add(thread)
            threads.append(thread)
        session.flush()
        session.execute(
            insert(Message),
            [
                {
                    "thread_id": threads[i % len(threads)].id,
                    "provider_message_id": f"m{i}",
                    "direction": "inbound" if i % 2 else "outbound",
                    "author": "Heavy User",
                    "sent_at": threads[i % len(threads)].started_at + timedelta(minutes=i),  # type: ignore[operator]
                    "body": line(rng),
                }
                for i in range(items - calls)
            ],
        )
        return customer.id


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def bench_history(db: Database, data_dir: Path, items: int, runs: int) -> None:
    customer_id = build_history(db, items, random.Random(5))
    found = customer_history(db, customer_id)
    assert len(found.items) == items, len(found.items)
    utterances = sum(len(i.utterances) for i in found.items if i.kind == "call")
    function = [timed(lambda: customer_history(db, customer_id))[0] * 1000 for _ in range(runs)]
    runner = CliRunner()
    command = [
        timed(lambda: runner.invoke(earshot, ["--data-dir", str(data_dir), "history", str(customer_id)]))[0]
        * 1000
        for _ in range(max(3, runs // 4))
    ]
    print(f"\nhistory of one customer: {items} items ({utterances} call utterances)")
    for label, samples in (("customer_history()", function), ("earshot history (text)", command)):
        median, p95 = percentiles(samples)
        print(f"  {label:<24} median {median:7.1f} ms   p95 {p95:7.1f} ms")


UNION = text(
    f"""
    SELECT kind, rowid, snip, score FROM (
        SELECT 0 AS kind, rowid, bm25(utterances_fts) AS score,
               snippet(utterances_fts, 0, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 16) AS snip
        FROM utterances_fts WHERE utterances_fts MATCH :q
        UNION ALL
        SELECT 1, rowid, bm25(messages_fts),
               snippet(messages_fts, 0, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 16)
        FROM messages_fts WHERE messages_fts MATCH :q
    ) ORDER BY score, kind, rowid LIMIT 51
    """
)
QUERIES = ('"late fee"', "refund*", "cancel OR technician", "NEAR(refund euros, 5)", "thursday nine")


def bench_search(db: Database, runs: int) -> None:
    with db.engine.connect() as connection:
        utterances = connection.execute(select(func.count()).select_from(Utterance)).scalar_one()
        messages = connection.execute(select(func.count()).select_from(Message)).scalar_one()
    print(f"\nsearch over {utterances} utterances + {messages} messages, first page of 50, {runs} runs")
    print(f"  {'query':<26} {'matches':>8} {'merged median/p95 ms':>22} {'UNION median/p95 ms':>22}")
    for query in QUERIES:
        expression = compile_fts5(parse_query(query))
        with db.engine.connect() as connection:
            matches = sum(
                connection.execute(
                    text(f"SELECT count(*) FROM {index} WHERE {index} MATCH :q"), {"q": expression}
                ).scalar_one()
                for index in ("utterances_fts", "messages_fts")
            )
            union = [
                timed(lambda q=expression: connection.execute(UNION, {"q": q}).all())[0] * 1000  # type: ignore[misc]
                for _ in range(runs)
            ]
        merged = [
            timed(lambda q=query: search_utterances(db, q, SearchFilters(), limit=50))[0] * 1000  # type: ignore[misc]
            for _ in range(runs)
        ]
        (m50, m95), (u50, u95) = percentiles(merged), percentiles(union)
        print(f"  {query:<26} {matches:>8} {m50:>12.1f} / {m95:<7.1f} {u50:>12.1f} / {u95:<7.1f}")
    filtered = [
        timed(
            lambda: search_utterances(
                db, "refund*", SearchFilters(channel="whatsapp", speaker_role="customer")
            )
        )[0]
        * 1000
        for _ in range(runs)
    ]
    median, p95 = percentiles(filtered)
    print(f"  refund* --channel whatsapp --speaker customer: median {median:.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--chat-messages", type=int, default=10_000)
    parser.add_argument("--utterances", type=int, default=50_000)
    parser.add_argument("--history-items", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        db = open_database(f"sqlite:///{folder / 'earshot.db'}")
        build_calls(db, args.utterances)  # explicit ids from 1: before anything else is stored
        bench_import(db, folder, args.emails, args.chat_messages)
        bench_history(db, folder, args.history_items, args.runs)
        bench_search(db, args.runs)
        db.engine.dispose()


if __name__ == "__main__":
    main()
