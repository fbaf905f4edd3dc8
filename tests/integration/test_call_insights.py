"""Summaries, insights and trackers on the demo's real calls (``earshot demo``: the sample audio
transcribed with tiny.en, redacted as stored), through the functions and the ``earshot`` commands.
Properties only: which kind of line is picked and that figures hold together, never exact words."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import soundfile as sf

from earshot.call_insights import call_insights
from earshot.call_summary import SummaryParameters, summarize
from storage.access import Principal
from storage.db import Database, open_database
from storage.services import list_recordings, load_transcript, unredacted_transcript
from storage.trackers import call_tags, unseen_alerts
from storage.users import list_users
from tests.cli import earshot
from tests.paths import SAMPLE_AUDIO
from transcribe.types import Transcript

_PROMISE = re.compile(r"\b(i|we) will\b|\bi'll\b|\bwithin\b", re.IGNORECASE)
_AMOUNT = re.compile(r"\b(\d+|ten|five|forty[- ]nine) (euros?|dollars?)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("data")
    demo = earshot(data_dir, "demo", "--no-app")
    assert demo.exit_code == 0, demo.output
    return data_dir


@pytest.fixture(scope="module")
def transcripts(demo_data: Path) -> dict[int, Transcript]:
    db: Database = open_database(f"sqlite:///{demo_data / 'earshot.db'}")
    try:
        return {call.id: load_transcript(db, call.id) for call in list_recordings(db) if call.transcribed}
    finally:
        db.engine.dispose()


@pytest.mark.slow
def test_the_summary_keeps_the_agents_promise_and_the_amount(transcripts: dict[int, Transcript]) -> None:
    assert len(transcripts) == 3
    for transcript in transcripts.values():
        lines = summarize(transcript)
        role_of = {s.label: s.role for s in transcript.speakers}
        said = [u.text for u in transcript.utterances]
        assert 1 <= len(lines) <= SummaryParameters().max_lines
        assert [line.start for line in lines] == sorted(line.start for line in lines)  # call order
        for line in lines:
            # Every line is the transcript's own (stored, redacted) words, timed inside its utterance.
            assert any(line.text in text for text in said)
            assert any(
                u.speaker == line.speaker and u.start - 0.01 <= line.start <= line.end <= u.end + 0.01
                for u in transcript.utterances
            )
        promised = [
            u for u in transcript.utterances if role_of[u.speaker] == "agent" and _PROMISE.search(u.text)
        ]
        if promised:  # the agent promised something: a promise line is the agent's, with a promise in it
            kept = [line for line in lines if "promise" in line.kinds]
            assert all(line.role == "agent" for line in kept)
            assert any(_PROMISE.search(line.text) for line in kept)
        if any(_AMOUNT.search(text) for text in said):
            assert any(_AMOUNT.search(line.text) for line in lines if "amount" in line.kinds)
        assert sum("reason" in line.kinds for line in lines) <= 1
        assert all(line.role == "customer" for line in lines if "reason" in line.kinds)
    # A call where the customer says why they call gets its reason line.
    assert any(any("reason" in line.kinds for line in summarize(t)) for t in transcripts.values())


@pytest.mark.slow
def test_the_summary_never_shows_what_redaction_replaced(
    demo_data: Path, transcripts: dict[int, Transcript]
) -> None:
    db = open_database(f"sqlite:///{demo_data / 'earshot.db'}")
    try:
        heard = {i: unredacted_transcript(db, i) for i in transcripts}
    finally:
        db.engine.dispose()
    checked = 0
    for recording_id, transcript in transcripts.items():
        placeholders = {w.text.strip() for u in transcript.utterances for w in u.words if w.entity}
        said = {
            h.text.strip()
            for u, v in zip(transcript.utterances, heard[recording_id].utterances, strict=True)
            for w, h in zip(u.words, v.words, strict=True)
            if w.entity is not None and h.text.strip() not in placeholders
        }
        if not said:
            continue
        checked += 1
        # Every sentence as a line: whatever the summary may pick, only placeholders show.
        shown = " ".join(line.text for line in summarize(transcript, SummaryParameters(max_lines=100)))
        assert any(p in shown for p in placeholders)
        assert not any(word in shown.split() for word in said)
    assert checked, "the demo's first call reads out an account number"


@pytest.mark.slow
def test_insights_hold_together(transcripts: dict[int, Transcript]) -> None:
    for transcript in transcripts.values():
        found = call_insights(transcript)
        assert {s.role for s in found.speakers} == {"agent", "customer"}
        assert sum(s.talk_share for s in found.speakers) == pytest.approx(1.0)
        assert found.speakers[0].talk_share >= found.speakers[-1].talk_share
        for s in found.speakers:
            assert s.words > 0 and 0 < s.speech_seconds <= transcript.duration
            assert s.words_per_minute is not None and 60 <= s.words_per_minute <= 300  # people talking
            assert 0 < s.longest_monologue <= s.speech_seconds + 2.0  # a monologue may hold short pauses
            assert s.longest_monologue_start is not None
            assert 0 <= s.longest_monologue_start < transcript.duration
            assert s.mean_sentiment is not None and -1 <= s.mean_sentiment <= 1
        assert len(found.sentiment) == len(transcript.utterances)
        assert all(-1 <= u.compound <= 1 for u in found.sentiment)
        assert {p.segment for p in found.trend} <= set(range(5))
        assert sum(p.utterances for p in found.trend) == len(found.sentiment)
    # Support calls end politely: the closing fifth is not negative for the agent in any of them.
    for transcript in transcripts.values():
        last = [p for p in call_insights(transcript).trend if p.role == "agent" and p.segment == 4]
        assert all(p.mean >= 0 for p in last)


@pytest.mark.slow
def test_summary_insights_and_trackers_on_the_command_line(demo_data: Path) -> None:
    summary = earshot(demo_data, "summary", "1", "--json")
    assert summary.exit_code == 0, summary.output
    lines = json.loads(summary.stdout)["lines"]
    assert lines and all({"speaker", "role", "start", "end", "text", "kinds"} <= set(line) for line in lines)
    text = earshot(demo_data, "summary", "1").stdout.splitlines()
    assert len(text) == len(lines) and all(re.match(r"\[\d\d:\d\d\] \w+: ", line) for line in text)
    insights = json.loads(earshot(demo_data, "insights", "2", "--json").stdout)
    assert sum(s["talk_share"] for s in insights["speakers"]) == pytest.approx(1.0)
    assert insights["sentiment_language"] == "en"
    assert "SHARE" in earshot(demo_data, "insights", "2").stdout

    missing = earshot(demo_data, "summary", "999")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: ")

    added = earshot(demo_data, "tracker", "add", "Agent refunds", "refund", "--speaker-role", "agent")
    assert added.exit_code == 0, added.output
    tagged = int(re.search(r"(\d+) conversation", added.stdout).group(1))  # type: ignore[union-attr]
    assert tagged >= 1  # the demo's refund calls
    everything = earshot(demo_data, "tracker", "add", "Anything at all", "the OR a OR I")
    assert int(re.search(r"(\d+) conversation", everything.stdout).group(1)) > tagged  # type: ignore[union-attr]
    bad = earshot(demo_data, "tracker", "add", "Broken", '"unclosed')
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ")
    listed = json.loads(earshot(demo_data, "tracker", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["Agent refunds", "Anything at all", "Refunds"]  # the demo's too
    assert earshot(demo_data, "tracker", "remove", "Anything at all").exit_code == 0
    left = [t["name"] for t in json.loads(earshot(demo_data, "tracker", "list", "--json").stdout)]
    assert left == ["Agent refunds", "Refunds"]


@pytest.mark.slow
def test_the_worker_tags_a_newly_transcribed_call_and_alerts_the_owner(
    demo_data: Path, tmp_path: Path
) -> None:
    added = earshot(
        demo_data, "tracker", "add", "Account numbers", '"account number"', "--owner", "demo", "--notify"
    )
    assert added.exit_code == 0, added.output
    # A new recording of the first demo call (the same words, other bytes: a little quieter).
    samples, rate = sf.read(SAMPLE_AUDIO / "2024-05-06_double_charge.wav", dtype="float32")
    quieter = tmp_path / "incoming" / "again.wav"
    quieter.parent.mkdir()
    sf.write(quieter, samples * 0.9, rate, subtype="PCM_16")
    assert earshot(demo_data, "ingest", str(quieter)).exit_code == 0
    assert earshot(demo_data, "worker", "--once").exit_code == 0
    db = open_database(f"sqlite:///{demo_data / 'earshot.db'}")
    try:
        [new] = [c for c in list_recordings(db) if c.original_name == "again.wav"]
        assert new.transcribed
        demo = next(u for u in list_users(db, actor=None) if u.username == "demo")
        owner = Principal(demo.id, demo.username, demo.role, demo.agent_id)
        assert "Account numbers" in [t.name for t in call_tags(db, owner, new.id)]
        alerts = unseen_alerts(db, owner)
        # The new call only (the calls tagged when the trackers were added are no news), for each
        # tracker of the owner's that notifies: this one and the demo's "Refunds".
        assert {a.recording_id for a in alerts} == {new.id}
        assert "Account numbers" in {a.tracker for a in alerts}
        assert {a.tracker for a in alerts} <= {"Account numbers", "Refunds"}
    finally:
        db.engine.dispose()
