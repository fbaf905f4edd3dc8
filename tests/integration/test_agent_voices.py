"""Agents recognised by voice, end to end with the `earshot` command, a real SQLite file and the
embedded models: a stereo call enrols its agent's channel, and a mono call of that agent in which
the customer speaks first still gives the agent's role to the agent's voice."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import soundfile as sf

from tests.cli import earshot
from tests.paths import SAMPLE_AUDIO
from transcribe import audio
from transcribe.speech import speech_regions
from transcribe.types import SAMPLE_RATE

AGENT = "Sam Jansen"


def rows(data_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "earshot.db") as connection:
        return connection.execute(sql).fetchall()


def mono_call_the_customer_opens(folder: Path) -> Path:
    """The demo's stereo double-charge call (agent Sam left, customer right) as a mono mixdown
    from just before the customer's first words: Sam's greeting is cut off, so the customer
    speaks first, as on a call-back or a transfer."""
    stereo = audio.decode(SAMPLE_AUDIO / "2024-05-06_double_charge.wav")
    customer_starts = speech_regions(stereo.samples[1])[0][0]
    start = int(max(0.0, customer_starts - 0.3) * SAMPLE_RATE)
    path = folder / "double_charge_from_the_customer.wav"
    sf.write(path, stereo.mono()[start:], SAMPLE_RATE, subtype="PCM_16")
    sidecar = {"agent": AGENT, "direction": "inbound", "provider_id": "mono-from-customer"}
    path.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


@pytest.mark.slow
def test_an_agent_enrolled_from_a_stereo_call_is_recognised_on_a_mono_call(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name in ("2024-05-13_outage_credit.opus", "2024-05-13_outage_credit.json"):
        shutil.copy(SAMPLE_AUDIO / name, incoming / name)
    assert earshot(data_dir, "ingest", str(incoming)).exit_code == 0
    assert earshot(data_dir, "worker", "--once", "--no-progress").exit_code == 0

    listed = earshot(data_dir, "agent", "voice", "list")
    assert listed.exit_code == 0 and AGENT in listed.stdout
    ((seconds, calls),) = rows(data_dir, "select seconds, calls from agent_voiceprints")
    assert calls == 1 and 10 < seconds < 40  # the agent's channel, not the customer's too
    assert rows(data_dir, "select username from audit_log where action = 'voiceprint_enrolled'") == [
        ("(worker)",)
    ]

    mono = mono_call_the_customer_opens(tmp_path)
    assert earshot(data_dir, "ingest", str(mono)).exit_code == 0
    assert earshot(data_dir, "worker", "--once", "--no-progress").exit_code == 0

    speakers = rows(
        data_dir,
        "select s.label, s.role, s.role_source, s.agent_similarity, min(u.start), "
        "group_concat(u.text, ' ') from speakers s join transcripts t on t.id = s.transcript_id "
        "join recordings r on r.id = t.recording_id join utterances u on u.speaker_id = s.id "
        f"where r.original_name = '{mono.name}' group by s.id order by min(u.start)",
    )
    print(speakers)  # label, role, how, similarity to the agent's voiceprint, first start, words
    first, *_ = speakers
    assert "charged" in first[5].lower() and first[1] == "customer"  # she spoke first
    (agent,) = [s for s in speakers if s[1] == "agent"]
    assert "refund" in agent[5].lower() and agent[2] == "voice"
    others = [s[3] for s in speakers if s[1] != "agent" and s[3] is not None]
    assert agent[3] >= 0.7 and all(agent[3] - other >= 0.1 for other in others)
    # Recognising the agent teaches the voiceprint nothing: a voice match is not known.
    assert rows(data_dir, "select calls from agent_voiceprints") == [(1,)]

    removed = earshot(data_dir, "agent", "voice", "remove", AGENT)
    assert removed.exit_code == 0 and "removed" in removed.stdout
    assert rows(data_dir, "select count(*) from agent_voiceprints") == [(0,)]
    assert rows(data_dir, "select count(*) from voiceprint_calls") == [(0,)]
    assert rows(data_dir, "select action from audit_log where action like 'voiceprint%' order by id")[-1] == (
        "voiceprint_removed",
    )
    refused = earshot(data_dir, "agent", "voice", "remove", AGENT)
    assert refused.exit_code == 1 and "has no voiceprint" in refused.stderr


@pytest.mark.slow
def test_an_admin_enrols_a_named_speaker_of_a_call(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    call = tmp_path / "call.wav"
    shutil.copy(SAMPLE_AUDIO / "2024-05-06_double_charge.wav", call)
    assert earshot(data_dir, "ingest", str(call)).exit_code == 0  # no sidecar: no agent, no enrolment
    assert earshot(data_dir, "worker", "--once", "--no-progress").exit_code == 0
    assert rows(data_dir, "select count(*) from agent_voiceprints") == [(0,)]

    unknown = earshot(data_dir, "agent", "voice", "enrol", "Nobody", "--call", "1")
    assert unknown.exit_code == 1 and "no PBX agent 'Nobody'" in unknown.stderr
    assert (
        earshot(
            data_dir, "user", "add", "x", "--role", "agent", "--agent", AGENT, "--new-agent", "--no-password"
        ).exit_code
        == 0
    )
    enrolled = earshot(data_dir, "agent", "voice", "enrol", AGENT, "--call", "1", "--speaker", "S1")
    assert enrolled.exit_code == 0, enrolled.stderr
    assert "1 call(s)" in enrolled.stdout
    assert rows(data_dir, "select username, details from audit_log where action = 'voiceprint_enrolled'")[0][
        0
    ] == ("(command line)")
    missing = earshot(data_dir, "agent", "voice", "enrol", AGENT, "--call", "1", "--speaker", "S9")
    assert missing.exit_code == 1 and "no speaker 'S9'" in missing.stderr


@pytest.mark.slow
def test_a_reviewers_correction_of_the_agent_enrols_the_corrected_voice(tmp_path: Path) -> None:
    """A mono call's roles are a guess until a reviewer says who the agent is; then the worker
    gives that voice to the agent's voiceprint."""
    data_dir = tmp_path / "data"
    mono = mono_call_the_customer_opens(tmp_path)
    assert earshot(data_dir, "ingest", str(mono)).exit_code == 0
    assert earshot(data_dir, "worker", "--once", "--no-progress").exit_code == 0
    speakers = rows(
        data_dir,
        "select s.label, s.role, s.role_source, group_concat(u.text, ' ') from speakers s "
        "join utterances u on u.speaker_id = s.id group by s.id order by min(u.start)",
    )
    print(speakers)
    assert {s[2] for s in speakers} == {"first_speaker"}  # no voiceprint yet: the order of speaking decides
    assert rows(data_dir, "select count(*) from agent_voiceprints") == [(0,)]
    # The voice that promises the refund is Sam's, whatever the guess said.
    [sam] = [s for s in speakers if "refund" in s[3].lower()]

    assert earshot(data_dir, "set-role", "1", sam[0], "agent").exit_code == 0
    assert earshot(data_dir, "worker", "--once", "--no-progress").exit_code == 0

    ((seconds, calls),) = rows(data_dir, "select seconds, calls from agent_voiceprints")
    assert calls == 1 and seconds >= 2
    assert rows(data_dir, f"select role_source from speakers where label = '{sam[0]}'") == [("reviewer",)]
    enrolled = rows(data_dir, "select username from audit_log where action = 'voiceprint_enrolled'")
    assert enrolled == [("(worker)",)]
