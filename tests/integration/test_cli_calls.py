"""The `earshot` command end to end on real files, a real SQLite database (a PostgreSQL server too for
the worker killed mid-job) and the embedded model."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import wave
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select, text

from earshot.cli import main
from storage.db import create_storage_engine, open_database, session_scope
from storage.models import Job, as_utc
from tests.cli import earshot
from tests.contract import TRANSCRIPT_JSON_KEYS
from tests.paths import EVAL, REPO, SAMPLE_AUDIO

STEREO = EVAL / "stereo_2spk.wav"


def rows(data_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "earshot.db") as connection:  # commits an UPDATE on leaving
        return connection.execute(sql).fetchall()


def test_every_command_has_help(tmp_path: Path) -> None:
    assert earshot(tmp_path, "--help").exit_code == 0
    for name in main.commands:
        result = earshot(tmp_path, name, "--help")
        assert result.exit_code == 0, name
        assert "Usage:" in result.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"this is a text file, not audio" * 10, "not an audio file")],
)
def test_transcribe_bad_file_is_one_clear_line(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "call.wav"
    bad.write_bytes(content)
    result = earshot(tmp_path, "transcribe", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "call.wav" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "earshot.db").exists()  # transcribe never touches the database


@pytest.mark.slow
def test_transcribe_stereo_prints_the_json_contract_and_voice_tagged_vtt(tmp_path: Path) -> None:
    result = earshot(tmp_path, "transcribe", str(STEREO), "--format", "json", "--no-progress")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == TRANSCRIPT_JSON_KEYS
    assert data["options"]["diarization"] == "auto" and data["models"]["diarization"] == "channels"
    # Both parties talk at once in this file: who spoke when keeps the overlap, one turn each.
    first, second = sorted(data["turns"], key=lambda turn: turn["speaker"])
    assert first["speaker"] != second["speaker"]
    assert max(first["start"], second["start"]) < min(first["end"], second["end"])
    by_speaker = {s["label"]: s["role"] for s in data["speakers"]}
    assert sorted(by_speaker.values()) == ["agent", "customer"]
    words = [w for u in data["utterances"] for w in u["words"]]
    word_keys = {"start", "end", "text", "probability", "speaker", "entity"}
    assert words and all(set(w) == word_keys for w in words)
    agent_text = " ".join(u["text"] for u in data["utterances"] if by_speaker[u["speaker"]] == "agent")
    assert "wizard" in agent_text.lower()

    vtt = earshot(tmp_path, "transcribe", str(STEREO), "--format", "vtt", "--no-progress").stdout
    assert vtt.startswith("WEBVTT") and "<v Agent>" in vtt and "<v Customer>" in vtt


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`earshot demo` once (sample calls ingested and transcribed, sample threads imported)."""
    data_dir = tmp_path_factory.mktemp("data")
    demo = earshot(data_dir, "demo", "--no-app")
    assert demo.exit_code == 0, demo.output
    assert "3 transcribed, 0 failed" in demo.stderr
    return data_dir


@pytest.mark.slow
def test_demo_imports_survey_answers_into_the_figures(demo_data: Path) -> None:
    """``sample_surveys/``: eight answers about the demo customers' calls, e-mail, chat and WhatsApp."""
    result = earshot(demo_data, "figures", "--from", "2024-05-01", "--to", "2024-05-31", "--json")
    totals = {row["group"]: row for row in json.loads(result.stdout)["totals"]}
    # The three recorded calls and the sample CDR's missed call (a contact, with no handle time).
    assert totals["call"]["contacts"] == 4 and totals["call"]["survey_answers"] == 5
    assert sum(row["survey_answers"] for row in totals.values()) == 8
    assert totals["chat"]["csat"] == 5 and totals["chat"]["first_response"] > 0


@pytest.mark.slow
def test_demo_leaves_an_admin_account_to_sign_in_with(demo_data: Path) -> None:
    from storage.db import open_database
    from storage.users import authenticate

    demo = earshot(demo_data, "demo", "--no-app")  # a second run adds nothing and keeps the account
    assert "0 new call(s)" in demo.stderr and "sign in as 'demo'" in demo.stderr
    assert (
        earshot(demo_data, "user", "passwd", "demo", "--password-stdin", input="a-new-password\n").exit_code
        == 0
    )
    principal = authenticate(open_database(f"sqlite:///{demo_data / 'earshot.db'}"), "demo", "a-new-password")
    assert principal.role == "admin"


