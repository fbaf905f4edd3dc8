"""Legal holds, erasure and the one deletion service, on real SQLite files with the real sample calls
(audio in a real blob store) and the real sample chats and e-mails; transcripts are built by hand,
as in test_customer_history (whose ``db`` and ``demo`` fixtures these tests share)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from earshot.cli import main
from earshot.settings import Settings
from earshot.worker import RETENTION_SCHEDULE, run_worker
from storage import holds, jobs, users
from storage.access import Principal, UserRole
from storage.blobs import BlobStore, LocalBlobStore
from storage.db import Database, alembic_config, read_scope
from storage.deletion import (
    DerivedData,
    DerivedRemoval,
    HeldByLegalHold,
    register_derived,
    sweep_unreferenced_audio,
)
from storage.erasure import TooLargeErasure, erase_customer
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.history import customer_history
from storage.holds import HoldTarget, approve_release, place_hold, request_release
from storage.models import (
    AuditEntry,
    Customer,
    Evaluation,
    EvaluationAnswer,
    Identity,
    Message,
    Recording,
    Thread,
    Transcript,
    Utterance,
    as_utc,
)
from storage.quality import (
    AnswerInput,
    QuestionSpec,
    SectionSpec,
    create_form,
    get_evaluation,
    save_answers,
    start_evaluation,
)
from storage.retention import apply_retention, list_policies, remove_policy, set_policy
from storage.search import SearchFilters, search_utterances
from storage.services import load_transcript, recording_audio_path
from tests.cli import earshot
from tests.integration.test_customer_history import SAMPLE_THREADS, emma
from tests.integration.test_customer_history import demo as demo  # noqa: F401  (a fixture shared)
from tests.paths import SAMPLE_AUDIO


@pytest.fixture
def blobs(tmp_path: Path, demo: Database) -> LocalBlobStore:
    """Where the ``demo`` fixture stored the sample calls, with a folder of playback copies."""
    return LocalBlobStore(tmp_path / "blobs", copies=(tmp_path / "playback",))


def make_playback_copies(blobs: LocalBlobStore) -> None:
    """What the review app's player leaves for calls it had to convert: ``<sha256>.wav``."""
    [folder] = blobs.copies
    folder.mkdir(exist_ok=True)
    for sha, _ in blobs.stored():
        (folder / f"{sha}.wav").write_bytes(blobs.local_path(sha).read_bytes())


def playback_copies(blobs: LocalBlobStore) -> set[str]:
    return {path.stem for folder in blobs.copies for path in folder.iterdir()}


@pytest.fixture
def staff(db: Database) -> dict[str, Principal]:
    """Two compliance users (a release takes both), an admin and a coach, with real accounts."""
    people = {}
    staff: tuple[tuple[str, UserRole], ...] = (
        ("cora", "compliance"),
        ("carl", "compliance"),
        ("ada", "admin"),
        ("cole", "coach"),
    )
    for name, role in staff:
        account = users.create_user(db, f"{name}@example.com", "correct horse battery", role, actor=None)
        people[name] = Principal(account.id, account.username, account.role, account.agent_id)
    return people


def count(db: Database, model: type, *where: object) -> int:
    with read_scope(db) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def audio_files(blobs: BlobStore) -> set[str]:
    return {sha for sha, _ in blobs.stored()}


def recordings_of(db: Database, customer_id: int) -> list[tuple[int, str]]:
    with read_scope(db) as session:
        rows = session.execute(
            select(Recording.id, Recording.sha256)
            .join(Thread, Thread.id == Recording.thread_id)
            .where(Thread.customer_id == customer_id)
            .order_by(Recording.id)
        )
        return [(row.id, row.sha256) for row in rows]


def audit_rows(db: Database, action: str) -> list[AuditEntry]:
    with read_scope(db) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def words_found(db: Database, query: str) -> set[int | None]:
    """The customers whose calls, chats or e-mails a search finds."""
    return {hit.customer_id for hit in search_utterances(db, query, SearchFilters(), limit=100).hits}


# --- erasure --------------------------------------------------------------------------------------


