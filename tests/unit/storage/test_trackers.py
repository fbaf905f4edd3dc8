"""Trackers (``storage.trackers``) on SQLite and PostgreSQL: a tracker tags the calls its query
matches and not the others, the call list filters by it, a call transcribed later is tagged (and its
owner alerted) or untagged when re-transcribed, roles, bad input and the audit rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recorder.types import CallMetadata
from storage import services
from storage.access import Principal
from storage.audit import COMMAND_LINE, list_audit
from storage.blobs import BlobStore
from storage.call_list import CallFilters, list_call_page
from storage.db import Database
from storage.erasure import erase_customer
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.models import Tracker as TrackerRow
from storage.models import TrackerMatch
from storage.query import QueryError
from storage.search import SearchFilters
from storage.trackers import (
    add_tracker,
    call_tags,
    list_trackers,
    mark_alerts_seen,
    remove_tracker,
    tag_transcribed_call,
    unseen_alerts,
)
from tests.unit.storage.conftest import MakeRecording, row_count
from transcribe.types import Speaker, TranscribeOptions, Transcript, Utterance, Word


def transcript(*lines: tuple[str, str]) -> Transcript:
    """Lines of (role, text), two seconds each, one word every quarter second."""
    speakers = (Speaker("S1", "agent", 0), Speaker("S2", "customer", 1))
    label = {"agent": "S1", "customer": "S2"}
    utterances = []
    for n, (role, text) in enumerate(lines):
        start = 2.0 * n
        words = tuple(
            Word(start + 0.25 * i, start + 0.25 * i + 0.2, f" {w}", 0.9, label[role])
            for i, w in enumerate(text.split())
        )
        utterances.append(Utterance(label[role], start, words[-1].end, text, words))
    return Transcript("en", 2.0 * len(lines) + 1, speakers, tuple(utterances), TranscribeOptions(), {})


REFUND = transcript(
    ("agent", "Thank you for calling, how can I help?"),
    ("customer", "I was charged twice and want a refund."),
    ("agent", "I will send the refund within five days."),
)
OUTAGE = transcript(
    ("agent", "Good morning, how can I help?"),
    ("customer", "My internet is down since yesterday."),
    ("agent", "An engineer will fix it tonight."),
)


def _call(db: Database, blobs: BlobStore, make_recording: MakeRecording, seed: int, said: Transcript) -> int:
    metadata = CallMetadata(customer_name=f"Customer {seed}", started_at=datetime(2026, 11, seed, tzinfo=UTC))
    recording_id = services.ingest_recording(
        db, make_recording(seed, metadata=metadata), blobs, "NL"
    ).recording_id
    services.save_transcript(db, recording_id, said)
    return recording_id


@pytest.fixture
def calls(db: Database, blobs: BlobStore, make_recording: MakeRecording) -> tuple[int, int]:
    return _call(db, blobs, make_recording, 1, REFUND), _call(db, blobs, make_recording, 2, OUTAGE)


def test_a_tracker_tags_the_matching_call_and_not_the_other(
    db: Database, people: dict[str, Principal], calls: tuple[int, int]
) -> None:
    refund, outage = calls
    compliance, coach = people["compliance"], people["coach"]
    added = add_tracker(db, compliance, "Refunds", "refund")
    assert added.conversations == 1 and added.owner == compliance.username and not added.notify
    assert [t.name for t in call_tags(db, coach, refund)] == ["Refunds"]
    assert call_tags(db, coach, outage) == []
    listed = list_call_page(db, coach, CallFilters(tracker_id=added.id))
    assert [c.id for c in listed.calls] == [refund]
    assert {c.id for c in list_call_page(db, coach).calls} == {refund, outage}  # no tracker: every call
    # A role filter narrows it as search does: the customer never said "engineer".
    engineers = add_tracker(
        db, compliance, "Engineer by customer", "engineer", SearchFilters(speaker_role="customer")
    )
    assert engineers.conversations == 0
    assert [t.name for t in list_trackers(db, coach)] == ["Engineer by customer", "Refunds"]
    actions = [r.action for r in list_audit(db, people["admin"], username=compliance.username)]
    assert actions.count("tracker_added") == 2
    assert "tracker_tags_viewed" in [
        r.action for r in list_audit(db, people["admin"], username=coach.username)
    ]


def test_a_call_transcribed_later_is_tagged_and_its_owner_alerted_once(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    compliance, admin = people["compliance"], people["admin"]
    tracker = add_tracker(db, compliance, "Outages", '"internet is down" OR engineer', notify=True)
    quiet = add_tracker(db, admin, "Outages, quietly", "engineer")
    assert tracker.conversations == 0
    outage = _call(db, blobs, make_recording, 3, OUTAGE)
    assert tag_transcribed_call(db, outage) == ["Outages", "Outages, quietly"]
    assert tag_transcribed_call(db, outage) == ["Outages", "Outages, quietly"]  # again: no second alert
    [alert] = unseen_alerts(db, compliance)
    assert (alert.tracker, alert.recording_id, alert.customer) == ("Outages", outage, "Customer 3")
    assert unseen_alerts(db, admin) == []  # the quiet tracker tags without telling
    assert mark_alerts_seen(db, admin, [alert]) == 0  # not admin's to dismiss
    assert mark_alerts_seen(db, compliance, [alert]) == 1
    assert unseen_alerts(db, compliance) == []
    # Re-transcribed so that it no longer matches, the call loses the tags.
    services.save_transcript(db, outage, REFUND)
    assert tag_transcribed_call(db, outage) == []
    assert call_tags(db, compliance, outage) == []
    assert quiet.id in {t.id for t in list_trackers(db, admin)}


def test_roles_bad_input_and_removal(
    db: Database, people: dict[str, Principal], calls: tuple[int, int]
) -> None:
    coach, compliance = people["coach"], people["compliance"]
    with pytest.raises(PermissionDenied):
        add_tracker(db, coach, "Refunds", "refund")
    with pytest.raises(PermissionDenied):
        list_trackers(db, people["agent"])
    with pytest.raises(QueryError):
        add_tracker(db, compliance, "Broken", "(refund")
    with pytest.raises(InvalidValue, match="needs an owner"):
        add_tracker(db, None, "Nobody told", "refund", notify=True)
    with pytest.raises(NotFound):
        add_tracker(db, None, "Ghost owner", "refund", notify=True, owner="nobody@example.com")
    assert row_count(db, TrackerRow) == 0  # nothing half-stored
    added = add_tracker(db, None, "Refunds", "refund", notify=True, owner="compliance@example.com")
    assert added.owner == "compliance@example.com"
    with pytest.raises(InvalidValue, match="exists already"):
        add_tracker(db, compliance, " Refunds ", "charged")
    with pytest.raises(PermissionDenied):
        remove_tracker(db, coach, "Refunds")
    with pytest.raises(NotFound):
        remove_tracker(db, compliance, "Nope")
    remove_tracker(db, compliance, "Refunds")
    assert row_count(db, TrackerRow) == 0 and row_count(db, TrackerMatch) == 0
    command_line = [r.action for r in list_audit(db, people["admin"], username=COMMAND_LINE)]
    assert "tracker_added" in command_line


def test_erasing_a_customer_takes_their_calls_tags_and_alerts_with_them(
    db: Database, blobs: BlobStore, make_recording: MakeRecording, people: dict[str, Principal]
) -> None:
    compliance = people["compliance"]
    tracker = add_tracker(db, compliance, "Refunds", "refund", notify=True)
    refund = _call(db, blobs, make_recording, 4, REFUND)
    tag_transcribed_call(db, refund)
    assert len(unseen_alerts(db, compliance)) == 1
    customer_id = next(c.customer_id for c in list_call_page(db, people["coach"]).calls if c.id == refund)
    assert customer_id is not None
    erase_customer(db, blobs, None, customer_id, dry_run=False)
    assert row_count(db, TrackerMatch) == 0 and unseen_alerts(db, compliance) == []
    assert [t.conversations for t in list_trackers(db, compliance) if t.id == tracker.id] == [0]