@pytest.mark.slow
def test_the_demo_suggests_contact_reasons_from_what_was_heard(demo_data: Path) -> None:
    """The demo's rules on the double-charge call as the model transcribed it; its chats and e-mails
    labelled with their suggestions."""
    call = earshot(demo_data, "reasons", "suggest", "2024-05-06_double_charge.wav")
    assert call.exit_code == 0, call.stderr
    assert call.stdout.splitlines()[0].startswith("reason: billing (by rule 1:")
    labels = earshot(demo_data, "reasons", "labels")
    billing = [line.split() for line in labels.stdout.splitlines() if line.startswith("reason   billing")]
    assert len(billing) == 1 and int(billing[0][2]) >= 2  # the chat and the e-mail, at least


@pytest.mark.slow
def test_demo_shows_a_met_callback_and_a_late_email(demo_data: Path) -> None:
    # The sample CDR's missed call from Emma, called back by Daan; Peter's e-mail, answered late.
    result = earshot(demo_data, "sla", "--from", "2024-05-01", "--to", "2024-05-31", "--json")
    assert result.exit_code == 0, result.output
    contacts = json.loads(result.stdout)["contacts"]
    assert {(c["kind"], c["customer"], c["status"]) for c in contacts} >= {
        ("callback", "Emma de Vries", "met"),
        ("email_reply", "Peter Smit", "breached"),
    }


@pytest.mark.slow
def test_ingest_is_idempotent_and_links_calls_to_one_customer(demo_data: Path) -> None:
    calls = len(list(SAMPLE_AUDIO.glob("*.json")))
    assert rows(demo_data, "select count(*) from recordings") == [(calls,)]
    again = earshot(demo_data, "ingest", str(SAMPLE_AUDIO))
    assert again.exit_code == 0
    assert again.stdout.count("already stored") == calls
    assert rows(demo_data, "select count(*) from recordings") == [(calls,)]
    assert rows(demo_data, "select count(*) from jobs") == [(calls,)]
    # "+31 20 123 4567" and "020-1234567" are one phone number, so one customer has two calls.
    per_customer = rows(
        demo_data,
        "select customer_id, count(*) from threads join recordings on recordings.thread_id = threads.id "
        "group by customer_id order by 2 desc",
    )
    assert per_customer[0][1] == 2


@pytest.mark.slow
def test_worker_transcribes_every_call_and_search_finds_what_was_said(demo_data: Path) -> None:
    listing = earshot(demo_data, "calls")
    assert listing.stdout.count("transcribed") == len(list(SAMPLE_AUDIO.glob("*.json")))
    hits = earshot(demo_data, "search", "refund*", "--json")
    assert hits.exit_code == 0
    found = [json.loads(line) for line in hits.stdout.splitlines()]
    assert found and all("refund" in hit["snippet"].lower() for hit in found)
    assert {"recording_id", "customer_name", "start", "speaker_role", "snippet"} <= set(found[0])

    readable = earshot(demo_data, "search", "refund*", "--limit", "1")
    assert readable.exit_code == 0 and "call " in readable.stdout and "1 hit(s); more" in readable.stderr
    agent_only = earshot(demo_data, "search", "refund*", "--speaker", "agent", "--json").stdout.splitlines()
    assert all(json.loads(line)["speaker_role"] == "agent" for line in agent_only)

    recording = str(found[0]["recording_id"])
    vtt = earshot(demo_data, "export", recording, "--format", "vtt")
    assert vtt.exit_code == 0 and vtt.stdout.startswith("WEBVTT") and "<v " in vtt.stdout
    rttm = earshot(demo_data, "export", recording, "--format", "rttm").stdout
    assert rttm.splitlines()[0].startswith("SPEAKER ")


@pytest.mark.slow
def test_mono_outbound_callback_shows_the_agent_as_the_agent(demo_data: Path) -> None:
    """Call 2 is mono, so its roles come from the outbound rule (the callee answers first), not from
    channels: a swap there makes the agent look quiet and hides his words from an agent search."""
    from storage.db import open_database
    from storage.services import load_transcript
    from transcribe.metrics import call_metrics

    [(callback,)] = rows(
        demo_data, "select id from recordings where original_name = '2024-05-08_refund_callback.wav'"
    )
    transcript = load_transcript(open_database(f"sqlite:///{demo_data / 'earshot.db'}"), callback)
    # Daan talks about 60% of the call; swapped roles read about 40%.
    talk_ratio = call_metrics(transcript).talk_ratio
    assert talk_ratio is not None and talk_ratio > 0.55

    promise = earshot(
        demo_data, "search", '"refund was approved" OR "three working days"', "--speaker", "agent", "--json"
    )
    assert promise.exit_code == 0
    assert callback in {json.loads(line)["recording_id"] for line in promise.stdout.splitlines()}


