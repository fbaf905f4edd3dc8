"""Contact reason and outcome on SQLite and PostgreSQL: the admin's rules matched by the search index
on the demo's real conversations (the sample calls with the words their script speaks, the sample
chats and e-mails), people's labels, training on them and the model taking over, roles and audit."""

from __future__ import annotations

import random
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from earshot.reason_classifier import NotEnoughLabels
from earshot.reason_classifier import train as train_model
from earshot.reason_demo import DEMO_RULES, seed_demo_reasons
from earshot.reason_suggestions import suggest
from earshot.settings import Settings
from recorder.chat_import import read_chat
from recorder.email_import import read_email
from recorder.ingest import ScanOptions, scan
from recorder.types import Recording as IncomingRecording
from storage import contact_reasons as reasons
from storage.access import Principal
from storage.blobs import BlobStore
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.models import AuditEntry, ContactLabel, ContactRule, Message, Thread
from storage.services import ingest_recording, save_transcript
from storage.threads_import import import_threads
from tests.paths import REPO, SAMPLE_AUDIO
from transcribe import types as t

SAMPLE_THREADS = REPO / "sample_threads"
OWN = ("@earshot-telecom.example",)


def spoken_scripts() -> list[list[tuple[str, str]]]:
    """What each sample call says, (side, text) per line, in the order make_samples.sh records them
    (the calls' file names sort in the same order)."""
    script = (SAMPLE_AUDIO / "make_samples.sh").read_text(encoding="utf-8")
    blocks = re.findall(r"script_to_sides <<'EOF'\n(.*?)\nEOF", script, re.S)
    return [[(line.split("|")[0], line.split("|", 3)[3]) for line in block.splitlines()] for block in blocks]


def transcript(lines: list[tuple[str, str]]) -> t.Transcript:
    """The script as a transcript: the left side is the agent (S1), the right the customer (S2)."""
    return t.Transcript(
        language="en",
        duration=float(4 * len(lines)),
        speakers=(t.Speaker("S1", "agent", 0, None), t.Speaker("S2", "customer", 1)),
        utterances=tuple(
            t.Utterance(
                label := ("S1" if side == "L" else "S2"),
                4.0 * n,
                4.0 * n + 3,
                text,
                (t.Word(4.0 * n, 4.0 * n + 1, text.split()[0], 0.9, label),),
            )
            for n, (side, text) in enumerate(lines)
        ),
        options=t.TranscribeOptions(),
        models={"asr": "script"},
    )


@pytest.fixture
def demo(db: Database, blobs: BlobStore) -> dict[str, int]:
    """The demo's conversations, by a short name, as conversation (thread) ids."""
    calls = sorted(
        (r for r in scan([SAMPLE_AUDIO], ScanOptions()) if isinstance(r, IncomingRecording)),
        key=lambda r: r.path.name,
    )
    named: dict[str, int] = {}
    for name, recording, lines in zip(
        ("double charge call", "refund callback", "outage call"), calls, spoken_scripts(), strict=True
    ):
        result = ingest_recording(db, recording, blobs, "NL")
        save_transcript(db, result.recording_id, transcript(lines))
        named[name] = reasons.call_conversation(db, result.recording_id)
    import_threads(db, read_email([SAMPLE_THREADS / "emma_refund.mbox"], own_addresses=OWN), "NL")
    import_threads(db, read_chat([SAMPLE_THREADS / "chats.json"], "generic"), "NL")
    with read_scope(db) as session:
        for channel, thread_id in session.execute(
            select(Thread.channel, Thread.id).where(Thread.channel != "call")
        ):
            named[f"{channel} thread"] = thread_id
    assert len(named) == 6
    return named


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url="unused", reasons_min_per_label=3)


RULES = [
    ("reason", "billing", '"charged twice" OR "double charge" OR refund*'),
    ("reason", "technical fault", "NEAR(internet down, 3) OR outage OR fault"),
    ("outcome", "resolved", '"works again" OR (arrived -"not seen")'),
    ("outcome", "follow-up needed", '"I will send" OR NEAR(send confirmation, 5)'),
]


def add_rules(db: Database, admin: Principal) -> None:
    for label_set, label, query in RULES:
        reasons.add_rule(db, admin, label_set, label, query)


def labels_of(db: Database, settings: Settings, who: Principal, thread_id: int) -> dict[str, tuple[str, str]]:
    return {s: (found.label, found.source) for s, found in suggest(db, settings, who, thread_id).items()}