def test_erasure_removes_every_trace_of_one_customer_and_nothing_of_another(
    db: Database, blobs: BlobStore, staff: dict[str, Principal]
) -> None:
    customer = emma(db)
    calls = recordings_of(db, customer)
    assert len(calls) == 2 and words_found(db, "refund") >= {customer}
    others_audio = audio_files(blobs) - {sha for _, sha in calls}
    make_playback_copies(blobs)
    form = create_form(db, staff["ada"], "Calls", (SectionSpec("Greeting", (QuestionSpec("Said hello?"),)),))
    evaluation = start_evaluation(db, staff["cole"], calls[0][0], form.id)
    before = (count(db, Customer), count(db, Thread), count(db, Message))

    preview = erase_customer(db, blobs, staff["cora"], customer, dry_run=True)

    assert (preview.conversations, preview.calls, preview.transcripts, preview.messages) == (4, 2, 1, 6)
    assert (preview.customers, preview.identities, preview.evaluations_kept) == (1, 3, 1)
    assert (count(db, Customer), count(db, Thread), count(db, Message)) == before  # a preview deletes nothing
    [previewed] = audit_rows(db, "deletion_previewed")
    assert previewed.target == f"customer:{customer}" and previewed.details["conversations"] == 4

    done = erase_customer(db, blobs, staff["cora"], customer, dry_run=False)

    assert done.conversations == 4 and done.audio_files == 2 and not done.dry_run
    with pytest.raises(NotFound):
        customer_history(db, customer)
    assert customer not in words_found(db, "refund OR charged OR invoice OR weekend")
    assert count(db, Identity, Identity.customer_id == customer) == 0
    assert count(db, Transcript) == 0 and count(db, Utterance) == 0  # only Emma's call was transcribed
    assert audio_files(blobs) == others_audio  # Peter's call is still there
    assert playback_copies(blobs) == others_audio  # and only his playback copy
    with read_scope(db) as session:
        kept = session.get_one(Evaluation, evaluation.summary.id)
        assert kept.recording_id is None and kept.call_deleted_at is not None
    [row] = audit_rows(db, "data_deleted")
    assert row.target == f"customer:{customer}" and row.username == "cora@example.com"
    assert row.details["purpose"] == "erasure" and row.details["messages"] == 6
    assert "Emma" not in str(row.details) and "about" not in row.details  # counts, not content
    with read_scope(db) as session:  # Peter's conversations are untouched and still found
        [peter] = session.scalars(select(Customer.id))
    assert peter in words_found(db, "credit")


