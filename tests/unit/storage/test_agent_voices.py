"""Agents' voiceprints in storage: a call's share replaced rather than counted twice, admins alone
enrol, list and remove by hand, every change audited, deleting the agent deletes the voiceprint and
a deleted call leaves it (on SQLite and PostgreSQL). The vectors here are made up: storage does no ML."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import delete, select

from recorder.types import CallMetadata
from storage import agent_voices, jobs, services
from storage.access import Principal
from storage.agent_voices import CallVoice, known_agent_speaker
from storage.blobs import BlobStore
from storage.db import Database, read_scope, session_scope
from storage.deletion import DeletionPlan, DeletionReport
from storage.deletion import delete as delete_data
from storage.errors import NotFound, PermissionDenied
from storage.models import Agent, AgentVoiceprint, AuditEntry, Job, VoiceprintCall
from tests.unit.storage.conftest import MakeRecording, row_count
from transcribe import types as t


def _unit(*values: float) -> tuple[float, ...]:
    norm = math.sqrt(sum(v * v for v in values))
    return tuple(v / norm for v in values)


def _call(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, seed: int, agent: str = "Alice"
) -> int:
    metadata = CallMetadata(agent=agent)
    return services.ingest_recording(db, make_recording(seed, metadata=metadata), blobs, "NL").recording_id


def _audit(db: Database, action: str) -> list[AuditEntry]:
    with read_scope(db) as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        session.expunge_all()
        return list(rows)


def test_a_calls_share_is_replaced_weighted_by_seconds_and_taken_out_again(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    first, second = _call(db, blobs, make_recording, 1), _call(db, blobs, make_recording, 2)
    enrol = agent_voices.enrol_call
    enrol(
        db, "Alice", first, CallVoice(_unit(1, 0), 30.0), "channel", actor=None, username=agent_voices.WORKER
    )
    enrolled = enrol(db, "Alice", second, CallVoice(_unit(0, 1), 10.0), "channel", actor=None)
    assert enrolled is not None and (enrolled.seconds, enrolled.calls) == (40.0, 2)
    voice = agent_voices.call_agent_voiceprint(db, first)
    assert voice is not None and voice.vector == pytest.approx(_unit(3, 1))

    # The same call again (a retried job) replaces its share: nothing counts twice.
    again = enrol(db, "Alice", second, CallVoice(_unit(0, 1), 10.0), "channel", actor=None)
    assert again is not None and (again.seconds, again.calls) == (40.0, 2)
    assert agent_voices.call_agent_voiceprint(db, second).vector == pytest.approx(_unit(3, 1))  # type: ignore[union-attr]

    # A correction that leaves the call without a known agent takes its share out.
    left = enrol(db, "Alice", first, None, "reviewer", actor=None)
    assert left is not None and (left.seconds, left.calls) == (10.0, 1)
    assert agent_voices.call_agent_voiceprint(db, first).vector == pytest.approx(_unit(0, 1))  # type: ignore[union-attr]
    assert enrol(db, "Alice", second, None, "reviewer", actor=None) is None
    assert row_count(db, AgentVoiceprint) == 0 and agent_voices.call_agent_voiceprint(db, first) is None

    entries = _audit(db, "voiceprint_enrolled")
    assert len(entries) == 5
    assert entries[0].username == agent_voices.WORKER and entries[0].target.startswith("agent:")
    assert entries[0].details["about"] == "agent Alice"
    assert {"recording_id", "source", "seconds", "replaced"} <= set(entries[0].details)
    assert all("vector" not in entry.details for entry in entries)


def test_admins_alone_enrol_list_and_remove_by_hand(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    call = _call(db, blobs, make_recording, 1)
    voice = CallVoice(_unit(1, 2), 20.0)
    for role in ("agent", "coach", "compliance"):
        with pytest.raises(PermissionDenied, match="manage voiceprints; that needs the role admin"):
            agent_voices.enrol_call(db, "Alice", call, voice, "admin", actor=people[role])
        with pytest.raises(PermissionDenied):
            agent_voices.list_voiceprints(db, actor=people[role])
        with pytest.raises(PermissionDenied):
            agent_voices.remove_voiceprint(db, "Alice", actor=people[role])
    assert row_count(db, AgentVoiceprint) == 0

    agent_voices.enrol_call(db, "alice", call, voice, "admin", actor=people["admin"])  # any letter case
    listed = agent_voices.list_voiceprints(db, actor=people["admin"])
    assert [(v.agent, v.seconds, v.calls) for v in listed] == [("Alice", 20.0, 1)]
    removed = agent_voices.remove_voiceprint(db, "Alice", actor=people["admin"])
    assert (removed.agent, removed.calls) == ("Alice", 1)
    assert row_count(db, AgentVoiceprint) == 0 and row_count(db, VoiceprintCall) == 0
    with pytest.raises(NotFound, match="'Alice' has no voiceprint"):
        agent_voices.remove_voiceprint(db, "Alice", actor=people["admin"])

    assert [e.username for e in _audit(db, "voiceprint_enrolled")] == ["admin@example.com"]
    assert [e.details["calls"] for e in _audit(db, "voiceprint_removed")] == [1]
    assert [e.details["agents"] for e in _audit(db, "voiceprints_listed")] == [1]


def test_deleting_the_agent_deletes_the_voiceprint(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    call = _call(db, blobs, make_recording, 1, agent="Bob")
    agent_voices.enrol_call(db, "Bob", call, CallVoice(_unit(1, 1), 5.0), "channel", actor=None)
    with session_scope(db) as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.name == "Bob"))
        session.execute(delete(Job))
        session.execute(delete(services.Recording))
        session.execute(delete(services.Thread))
        session.execute(delete(Agent).where(Agent.id == agent_id))
    assert row_count(db, AgentVoiceprint) == 0 and row_count(db, VoiceprintCall) == 0


def test_changing_who_is_the_agent_queues_the_calls_voice_again(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    call = _call(db, blobs, make_recording, 1)
    speakers = (
        t.Speaker("S1", "agent", role_source="first_speaker"),
        t.Speaker("S2", "customer", role_source="first_speaker"),
    )
    words = (t.Word(0.0, 1.0, " hi", 0.9, "S1"),)
    transcript = t.Transcript(
        "en", 2.0, speakers, (t.Utterance("S1", 0.0, 1.0, "hi", words),), t.TranscribeOptions(), {}
    )
    services.save_transcript(db, call, transcript)

    def enrolment_jobs() -> int:
        with read_scope(db) as session:
            return len(session.scalars(select(Job).where(Job.stage == jobs.ENROL_VOICE)).all())

    services.set_speaker_role(db, call, "S1", "agent", display_name="Alice")  # a name only
    assert enrolment_jobs() == 0
    services.set_speaker_role(db, call, "S2", "agent")
    services.set_speaker_role(db, call, "S1", "customer")
    assert enrolment_jobs() == 2
    loaded = services.load_transcript(db, call)
    assert known_agent_speaker(loaded) == t.Speaker("S2", "agent", role_source="reviewer")
    # The call list still shows the transcription's state, not the enrolment's.
    assert services.find_recording(db, str(call)).job_status == "queued"


def test_only_a_known_agent_teaches_a_voiceprint() -> None:
    def transcript(*speakers: t.Speaker) -> t.Transcript:
        return t.Transcript("en", 1.0, speakers, (), t.TranscribeOptions(), {})

    guess = transcript(t.Speaker("S1", "agent", role_source="first_speaker"), t.Speaker("S2", "customer"))
    by_voice = transcript(t.Speaker("S1", "agent", role_source="voice"))
    transfer = transcript(
        t.Speaker("S3", "agent", 0, role_source="channel"), t.Speaker("S1", "agent", 0, role_source="channel")
    )
    two_named = transcript(
        t.Speaker("S1", "agent", role_source="reviewer"), t.Speaker("S2", "agent", role_source="reviewer")
    )
    assert known_agent_speaker(guess) is None and known_agent_speaker(by_voice) is None
    assert known_agent_speaker(transfer).label == "S1"  # type: ignore[union-attr]
    assert known_agent_speaker(two_named) is None


def _delete_call(db: Database, blobs: BlobStore, recording_id: int) -> DeletionReport:
    with read_scope(db) as session:
        thread = session.scalar(
            select(services.Recording.thread_id).where(services.Recording.id == recording_id)
        )
    assert thread is not None
    plan = DeletionPlan(frozenset({thread}))
    return delete_data(
        db, blobs, plan, who=None, purpose="erasure", target="test", dry_run=False, skip_held=False
    )


def test_a_deleted_call_leaves_the_voiceprints_it_was_enrolled_into(
    db: Database, blobs: BlobStore, make_recording: MakeRecording
) -> None:
    first, second = _call(db, blobs, make_recording, 1), _call(db, blobs, make_recording, 2)
    agent_voices.enrol_call(db, "Alice", first, CallVoice(_unit(1, 0), 30.0), "channel", actor=None)
    agent_voices.enrol_call(db, "Alice", second, CallVoice(_unit(0, 1), 10.0), "channel", actor=None)

    report = _delete_call(db, blobs, first)

    assert report.derived["voiceprint shares"] == 1
    [listed] = agent_voices.list_voiceprints(db, actor=None)
    assert (listed.seconds, listed.calls) == (10.0, 1)
    voice = agent_voices.call_agent_voiceprint(db, second)
    assert voice is not None and voice.vector == pytest.approx(_unit(0, 1))

    _delete_call(db, blobs, second)  # the last call that taught it goes: so does the voiceprint
    assert row_count(db, AgentVoiceprint) == 0 and row_count(db, VoiceprintCall) == 0