def test_rules_suggest_from_the_real_conversations(
    db: Database, demo: dict[str, int], people: dict[str, Principal], settings: Settings
) -> None:
    add_rules(db, people["admin"])
    agent = people["agent"]
    assert labels_of(db, settings, agent, demo["double charge call"]) == {"reason": ("billing", "rule")}
    # The callback promises to send a confirmation: a follow-up; the refund makes it billing.
    assert labels_of(db, settings, agent, demo["refund callback"]) == {
        "reason": ("billing", "rule"),
        "outcome": ("follow-up needed", "rule"),
    }
    # "My internet has been down": NEAR finds the words three apart; "fault in your area" too.
    assert labels_of(db, settings, agent, demo["outage call"])["reason"] == ("technical fault", "rule")
    # The WhatsApp: "Internet works again" resolves it; no billing word in it.
    assert labels_of(db, settings, agent, demo["whatsapp thread"]) == {"outcome": ("resolved", "rule")}
    # The chat: "the refund ... arrived" (billing, resolved); the e-mail: "refunded" is refund*.
    assert labels_of(db, settings, agent, demo["chat thread"]) == {
        "reason": ("billing", "rule"),
        "outcome": ("resolved", "rule"),
    }
    assert labels_of(db, settings, agent, demo["email thread"])["reason"] == ("billing", "rule")


def test_the_first_rule_written_wins_and_a_removed_rule_stops_suggesting(
    db: Database, demo: dict[str, int], people: dict[str, Principal], settings: Settings
) -> None:
    admin = people["admin"]
    first = reasons.add_rule(db, admin, "reason", "complaint", "charged")
    reasons.add_rule(db, admin, "reason", "billing", "refund*")
    found = suggest(db, settings, admin, demo["double charge call"])["reason"]
    assert (found.label, found.basis) == ("complaint", f"rule {first.id}: charged")
    assert reasons.remove_rule(db, admin, first.id).label.name == "complaint"
    assert suggest(db, settings, admin, demo["double charge call"])["reason"].label == "billing"
    assert [rule.label.name for rule in reasons.list_rules(db, admin)] == ["billing"]
    with pytest.raises(NotFound):
        reasons.remove_rule(db, admin, first.id)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(refund", "unbalanced parenthesis at position 1"),
        ("refund NEAR euros", "NEAR is written NEAR("),
        ("-voucher", "cannot only exclude"),
        ("", "empty query"),
    ],
)
def test_a_rule_with_bad_syntax_is_refused_with_the_parsers_message(
    db: Database, people: dict[str, Principal], query: str, message: str
) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)) as refused:
        reasons.add_rule(db, people["admin"], "reason", "billing", query)
    assert "is not a valid search" in str(refused.value)
    with read_scope(db) as session:  # nothing stored, not even the label
        assert session.scalars(select(ContactRule)).all() == []
        assert session.scalars(select(ContactLabel)).all() == []


def test_roles_admins_write_rules_agents_and_coaches_label(
    db: Database, demo: dict[str, int], people: dict[str, Principal]
) -> None:
    for role in ("agent", "coach", "compliance"):
        with pytest.raises(PermissionDenied, match="manage settings"):
            reasons.add_rule(db, people[role], "reason", "billing", "refund")
        with pytest.raises(PermissionDenied):
            reasons.label_counts(db, people[role])
    reasons.define_label(db, people["admin"], "reason", "billing")
    reasons.define_label(db, people["admin"], "outcome", "resolved")
    for role in ("agent", "coach"):
        done = reasons.label_conversation(db, people[role], demo["chat thread"], reason="billing")
        assert (done.reason, done.labelled_by) == ("billing", people[role].username)


def test_labels_are_the_defined_ones_and_keep_what_was_suggested(
    db: Database, demo: dict[str, int], people: dict[str, Principal]
) -> None:
    admin, coach = people["admin"], people["coach"]
    add_rules(db, admin)
    thread = demo["refund callback"]
    with pytest.raises(InvalidValue, match="'cancellation' is not a defined reason; defined: billing"):
        reasons.label_conversation(db, coach, thread, reason="cancellation")
    with pytest.raises(InvalidValue, match="give a reason, an outcome or both"):
        reasons.label_conversation(db, coach, thread)
    with pytest.raises(NotFound):
        reasons.label_conversation(db, coach, 10_000, reason="billing")
    shown = {"reason": "billing", "outcome": "follow-up needed"}
    reasons.label_conversation(db, coach, thread, reason="billing", suggested=shown)  # accepted
    corrected = reasons.label_conversation(db, coach, thread, outcome="resolved", suggested=shown)
    assert (corrected.reason, corrected.outcome) == ("billing", "resolved")  # the reason stays
    assert (corrected.suggested_reason, corrected.suggested_outcome) == ("billing", "follow-up needed")
    counts = {
        (c.label.label_set, c.label.name): (c.labelled, c.rules) for c in reasons.label_counts(db, admin)
    }
    assert counts[("reason", "billing")] == (1, 1)
    assert counts[("outcome", "resolved")] == (1, 1)
    assert counts[("outcome", "follow-up needed")] == (0, 1)
    with read_scope(db) as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "contact_labelled").order_by(AuditEntry.id)
        ).all()
    assert [(a.username, a.target) for a in audited] == [(coach.username, f"thread:{thread}")] * 2
    assert audited[1].details["outcome"] == "resolved"
    assert audited[1].details["outcome_was_suggested"] is False