def test_only_compliance_erases_and_an_unusually_large_erasure_needs_force(
    db: Database, blobs: BlobStore, staff: dict[str, Principal], monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = emma(db)
    for someone in ("ada", "cole"):
        with pytest.raises(PermissionDenied, match="may not manage compliance"):
            erase_customer(db, blobs, staff[someone], customer, dry_run=True)
    monkeypatch.setattr("storage.erasure.LARGE_ERASURE", 3)
    with pytest.raises(TooLargeErasure, match="has 4 conversations, more than 3"):
        erase_customer(db, blobs, staff["cora"], customer, dry_run=False)
    assert count(db, Thread, Thread.customer_id == customer) == 4
    assert erase_customer(db, blobs, staff["cora"], customer, dry_run=False, force=True).conversations == 4


def test_a_crash_between_commit_and_file_removal_leaves_only_files_the_sweep_removes(
    db: Database, blobs: BlobStore, staff: dict[str, Principal], monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = emma(db)
    emma_audio = {sha for _, sha in recordings_of(db, customer)}
    everything = audio_files(blobs)

    def crash(*files: object) -> None:
        raise KeyboardInterrupt  # the process dies right after the commit

    monkeypatch.setattr("storage.deletion._remove_files", crash)
    with pytest.raises(KeyboardInterrupt):
        erase_customer(db, blobs, None, customer, dry_run=False)
    assert count(db, Customer, Customer.id == customer) == 0  # the rows went...
    assert audio_files(blobs) == everything  # ...and their files stayed: unreferenced, never missing

    assert sweep_unreferenced_audio(db, blobs) == 0  # too fresh: an ingest may be about to commit them
    assert sweep_unreferenced_audio(db, blobs, grace=timedelta(0)) == 2
    assert audio_files(blobs) == everything - emma_audio


# --- legal holds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["customer", "call", "query"])
def test_a_hold_refuses_the_erasure_naming_the_hold_and_deletes_nothing(
    db: Database, blobs: BlobStore, staff: dict[str, Principal], kind: str
) -> None:
    customer = emma(db)
    target = {
        "customer": HoldTarget("customer", customer_id=customer),
        "call": HoldTarget("call", recording_id=recordings_of(db, customer)[1][0]),
        "query": HoldTarget("query", query="refund", date_from=date(2024, 5, 1), date_to=date(2024, 5, 31)),
    }[kind]
    hold = place_hold(db, staff["cora"], target, "Case 2024-17 (billing complaint)")
    audio = audio_files(blobs)

    with pytest.raises(HeldByLegalHold, match=f"hold {hold.id} .*Case 2024-17"):
        erase_customer(db, blobs, staff["carl"], customer, dry_run=False)

    assert count(db, Thread, Thread.customer_id == customer) == 4 and audio_files(blobs) == audio
    assert audit_rows(db, "data_deleted") == []
    [placed] = audit_rows(db, "hold_placed")
    assert placed.target == f"hold:{hold.id}" and placed.username == "cora@example.com"


def test_a_query_hold_covers_what_matches_later_and_ends_only_by_two_compliance_users(
    db: Database, blobs: BlobStore, staff: dict[str, Principal]
) -> None:
    customer = emma(db)
    hold = place_hold(db, None, HoldTarget("query", query='"nice weekend"'), "Matter 9")
    # Emma's chat matches; a match placed later would be covered the same way: the hold is asked
    # at deletion time, never frozen when it is placed.
    with pytest.raises(HeldByLegalHold, match=f"hold {hold.id}"):
        erase_customer(db, blobs, staff["cora"], customer, dry_run=True)

    with pytest.raises(PermissionDenied, match="may not manage compliance"):
        request_release(db, staff["ada"], hold.id)
    with pytest.raises(InvalidValue, match="nobody has asked"):
        approve_release(db, staff["carl"], hold.id)
    request_release(db, staff["cora"], hold.id)
    with pytest.raises(PermissionDenied, match="a different compliance user must approve"):
        approve_release(db, staff["cora"], hold.id)
    with pytest.raises(HeldByLegalHold):  # asked for, not yet approved: it still stands
        erase_customer(db, blobs, staff["cora"], customer, dry_run=False)

    released = approve_release(db, staff["carl"], hold.id)

    assert not released.active and released.released_by == "carl@example.com"
    assert holds.list_holds(db, staff["ada"]) == []  # admins see holds; none stands now
    [row] = audit_rows(db, "hold_released")
    assert row.username == "carl@example.com" and row.details["requested_by"] == "cora@example.com"
    assert erase_customer(db, blobs, staff["cora"], customer, dry_run=False).customers == 1


def test_a_hold_ends_after_its_last_day_and_refuses_a_bad_request(
    db: Database, blobs: BlobStore, staff: dict[str, Principal]
) -> None:
    customer = emma(db)
    today = date(2026, 12, 6)
    place_hold(
        db,
        staff["cora"],
        HoldTarget("customer", customer_id=customer),
        "Until the hearing",
        today,
        today=today,
    )
    assert [h.active for h in holds.list_holds(db, None, today=today)] == [True]
    assert holds.list_holds(db, None, today=today + timedelta(days=1)) == []
    with pytest.raises(InvalidValue, match="exactly one of"):
        HoldTarget("customer", customer_id=customer, query="refund")
    with pytest.raises(InvalidValue, match="needs a reason"):
        place_hold(db, None, HoldTarget("customer", customer_id=customer), "  ")
    with pytest.raises(InvalidValue, match="would already have ended"):
        place_hold(
            db,
            None,
            HoldTarget("customer", customer_id=customer),
            "x",
            today - timedelta(days=1),
            today=today,
        )
    with pytest.raises(NotFound, match="no recording with id 999"):
        place_hold(db, None, HoldTarget("call", recording_id=999), "x")
    with pytest.raises(ValueError, match="unbalanced|quote|parenthes"):
        HoldTarget("query", query='"refund')


# --- the command line -----------------------------------------------------------------------------


def test_cli_holds_need_two_compliance_users_and_then_the_erasure_goes_through(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert earshot(data, "ingest", str(SAMPLE_AUDIO)).exit_code == 0
    assert earshot(data, "import-chat", str(SAMPLE_THREADS / "chats.json")).exit_code == 0
    for name in ("cora", "carl"):
        added = CliRunner().invoke(
            main,
            [
                "--data-dir",
                str(data),
                "user",
                "add",
                f"{name}@example.com",
                "--role",
                "compliance",
                "--password-stdin",
            ],
            input="correct horse battery\n",
        )
        assert added.exit_code == 0, added.output
    audio = data / "audio"
    assert len(list(audio.glob("??/*"))) == 3

    placed = earshot(data, "hold", "add", "--customer", "emma.devries@example.nl", "--reason", "Case 1")
    assert placed.stdout == "hold 1 placed on customer 1\n"
    refused = earshot(data, "customer", "erase", "482913")
    assert refused.exit_code == 1 and "hold 1 (customer 1: Case 1)" in refused.stderr
    assert "standing  reason: Case 1" in earshot(data, "hold", "list").stdout

    assert earshot(data, "hold", "release", "1", "--by", "cora@example.com").exit_code == 0
    same = earshot(data, "hold", "approve-release", "1", "--by", "cora@example.com")
    assert same.exit_code == 1 and "a different compliance user must approve" in same.stderr
    assert "awaiting a second approval" in earshot(data, "hold", "list").stdout
    assert (
        earshot(data, "hold", "approve-release", "1", "--by", "carl@example.com").stdout
        == "hold 1 released\n"
    )
    assert earshot(data, "hold", "list").stdout == ""

    preview = earshot(data, "customer", "erase", "482913", "--dry-run")
    assert preview.stdout.startswith("customer 1 would delete: 3 conversation(s), 2 call(s), 2 audio file(s)")
    assert len(list(audio.glob("??/*"))) == 3
    erased = earshot(data, "customer", "erase", "482913")
    assert erased.stdout.startswith("customer 1 deleted: 3 conversation(s), 2 call(s), 2 audio file(s)")
    assert len(list(audio.glob("??/*"))) == 1
    assert earshot(data, "history", "482913").exit_code == 1
    found = earshot(data, "search", "refund OR weekend OR credit", "--json").stdout.splitlines()
    assert found and all("Emma" not in line for line in found)


# --- retention ------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # the sample conversations are from May 2024


def thread_of(db: Database, recording_id: int) -> int:
    with read_scope(db) as session:
        return session.get_one(Recording, recording_id).thread_id


def channels_left(db: Database) -> list[tuple[str, str | None]]:
    with read_scope(db) as session:
        rows = session.execute(
            select(Thread.channel, Recording.original_name)
            .outerjoin(Recording, Recording.thread_id == Thread.id)
            .order_by(Thread.channel, Recording.original_name)
        )
        return [(row.channel, row.original_name) for row in rows]


def test_retention_follows_the_most_specific_policy_and_skips_what_is_held(
    db: Database, blobs: BlobStore, staff: dict[str, Principal]
) -> None:
    set_policy(db, staff["cora"], "call", 365)
    set_policy(db, staff["cora"], "call", 3650, agent="Daan Visser")  # his calls are kept ten years
    set_policy(db, staff["cora"], "chat", 30)
    set_policy(db, staff["cora"], "chat", 60)  # the same scope again: changes the policy, adds none
    assert [(p.covers, p.keep_days) for p in list_policies(db, staff["ada"])] == [
        ("call", 365),
        ("call of agent Daan Visser", 3650),
        ("chat", 60),
    ]
    peters_call = next(rid for rid, _ in recordings_of(db, 2))
    hold = place_hold(db, staff["carl"], HoldTarget("call", recording_id=peters_call), "Outage claim")
    before = channels_left(db)

    preview = apply_retention(db, blobs, staff["cora"], dry_run=True, now=NOW)

    assert (preview.everything.conversations, preview.everything.calls) == (
        2,
        1,
    )  # Emma's first call, her chat
    assert (preview.everything.held_skipped, preview.everything.holds) == (1, (hold.id,))
    assert channels_left(db) == before

    run = apply_retention(db, blobs, staff["cora"], dry_run=False, now=NOW)

    assert run.everything.conversations == 2 and run.audio_only.calls == 0
    assert channels_left(db) == [
        ("call", "2024-05-08_refund_callback.wav"),  # Daan's: ten years
        ("call", "2024-05-13_outage_credit.opus"),  # held
        ("email", None),  # no policy for e-mail: kept
        ("whatsapp", None),
    ]
    [row] = audit_rows(db, "data_deleted")
    assert (
        row.target == "retention"
        and row.details["purpose"] == "retention"
        and row.details["holds"] == [hold.id]
    )
    again = apply_retention(db, blobs, None, dry_run=False, now=NOW).everything
    assert (again.conversations, again.held_skipped) == (0, 1)
    assert len(audit_rows(db, "data_deleted")) == 1  # only the held call was due: nothing deleted, no row


def test_an_audio_policy_removes_the_audio_and_keeps_the_transcript(
    db: Database, blobs: BlobStore, staff: dict[str, Principal]
) -> None:
    set_policy(db, staff["cora"], "call", 30, "audio", direction="inbound")
    first_call = recordings_of(db, emma(db))[0][0]  # inbound, transcribed; the callback is outbound
    transcript_before = load_transcript(db, first_call)

    run = apply_retention(db, blobs, None, dry_run=False, now=NOW)

    assert (run.audio_only.calls, run.audio_only.audio_files, run.audio_only.conversations) == (2, 2, 0)
    assert load_transcript(db, first_call) == transcript_before
    assert emma(db) in words_found(db, "refund")
    with read_scope(db) as session:  # stamped when the run deleted it, on the real clock
        deleted_at = session.get_one(Recording, first_call).audio_deleted_at
    assert deleted_at is not None
    deleted_on = f"{as_utc(deleted_at):%Y-%m-%d}"
    kept = f"deleted by a retention policy on {deleted_on}; its transcript is kept"
    with pytest.raises(NotFound, match=kept):
        recording_audio_path(db, first_call, blobs)
    assert len(audio_files(blobs)) == 1  # the outbound callback's
    assert apply_retention(db, blobs, None, dry_run=False, now=NOW).audio_only.calls == 0


def test_policies_refuse_bad_values_and_only_compliance_sets_them(
    db: Database, blobs: BlobStore, staff: dict[str, Principal]
) -> None:
    with pytest.raises(InvalidValue, match="only calls have audio"):
        set_policy(db, None, "chat", 30, "audio")
    with pytest.raises(InvalidValue, match="keep days must be between 1"):
        set_policy(db, None, "call", 0)
    with pytest.raises(InvalidValue, match="direction 'sideways'"):
        set_policy(db, None, "call", 30, direction="sideways")
    with pytest.raises(PermissionDenied, match="may not manage compliance"):
        set_policy(db, staff["ada"], "call", 30)
    with pytest.raises(PermissionDenied, match="may not manage compliance"):
        apply_retention(db, blobs, staff["ada"], dry_run=True)
    with pytest.raises(PermissionDenied, match="may not view compliance"):
        list_policies(db, staff["cole"])
    policy = set_policy(db, None, "call", 30)
    remove_policy(db, staff["cora"], policy.id)
    assert list_policies(db, None) == []
    assert [r.action for r in audit_rows(db, "retention_policy_removed")] == ["retention_policy_removed"]


def test_the_worker_applies_retention_on_its_schedule(db: Database, blobs: BlobStore, tmp_path: Path) -> None:
    while (job := jobs.claim_next(db, "test", stale_after=timedelta(minutes=10))) is not None:
        jobs.complete(db, job.id)  # the queue is empty: no model runs in this test
    set_policy(db, None, "chat", 30)
    settings = Settings(data_dir=tmp_path, database_url=str(db.engine.url), retention_every_s=3600)
    heard: list[str] = []

    run_worker(db, settings, drain_and_exit=True, report=heard.append)

    assert [channel for channel, _ in channels_left(db)] == ["call", "call", "call", "email", "whatsapp"]
    assert heard == [
        "retention: 1 conversation(s) deleted, audio of 0 call(s) deleted, "
        "0 unreferenced audio file(s) removed"
    ]
    [row] = audit_rows(db, "data_deleted")
    assert row.username == RETENTION_SCHEDULE


def test_cli_retention_show_set_apply_and_remove(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert earshot(data, "ingest", str(SAMPLE_AUDIO)).exit_code == 0
    assert earshot(data, "retention", "show").stderr == "no retention policies: everything is kept\n"
    assert earshot(data, "retention", "set", "call", "30", "--delete", "audio").stdout == (
        "policy 1: call: keep 30 day(s), then delete audio\n"
    )
    refused = earshot(data, "retention", "set", "chat", "30", "--delete", "audio")
    assert (
        refused.exit_code == 1
        and refused.stderr == "error: only calls have audio; a chat policy deletes everything\n"
    )
    assert earshot(data, "retention", "show").stdout.startswith(
        "   1  call: keep 30 day(s), then delete audio"
    )

    preview = earshot(data, "retention", "apply", "--dry-run")
    assert (
        "retention (audio only) would delete: 0 conversation(s), 3 call(s), 3 audio file(s)" in preview.stdout
    )
    assert len(list((data / "audio").glob("??/*"))) == 3
    applied = earshot(data, "retention", "apply")
    assert "retention (audio only) deleted: 0 conversation(s), 3 call(s), 3 audio file(s)" in applied.stdout
    assert list((data / "audio").glob("??/*")) == []
    listed = earshot(data, "calls").stdout.splitlines()[1:]  # under the header: the calls stay, jobs went
    assert len(listed) == 3 and all("no job" in line for line in listed)

    assert earshot(data, "retention", "remove", "1").stdout == "policy 1 removed\n"
    assert earshot(data, "retention", "remove", "1").stderr == "error: no retention policy with id 1\n"


# --- derived data and the schema ------------------------------------------------------------------


def test_derived_data_registered_by_a_later_module_goes_with_the_call_and_is_held_with_it(
    db: Database, blobs: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What redaction will do: register its copies, and the one deletion removes them (rows in the
    transaction, files after the commit), and a hold keeps them."""
    monkeypatch.setattr("storage.deletion._DERIVED", [])
    copies = tmp_path / "redacted"
    copies.mkdir()
    customer = emma(db)
    for recording_id, _ in recordings_of(db, customer):
        (copies / f"{recording_id}.wav").write_bytes(b"redacted audio")
    removed_rows: list[int] = []

    def remove_copies(session: Session, recording_ids: Sequence[int]) -> DerivedRemoval:
        assert session.in_transaction()
        removed_rows.extend(recording_ids)
        files = tuple(copies / f"{rid}.wav" for rid in recording_ids)
        assert all(path.exists() for path in files)  # files stay until the rows have committed
        return DerivedRemoval(rows=len(recording_ids), files=files)

    register_derived(DerivedData("redacted audio", remove_copies, audio=True))
    with pytest.raises(ValueError, match="registered twice"):
        register_derived(DerivedData("redacted audio", remove_copies))
    place_hold(db, None, HoldTarget("customer", customer_id=customer), "Case 3")
    with pytest.raises(HeldByLegalHold):
        erase_customer(db, blobs, None, customer, dry_run=False)
    assert removed_rows == [] and len(list(copies.iterdir())) == 2

    [hold] = holds.list_holds(db, None)
    request_release(db, holds.principal_for_command_line(db, _account(db, "a")), hold.id)
    approve_release(db, holds.principal_for_command_line(db, _account(db, "b")), hold.id)
    report = erase_customer(db, blobs, None, customer, dry_run=False)

    assert report.derived == {"redacted audio": 2} and len(removed_rows) == 2
    assert list(copies.iterdir()) == []


def _account(db: Database, name: str) -> str:
    return users.create_user(
        db, f"{name}@example.com", "correct horse battery", "compliance", actor=None
    ).username


@pytest.mark.usefixtures("demo")
def test_migration_0011_keeps_every_evaluation_answer_when_it_rebuilds_evaluations(
    db: Database, staff: dict[str, Principal]
) -> None:
    """SQLite rebuilds the evaluations table to change its foreign key; with foreign keys enforced,
    dropping the old table would cascade into the answers. Both ways, they and the calls' rows stay."""
    call = recordings_of(db, emma(db))[0][0]
    form = create_form(
        db, staff["ada"], "Calls", (SectionSpec("Opening", (QuestionSpec("Hello?"), QuestionSpec("Name?"))),)
    )
    evaluation = start_evaluation(db, staff["cole"], call, form.id)
    questions = [q.id for s in form.sections for q in s.questions if q.id is not None]
    save_answers(db, staff["cole"], evaluation.summary.id, {q: AnswerInput("yes", "fine") for q in questions})
    assert count(db, EvaluationAnswer) == 2
    kept = (count(db, Recording), count(db, Transcript), count(db, Utterance))
    assert kept == (3, 1, 2)
    with db.engine.connect() as connection:
        config = alembic_config(connection)
        command.downgrade(config, "0009")
        connection.commit()
        assert connection.exec_driver_sql("SELECT count(*) FROM evaluation_answers").scalar() == 2
        connection.commit()  # migrations start outside a transaction (SQLite's foreign keys go off)
        command.upgrade(config, "head")
        connection.commit()
    assert count(db, EvaluationAnswer) == 2
    assert (count(db, Recording), count(db, Transcript), count(db, Utterance)) == kept
    assert get_evaluation(db, staff["cole"], evaluation.summary.id).answers.keys() == set(questions)


def test_a_registering_module_is_loaded_before_any_deletion(
    db: Database, blobs: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that deletes (here: one that never imported the module) still deletes its data."""
    module = tmp_path / "derived_notes.py"
    module.write_text(
        "from storage.deletion import DerivedData, DerivedRemoval, register_derived\n"
        "removed = []\n"
        "def remove(session, recording_ids):\n"
        "    removed.extend(recording_ids)\n"
        "    return DerivedRemoval(rows=len(recording_ids))\n"
        "register_derived(DerivedData('notes', remove))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("storage.deletion._DERIVED", [])
    monkeypatch.setattr("storage.deletion.DERIVED_DATA_MODULES", ("derived_notes",))
    monkeypatch.delitem(sys.modules, "derived_notes", raising=False)

    report = erase_customer(db, blobs, None, emma(db), dry_run=False)

    assert report.derived == {"notes": 2} and len(sys.modules["derived_notes"].removed) == 2


def test_storing_the_same_audio_again_keeps_its_leftover_file_from_the_sweep(
    db: Database, blobs: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call erased by a deletion that crashed before removing its file, then ingested again: the
    file it finds in the store counts as new, so a sweep cannot take it before the row commits."""
    customer = emma(db)
    [(_, sha), (_, other)] = recordings_of(db, customer)
    monkeypatch.setattr("storage.deletion._remove_files", lambda *files: None)  # the crash
    erase_customer(db, blobs, None, customer, dry_run=False)
    path = blobs.local_path(sha)
    for left in (path, blobs.local_path(other)):
        os.utime(left, (0, 0))  # left behind long ago

    again = blobs.put(SAMPLE_AUDIO / "2024-05-06_double_charge.wav")

    assert again.sha256 == sha and not again.created
    assert sweep_unreferenced_audio(db, blobs) == 1  # only the other erased call's file
    assert path.exists() and other not in dict(blobs.stored())