@pytest.mark.slow
def test_reviewer_role_correction_shows_in_exports(demo_data: Path) -> None:
    assert earshot(demo_data, "set-role", "1", "S1", "customer", "--name", "Emma").exit_code == 0
    vtt = earshot(demo_data, "export", "1", "--format", "vtt").stdout
    assert "<v Emma>" in vtt
    assert earshot(demo_data, "set-role", "1", "S9", "agent").exit_code == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [('"unbalanced', "unbalanced quote"), ("NOT refund", "only exclude"), ("NEAR(refund)", "NEAR")],
)
def test_bad_search_query_gets_a_clear_message(tmp_path: Path, query: str, message: str) -> None:
    result = earshot(tmp_path, "search", query)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "fts5" not in result.stderr.lower() and "sqlite" not in result.stderr.lower()


def test_bad_files_fail_alone_and_change_nothing(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(STEREO, incoming / "good.wav")
    (incoming / "empty.wav").write_bytes(b"")
    (incoming / "notes.wav").write_text("not audio at all")
    (incoming / "broken.wav").write_bytes(STEREO.read_bytes()[:1000])
    (incoming / "bad_sidecar.wav").write_bytes(STEREO.read_bytes()[:-4] + b"\x01\x02\x03\x04")
    (incoming / "bad_sidecar.json").write_text("{not json")
    data_dir = tmp_path / "data"
    result = earshot(data_dir, "ingest", str(incoming))
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 4
    assert all(name in result.stdout for name in ("empty.wav", "notes.wav", "broken.wav", "bad_sidecar.json"))
    assert rows(data_dir, "select original_name from recordings") == [("good.wav",)]
    assert rows(data_dir, "select count(*) from jobs") == [(1,)]


def test_bad_items_are_reported_by_file_and_leave_no_audio_while_the_rest_go_in(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name, seconds in [
        ("a_good", 1),
        ("b_five_hours", 3),
        ("c_year_0", 1),
        ("d_year_10000", 1),
        ("e_deep", 1),
    ]:
        frames = np.arange(8000 * seconds)
        sf.write(incoming / f"{name}.wav", 0.3 * np.sin(frames * (0.1 + len(name) / 100)), 8000)
    (incoming / "c_year_0.json").write_text('{"started_at": "0001-01-01T00:00:00+05:00"}')
    (incoming / "d_year_10000.json").write_text('{"started_at": "9999-12-31T23:59:59-05:00"}')
    (incoming / "e_deep.json").write_text("[" * 100_000 + "]" * 100_000)
    data_dir = tmp_path / "data"

    result = earshot(data_dir, "ingest", str(incoming), env={"EARSHOT_MAX_AUDIO_SECONDS": "2"})

    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if line.startswith("failed")] == [
        f"failed   {incoming / 'b_five_hours.wav'}: too long (3 s; the limit is 2 s)",
        f"failed   {incoming / 'c_year_0.json'}: started_at: 0001-01-01T00:00:00+05:00 is out of range "
        "(times must lie between 1900 and 2999)",
        f"failed   {incoming / 'd_year_10000.json'}: started_at: 9999-12-31T23:59:59-05:00 is out of range "
        "(times must lie between 1900 and 2999)",
        f"failed   {incoming / 'e_deep.json'}: nested too deeply to read "
        "(lists or objects inside each other)",
    ]
    assert "1 ingested, 0 already stored, 4 failed" in result.stderr
    assert rows(data_dir, "select original_name from recordings") == [("a_good.wav",)]
    stored = [path.name for path in (data_dir / "audio").rglob("*") if path.is_file()]
    assert stored == [hashlib.sha256((incoming / "a_good.wav").read_bytes()).hexdigest()]


def test_a_job_that_keeps_failing_is_marked_failed_without_half_a_transcript(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    call = tmp_path / "call.wav"
    shutil.copy(STEREO, call)
    assert earshot(data_dir, "ingest", str(call), env={"EARSHOT_MAX_ATTEMPTS": "2"}).exit_code == 0
    (blob,) = [p for p in (data_dir / "audio").rglob("*") if p.is_file()]
    blob.chmod(0o644)
    blob.write_bytes(b"RIFF" + b"\x00" * 100)  # the stored audio rots on disk

    result = earshot(data_dir, "worker", "--once", "--no-progress")
    assert result.exit_code == 0 and "0 job(s) done, 1 failed, 1 attempt(s) retried" in result.stderr
    (job,) = rows(data_dir, "select status, attempts, error from jobs")
    assert job[0] == "failed" and job[1] == 2 and "AudioError" in job[2]
    assert rows(data_dir, "select count(*) from transcripts") == [(0,)]
    assert rows(data_dir, "select count(*) from utterances") == [(0,)]

    blob.write_bytes(STEREO.read_bytes())  # repaired: a retry now succeeds
    assert "1 job(s) queued again" in earshot(data_dir, "retry").stdout


def database_rows(url: str, sql: str) -> list[tuple]:
    """A query on any backend (``rows`` reads the default SQLite file only)."""
    engine = create_storage_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_killed_worker_leaves_its_job_to_another(database_url: str, tmp_path: Path) -> None:
    """On SQLite and on a PostgreSQL server: killed mid-job, nothing is lost and nothing is doubled."""
    data_dir = tmp_path / "data"
    env = {"EARSHOT_DATABASE_URL": database_url}
    call = tmp_path / "call.wav"
    shutil.copy(STEREO, call)
    assert earshot(data_dir, "ingest", str(call), env=env).exit_code == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "earshot", "worker", "--no-progress"],
        env={**os.environ, "EARSHOT_DATA_DIR": str(data_dir), **env},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while database_rows(database_url, "select status from jobs") != [("running",)]:
            assert time.monotonic() < deadline, "the worker never claimed the job"
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert database_rows(database_url, "select count(*) from transcripts") == [(0,)]
    # Ten minutes pass without a heartbeat: the claim is as old as the stale timeout.
    db = open_database(database_url, secrets_dir=data_dir / "secrets")
    try:
        with session_scope(db) as session:
            job = session.scalars(select(Job)).one()
            job.claimed_at = as_utc(job.claimed_at) - timedelta(seconds=601)
    finally:
        db.engine.dispose()
    result = earshot(data_dir, "worker", "--once", "--no-progress", env=env)
    assert "1 job(s) done" in result.stderr
    assert database_rows(database_url, "select status, attempts from jobs") == [("done", 2)]
    assert database_rows(database_url, "select count(*) from transcripts") == [(1,)]
    again = earshot(data_dir, "worker", "--once", "--no-progress", env=env)
    assert "0 job(s) done" in again.stderr
    assert database_rows(database_url, "select count(*) from transcripts") == [(1,)]
    found = earshot(data_dir, "search", "wizard", "--json", env=env)
    assert found.exit_code == 0 and "wizard" in found.stdout.lower()


@pytest.mark.slow
def test_workers_killed_at_random_lose_and_double_nothing(database_url: str, tmp_path: Path) -> None:
    """On SQLite and on a PostgreSQL server: two workers, each killed while it holds a job, at a
    random point of it (a seeded draw), and replaced, until the queue is empty. Every call ends
    with one transcript, its words stored and indexed once. A killed worker's claim is aged past
    the stale timeout by hand (the shortest allowed is 45 s); a job killed as often as it may be
    tried fails and is queued again."""
    data_dir, incoming = tmp_path / "data", tmp_path / "incoming"
    incoming.mkdir()
    samples, rate = sf.read(STEREO, dtype="float32")
    samples = np.tile(samples, (4, 1))  # 20 s: a job long enough to be killed in
    calls = 4
    for number in range(calls):  # distinct bytes, the same speech
        sf.write(incoming / f"call-{number}.wav", samples * (1.0 - 0.02 * number), rate)
    env = {"EARSHOT_DATABASE_URL": database_url}
    assert earshot(data_dir, "ingest", str(incoming), env=env).exit_code == 0
    worker_env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), **env}

    def start_worker() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "earshot", "worker", "--no-progress"]
        return subprocess.Popen(command, env=worker_env, start_new_session=True, stderr=subprocess.DEVNULL)

    def pending() -> int:
        unfinished = "select count(*) from jobs where status in ('queued', 'running')"
        return int(database_rows(database_url, unfinished)[0][0])

    draw = random.Random(16)
    workers = {worker.pid: worker for worker in (start_worker(), start_worker())}
    kills, killed_in_a_job = 0, 0
    try:
        deadline = time.monotonic() + 300
        while pending():
            assert time.monotonic() < deadline, database_rows(database_url, "select * from jobs")
            claims = database_rows(database_url, "select claimed_by from jobs where status = 'running'")
            holding = sorted(pid for (claim,) in claims if (pid := int(claim.rsplit(":", 1)[1])) in workers)
            if kills == 4 or not holding:
                time.sleep(0.1)
                continue
            time.sleep(draw.uniform(0.0, 1.0))  # anywhere in the job: decoding, transcribing, saving
            victim = workers.pop(draw.choice(holding))
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait()
            kills += 1
            db = open_database(database_url, secrets_dir=data_dir / "secrets")
            try:
                with session_scope(db) as session:
                    for job in session.scalars(select(Job).where(Job.claimed_by.endswith(f":{victim.pid}"))):
                        if job.status == "running" and job.claimed_at is not None:
                            job.claimed_at = as_utc(job.claimed_at) - timedelta(seconds=601)
                            killed_in_a_job += 1
            finally:
                db.engine.dispose()
            replacement = start_worker()
            workers[replacement.pid] = replacement
    finally:
        for worker in workers.values():
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    if database_rows(database_url, "select count(*) from jobs where status = 'failed'")[0][0]:
        assert "queued again" in earshot(data_dir, "retry", env=env).stdout
        assert earshot(data_dir, "worker", "--once", "--no-progress", env=env).exit_code == 0

    assert database_rows(database_url, "select distinct status from jobs") == [("done",)]
    assert killed_in_a_job, "no kill landed inside a job"
    per_call = database_rows(
        database_url,
        "select r.id, count(distinct t.id), count(u.id), count(distinct u.seq) from recordings r "
        "join transcripts t on t.recording_id = r.id join utterances u on u.transcript_id = t.id "
        "group by r.id",
    )
    assert len(per_call) == calls
    assert all(transcripts == 1 and said == distinct for _, transcripts, said, distinct in per_call), per_call
    found = earshot(data_dir, "search", "wizard", "--json", env=env).stdout.splitlines()
    hits = [json.loads(line) for line in found]
    assert len({hit["utterance_id"] for hit in hits}) == len(hits)  # each utterance indexed once
    assert sorted({hit["recording_id"] for hit in hits}) == sorted(row[0] for row in per_call)


