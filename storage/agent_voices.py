"""Agents' voiceprints: enrolled from calls where the agent's voice is known, removed by an admin.

A voiceprint is the agent's personal data: enrolling one by hand, listing and removing them is for
admins (``Permission.MANAGE_VOICEPRINTS``), every change is audited (seconds and calls, never the
vector), and deleting the agent deletes it (ON DELETE CASCADE). A call that is deleted (retention,
erasure) leaves the voiceprints it was enrolled into: they are made again from the calls left. The
worker enrols on its own from what is known, never from a guess: the agent's channel of a stereo
call, or the speaker a reviewer made the agent. Storage does no ML: the vectors come from
``transcribe.voiceprints`` through the worker or the command line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.access import Permission, Principal, require_unless_command_line
from storage.agent_links import linked_agent
from storage.audit import COMMAND_LINE, append_event, record_read
from storage.audit_subjects import Subject
from storage.db import Database, read_scope, session_scope
from storage.deletion import DerivedData, DerivedRemoval, register_derived
from storage.errors import InvalidValue, NotFound
from storage.models import Agent, AgentVoiceprint, Recording, Thread, VoiceprintCall, as_utc, utc_now
from transcribe import types as t

__all__ = [
    "WORKER",
    "CallVoice",
    "EnrolledVoice",
    "VoiceSource",
    "call_agent",
    "call_agent_voiceprint",
    "enrol_call",
    "known_agent_speaker",
    "list_voiceprints",
    "remove_voiceprint",
]

VoiceSource = Literal["channel", "reviewer", "admin"]
# Who the audit log names for the enrolments the worker makes by itself.
WORKER = "(worker)"


@dataclass(frozen=True)
class CallVoice:
    """What one call says of a voice: its L2-normalised vector and the seconds of speech behind it."""

    vector: tuple[float, ...]
    seconds: float


@dataclass(frozen=True)
class EnrolledVoice:
    agent: str
    seconds: float
    calls: int
    updated_at: datetime


def enrol_call(
    db: Database,
    agent_name: str,
    recording_id: int,
    voice: CallVoice | None,
    source: VoiceSource,
    *,
    actor: Principal | None,
    username: str = COMMAND_LINE,
) -> EnrolledVoice | None:
    """Make ``voice`` call ``recording_id``'s share of the agent's voiceprint, replacing what that
    call gave before (None: the call gives nothing any more), weighted by seconds; returns the
    voiceprint as it now is (None once no call is left in it). ``source`` "admin" is an admin's
    choice (``actor`` None: the command line); the worker enrols as ``username`` ``WORKER``."""
    if source == "admin":
        require_unless_command_line(actor, Permission.MANAGE_VOICEPRINTS)
    if voice is not None and (len(voice.vector) == 0 or voice.seconds <= 0):
        raise InvalidValue("a voice to enrol needs a vector and some seconds of speech")
    with session_scope(db) as session:
        agent = _agent(session, agent_name)
        if session.get(Recording, recording_id) is None:
            raise NotFound(f"no recording with id {recording_id}")
        voiceprint = session.scalar(select(AgentVoiceprint).where(AgentVoiceprint.agent_id == agent.id))
        earlier = (
            session.scalar(
                select(VoiceprintCall).where(
                    VoiceprintCall.voiceprint_id == voiceprint.id, VoiceprintCall.recording_id == recording_id
                )
            )
            if voiceprint is not None
            else None
        )
        if earlier is None and voice is None:
            return _enrolled(agent, voiceprint)
        if voiceprint is None:
            voiceprint = AgentVoiceprint(agent_id=agent.id, vector=[], seconds=0.0, calls=0)
            session.add(voiceprint)
            session.flush()
        if earlier is not None:
            session.delete(earlier)
            session.flush()  # before the call's new share takes its place in the unique key
        if voice is not None:
            session.add(
                VoiceprintCall(
                    voiceprint_id=voiceprint.id,
                    recording_id=recording_id,
                    vector=list(voice.vector),
                    seconds=voice.seconds,
                    source=source,
                )
            )
        details = {
            "recording_id": recording_id,
            "source": source,
            "seconds": round(voice.seconds, 1) if voice is not None else 0,
            "replaced": earlier is not None,
        }
        voiceprint = _recomputed(session, voiceprint)
        append_event(
            session, actor, "voiceprint_enrolled", Subject("agent", agent.id), details, username=username
        )
        return _enrolled(agent, voiceprint)


def remove_voiceprint(db: Database, agent_name: str, *, actor: Principal | None) -> EnrolledVoice:
    """Delete the agent's voiceprint and every call's share in it; returns what it was."""
    require_unless_command_line(actor, Permission.MANAGE_VOICEPRINTS)
    with session_scope(db) as session:
        agent = _agent(session, agent_name)
        voiceprint = session.scalar(select(AgentVoiceprint).where(AgentVoiceprint.agent_id == agent.id))
        if voiceprint is None:
            raise NotFound(f"agent {agent.name!r} has no voiceprint")
        removed = _enrolled(agent, voiceprint)
        assert removed is not None
        session.delete(voiceprint)  # its calls' shares go with it (ON DELETE CASCADE)
        session.flush()
        details = {"seconds": round(removed.seconds, 1), "calls": removed.calls}
        append_event(
            session, actor, "voiceprint_removed", Subject("agent", agent.id), details, username=COMMAND_LINE
        )
        return removed


def list_voiceprints(db: Database, *, actor: Principal | None) -> list[EnrolledVoice]:
    """Every enrolled agent, by name: how much speech and how many calls their voiceprint holds."""
    require_unless_command_line(actor, Permission.MANAGE_VOICEPRINTS)
    with read_scope(db) as session:
        rows = session.execute(
            select(Agent.name, AgentVoiceprint.seconds, AgentVoiceprint.calls, AgentVoiceprint.updated_at)
            .join(Agent, Agent.id == AgentVoiceprint.agent_id)
            .order_by(Agent.name)
        )
        found = [EnrolledVoice(row.name, row.seconds, row.calls, as_utc(row.updated_at)) for row in rows]
    record_read(db, actor, "voiceprints_listed", None, {"agents": len(found)})
    return found


def call_agent(db: Database, recording_id: int) -> str | None:
    """The agent the call's metadata names (the PBX's or the sidecar's), if any."""
    with read_scope(db) as session:
        return session.scalar(
            select(Agent.name)
            .join(Thread, Thread.agent_id == Agent.id)
            .join(Recording, Recording.thread_id == Thread.id)
            .where(Recording.id == recording_id)
        )


