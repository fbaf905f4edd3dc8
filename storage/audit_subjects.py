"""What an audit row is about, in words someone reading the log understands: ``customer:12`` is
"Emma de Vries", ``recording:3`` is "call call-0003.wav with Emma de Vries, 2026-11-30 10:02".

The words are written into the row (``details["about"]``) when it is appended, from the data as it
is then: a later rename, merge or erasure does not change what the log says was read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Agent, Customer, Recording, Thread, as_utc

__all__ = ["Subject", "SubjectKind", "describe"]

SubjectKind = Literal["customer", "recording", "thread", "agent"]


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: int

    @property
    def target(self) -> str:
        """The row's ``target``, as the log has always written it: "customer:12"."""
        return f"{self.kind}:{self.id}"


def describe(session: Session, subject: Subject) -> str:
    return _DESCRIBERS[subject.kind](session, subject.id)


def _customer(session: Session, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    if customer is None:
        return f"customer {customer_id} (not found)"
    return customer.display_name or f"customer {customer_id} (no name)"


def _recording(session: Session, recording_id: int) -> str:
    found = session.execute(
        select(Recording.original_name, Thread.started_at, Thread.customer_id)
        .join(Thread, Recording.thread_id == Thread.id)
        .where(Recording.id == recording_id)
    ).one_or_none()
    if found is None:
        return f"recording {recording_id} (not found)"
    return f"call {found.original_name}" + _with(session, found.customer_id, found.started_at)


def _thread(session: Session, thread_id: int) -> str:
    thread = session.get(Thread, thread_id)
    if thread is None:
        return f"conversation {thread_id} (not found)"
    subject = f" {thread.subject!r}" if thread.subject else ""
    return f"{thread.channel}{subject}" + _with(session, thread.customer_id, thread.started_at)


def _with(session: Session, customer_id: int | None, started_at: datetime | None) -> str:
    customer = f" with {_customer(session, customer_id)}" if customer_id is not None else ""
    when = f", {as_utc(started_at):%Y-%m-%d %H:%M} UTC" if started_at is not None else ""
    return customer + when


def _agent(session: Session, agent_id: int) -> str:
    agent = session.get(Agent, agent_id)
    return f"agent {agent.name}" if agent is not None else f"agent {agent_id} (not found)"


_DESCRIBERS: dict[SubjectKind, Callable[[Session, int], str]] = {
    "customer": _customer,
    "recording": _recording,
    "thread": _thread,
    "agent": _agent,
}