def test_a_header_only_recording_of_a_call_nobody_answered_is_a_call_with_nothing_to_transcribe(
    tmp_path: Path,
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    answered = incoming / "rg-600-0687654321-20241104-100211-1730710931.84.wav"
    sf.write(answered, 0.3 * np.sin(np.arange(8000) * 0.2), 8000)
    missed = incoming / "rg-600-0611112222-20241104-120000-1730718000.95.wav"
    with wave.open(str(missed), "wb") as header_only:  # 44 bytes, as FreePBX leaves for a missed call
        header_only.setnchannels(1)
        header_only.setsampwidth(2)
        header_only.setframerate(8000)
    cdr = REPO / "tests" / "fixtures" / "cdr" / "cdr_custom_Master.csv"
    data_dir = tmp_path / "data"

    result = earshot(
        data_dir, "ingest", str(incoming), "--cdr", str(cdr), env={"EARSHOT_TIMEZONE": "Europe/Amsterdam"}
    )

    assert result.exit_code == 0, result.output
    assert f"ingested {missed} -> call 1, nothing to transcribe" in result.stdout
    assert rows(
        data_dir,
        "select r.original_name, r.duration, t.direction, t.started_at, a.name, i.value from recordings r "
        "join threads t on t.id = r.thread_id left join agents a on a.id = t.agent_id "
        "join identities i on i.customer_id = t.customer_id order by r.id",
    ) == [
        (missed.name, 0.0, "inbound", "2024-11-04 11:00:00.000000", None, "+31611112222"),
        (answered.name, 1.0, "inbound", "2024-11-04 09:02:11.000000", "1002", "+31687654321"),
    ]
    assert rows(data_dir, "select recording_id from jobs") == [(2,)]