def call_agent_voiceprint(db: Database, recording_id: int) -> CallVoice | None:
    """The enrolled voiceprint of the call's agent, for the worker to recognise them by (the vector
    normalised); None when the call names no agent or theirs is not enrolled."""
    with read_scope(db) as session:
        row = session.execute(
            select(AgentVoiceprint.vector, AgentVoiceprint.seconds)
            .join(Thread, Thread.agent_id == AgentVoiceprint.agent_id)
            .join(Recording, Recording.thread_id == Thread.id)
            .where(Recording.id == recording_id)
        ).one_or_none()
    if row is None:
        return None
    norm = math.sqrt(sum(value * value for value in row.vector)) or 1.0
    return CallVoice(tuple(value / norm for value in row.vector), row.seconds)


def known_agent_speaker(transcript: t.Transcript) -> t.Speaker | None:
    """The speaker of a call whose voice is known to be its agent's: the one a reviewer made the
    agent, else the agent's channel's own party (a transfer's later voices on that line are
    colleagues, numbered after it). None when nothing is known, or reviewers named two agents:
    a guess (the first-speaker rule, a voice match) never teaches a voiceprint."""
    agents = [s for s in transcript.speakers if s.role == "agent"]
    by_reviewer = [s for s in agents if s.role_source == "reviewer"]
    if by_reviewer:
        return by_reviewer[0] if len(by_reviewer) == 1 else None
    by_channel = [s for s in agents if s.role_source == "channel"]
    return min(by_channel, key=lambda s: _label_number(s.label), default=None)


def _label_number(label: str) -> int:
    digits = re.sub(r"\D", "", label)
    return int(digits) if digits else 0


def _agent(session: Session, name: str) -> Agent:
    agent = linked_agent(session, name)
    if agent is None:
        raise InvalidValue("name the agent")
    return agent


def _recomputed(session: Session, voiceprint: AgentVoiceprint) -> AgentVoiceprint | None:
    """The voiceprint made again from the calls' shares now in it (their seconds-weighted mean);
    deleted, and None, once no call is left in it."""
    session.flush()
    shares = session.scalars(
        select(VoiceprintCall).where(VoiceprintCall.voiceprint_id == voiceprint.id)
    ).all()
    if not shares:
        session.delete(voiceprint)
        session.flush()
        return None
    seconds = sum(share.seconds for share in shares)
    voiceprint.vector = [
        sum(share.vector[index] * share.seconds for share in shares) / seconds
        for index in range(len(shares[0].vector))
    ]
    voiceprint.seconds, voiceprint.calls, voiceprint.updated_at = seconds, len(shares), utc_now()
    session.flush()
    return voiceprint


def _forget_calls(session: Session, recording_ids: Sequence[int]) -> DerivedRemoval:
    """When calls are deleted (retention, erasure), what they gave agents' voiceprints leaves them."""
    shares = session.scalars(
        select(VoiceprintCall).where(VoiceprintCall.recording_id.in_(recording_ids))
    ).all()
    voiceprint_ids = {share.voiceprint_id for share in shares}
    for share in shares:
        session.delete(share)
    for voiceprint_id in sorted(voiceprint_ids):
        voiceprint = session.get(AgentVoiceprint, voiceprint_id)
        assert voiceprint is not None  # a share's voiceprint outlives it (ON DELETE CASCADE)
        _recomputed(session, voiceprint)
    return DerivedRemoval(rows=len(shares))


register_derived(DerivedData("voiceprint shares", _forget_calls))


def _enrolled(agent: Agent, voiceprint: AgentVoiceprint | None) -> EnrolledVoice | None:
    if voiceprint is None:
        return None
    return EnrolledVoice(agent.name, voiceprint.seconds, voiceprint.calls, as_utc(voiceprint.updated_at))
