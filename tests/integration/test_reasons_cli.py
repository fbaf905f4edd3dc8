"""``earshot reasons`` on SQLite and PostgreSQL: rules on the sample chats and e-mails, bad input as
one line, labelling, training refused and then done with its accuracy printed, audited as the
command line."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from earshot.cli import main
from storage.audit import COMMAND_LINE
from storage.db import read_scope
from storage.models import AuditEntry, Thread
from tests.conftest import open_test_database
from tests.paths import REPO

TOPICS = {
    "billing": "invoice charged twice refund payment bill overcharged debit".split(),
    "technical fault": "internet router outage slow connection down fault modem".split(),
}


def chats_file(folder: Path, per_topic: int) -> Path:
    """A chat export (the generic format) of customers writing mostly small talk and a few topic words."""
    rng = random.Random(5)
    filler = "hello thanks please yes the my your we can it is okay right so well".split()
    conversations = [
        {
            "id": f"{topic}-{n}",
            "channel": "chat",
            "customer": {"name": f"Customer {topic} {n}", "email": f"c{n}.{topic[:4]}@example.com"},
            "messages": [
                {
                    "id": "m1",
                    "direction": "inbound",
                    "sent_at": "2026-11-02T09:00:00+00:00",
                    "text": " ".join(rng.sample(filler, 10) + rng.choices(words, k=5)),
                }
            ],
        }
        for topic, words in TOPICS.items()
        for n in range(per_topic)
    ]
    path = folder / "topics.json"
    path.write_text(json.dumps({"conversations": conversations}), encoding="utf-8")
    return path


@pytest.fixture
def earshot(database_url: str, tmp_path: Path):
    def run(*args: str) -> Result:
        env = {"EARSHOT_DATABASE_URL": database_url, "EARSHOT_REASONS_MIN_PER_LABEL": "4"}
        return CliRunner(env=env).invoke(
            main, ["--data-dir", str(tmp_path / "data"), *args], catch_exceptions=False
        )

    return run


def thread_ids(database_url: str, tmp_path: Path) -> dict[str, int]:
    db = open_test_database(database_url, tmp_path)
    try:
        with read_scope(db) as session:
            return {
                provider_id: id_
                for provider_id, id_ in session.execute(select(Thread.provider_id, Thread.id))
            }
    finally:
        db.engine.dispose()


def test_rules_labels_and_training_from_the_command_line(earshot, database_url: str, tmp_path: Path) -> None:
    assert earshot("import-email", str(REPO / "sample_threads" / "emma_refund.mbox")).exit_code == 0
    assert (
        earshot("import-chat", str(REPO / "sample_threads" / "chats.json"), "--format", "generic").exit_code
        == 0
    )
    assert earshot("import-chat", str(chats_file(tmp_path, 5)), "--format", "generic").exit_code == 0
    ids = thread_ids(database_url, tmp_path)

    added = earshot("reasons", "rule", "add", "--reason", "billing", '"double charge" OR refund*')
    assert added.exit_code == 0 and added.stdout.startswith("rule 1: reason 'billing' when")
    assert earshot("reasons", "rule", "add", "--outcome", "resolved", '"works again"').exit_code == 0
    bad = earshot("reasons", "rule", "add", "--reason", "billing", "NEAR(refund")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: rule 'NEAR(refund' is not a valid search:")
    assert len(bad.stderr.strip().splitlines()) == 1
    assert earshot("reasons", "rule", "add", "refund").exit_code == 2  # neither --reason nor --outcome
    listed = earshot("reasons", "rule", "list").stdout.splitlines()
    assert [line.split()[:3] for line in listed[1:]] == [
        ["2", "outcome", "resolved"],
        ["1", "reason", "billing"],
    ]

    chat = earshot("reasons", "suggest", str(ids["webchat-20240511-0042"]))
    assert chat.exit_code == 0
    assert chat.stdout.splitlines()[0] == 'reason: billing (by rule 1: "double charge" OR refund*)'
    whatsapp = earshot("reasons", "suggest", str(ids["wa-20240514-0007"])).stdout.splitlines()
    assert whatsapp == ["reason: no suggestion", 'outcome: resolved (by rule 2: "works again")']
    assert earshot("reasons", "suggest", "no-such-call.wav").exit_code == 1

    refused = earshot("reasons", "train")
    assert refused.exit_code == 1 and "reason: not trained: need at least 4" in refused.stderr

    assert earshot("reasons", "define", "reason", "technical fault").exit_code == 0
    unknown = earshot("reasons", "label", str(ids["billing-0"]), "--reason", "cancellation")
    assert unknown.exit_code == 1 and "'cancellation' is not a defined reason" in unknown.stderr
    for topic in TOPICS:
        for n in range(5):
            done = earshot("reasons", "label", str(ids[f"{topic}-{n}"]), "--reason", topic)
            assert done.exit_code == 0 and f"reason {topic}, outcome -" in done.stdout

    trained = earshot("reasons", "train")
    assert trained.exit_code == 0, trained.stderr
    [line] = trained.stdout.splitlines()
    accuracy = float(re.match(r"reason: model v1, cross-validated accuracy (\d\.\d\d) ", line).group(1))
    assert accuracy > 0.8 and "billing 5, technical fault 5" in line
    assert "outcome: not trained" in trained.stderr  # no outcome labelled: its rules go on
    assert (tmp_path / "data" / "reasons" / "reason-v1.pickle").is_file()

    labels = earshot("reasons", "labels").stdout
    assert re.search(r"reason\s+billing\s+5\s+1", labels) and re.search(
        r"reason\s+technical fault\s+5\s+0", labels
    )
    assert "reason model v1: cross-validated accuracy" in labels
    model_says = earshot("reasons", "suggest", str(ids["technical fault-0"])).stdout.splitlines()[0]
    assert model_says.startswith("reason: technical fault (by model v1") and "probability" in model_says

    assert earshot("reasons", "rule", "remove", "1").stdout == "rule 1 removed (reason 'billing')\n"
    assert earshot("reasons", "rule", "remove", "1").exit_code == 1

    db = open_test_database(database_url, tmp_path)
    try:
        with read_scope(db) as session:
            audited = session.scalars(select(AuditEntry).where(AuditEntry.action.like("contact_%"))).all()
    finally:
        db.engine.dispose()
    assert {entry.username for entry in audited} == {COMMAND_LINE}
    assert sum(entry.action == "contact_labelled" for entry in audited) == 10