TOPIC_WORDS = {
    "billing": "invoice charged twice refund payment bill overcharged debit".split(),
    "technical fault": "internet router outage slow connection down fault modem signal".split(),
}


def add_labelled_chats(db: Database, per_label: int, batch: str, label: bool = True) -> list[int]:
    """Chats whose words are mostly small talk with a few words of their topic, each labelled with
    its topic unless ``label`` is False; billing's first."""
    rng = random.Random(batch)
    filler = "hello thanks please yes the my your we can it is okay right so well".split()
    thread_ids = []
    with session_scope(db) as session:
        for topic, words in TOPIC_WORDS.items():
            for n in range(per_label):
                thread = Thread(channel="chat", provider="test", provider_id=f"{batch}-{topic}-{n}")
                text = " ".join(rng.sample(filler, 10) + rng.choices(words, k=5))
                thread.messages.append(Message(provider_message_id="1", direction="inbound", body=text))
                session.add(thread)
                session.flush()
                thread_ids.append(thread.id)
    for thread_id, label in zip(
        thread_ids, [lab for lab in TOPIC_WORDS for _ in range(per_label)], strict=True
    ):
        reasons.label_conversation(db, None, thread_id, reason=label)
    return thread_ids


def test_the_model_takes_over_once_trained_with_its_accuracy_and_a_private_file(
    db: Database, demo: dict[str, int], people: dict[str, Principal], settings: Settings
) -> None:
    admin = people["admin"]
    reasons.add_rule(db, admin, "reason", "billing", '"charged twice"')
    reasons.define_label(db, admin, "reason", "technical fault")
    add_labelled_chats(db, per_label=2, batch="first")
    with pytest.raises(NotEnoughLabels, match="at least 3 labelled conversations"):
        train_model(db, settings, "reason", admin)
    with pytest.raises(PermissionDenied):
        train_model(db, settings, "reason", people["coach"])
    add_labelled_chats(db, per_label=6, batch="more")

    version, fitted = train_model(db, settings, "reason", admin)
    assert version.version == 1 and version.accuracy > 0.8
    assert version.label_counts == {"billing": 8, "technical fault": 8} and version.examples == 16
    path = settings.reasons_dir / version.file_name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.reasons_dir.stat().st_mode) == 0o700

    # The model speaks for every conversation now, the rule's too; the outage call, which no rule
    # matches, gets one of the model's labels.
    found = suggest(db, settings, people["agent"], demo["double charge call"])
    assert found["reason"].source == "model" and found["reason"].label == "billing"
    assert found["reason"].basis.startswith("model v1 (cross-validated accuracy")
    assert found["reason"].probability is not None and 0.5 < found["reason"].probability <= 1
    assert "outcome" not in found  # no outcome rule matches and no outcome model exists
    outage = suggest(db, settings, people["agent"], demo["outage call"])["reason"]
    assert outage.source == "model" and outage.label in TOPIC_WORDS
    [unseen] = add_labelled_chats(db, per_label=1, batch="unseen", label=False)[1:]
    assert suggest(db, settings, admin, unseen)["reason"].label == "technical fault"

    second, _ = train_model(db, settings, "reason", admin)
    assert second.version == 2
    with read_scope(db) as session:
        assert reasons.latest_models(session)["reason"].version == 2
        trained = session.scalars(select(AuditEntry).where(AuditEntry.action == "reason_model_trained")).all()
    assert [entry.details["version"] for entry in trained] == [1, 2]

    # A data folder moved without its models: the rules speak again rather than nothing.
    path_of_second = settings.reasons_dir / second.file_name
    path_of_second.unlink()
    assert suggest(db, settings, admin, demo["double charge call"])["reason"].source == "rule"


def test_a_suggestion_is_an_audited_read(
    db: Database, demo: dict[str, int], people: dict[str, Principal], settings: Settings
) -> None:
    add_rules(db, people["admin"])
    suggest(db, settings, people["agent"], demo["chat thread"])
    with read_scope(db) as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "contact_reasons_suggested")
        ).all()
    assert entry.username == people["agent"].username and entry.target == f"thread:{demo['chat thread']}"
    assert entry.details["reason"]["label"] == "billing"
    with pytest.raises(NotFound):
        suggest(db, settings, people["agent"], 10_000)


def test_the_demo_writes_its_rules_once_and_labels_its_chats_and_e_mails(
    db: Database, demo: dict[str, int], people: dict[str, Principal], settings: Settings
) -> None:
    assert seed_demo_reasons(db, settings) == 3  # the e-mail, the chat and the WhatsApp
    assert seed_demo_reasons(db, settings) == 0  # run again: nothing new, no rule twice
    assert len(reasons.list_rules(db, None)) == len(DEMO_RULES)
    chat = reasons.labelling_of(db, None, demo["chat thread"])
    assert chat is not None and (chat.reason, chat.outcome) == ("billing", "resolved")
    assert reasons.labelling_of(db, None, demo["double charge call"]) is None  # left for a person
    assert suggest(db, settings, people["coach"], demo["double charge call"])["reason"].label == "billing"
