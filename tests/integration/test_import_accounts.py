"""Two accounts of one tool number their conversations alike (Zendesk ticket 33, Chatwoot
conversation 17 in each): importing both must keep two customers apart, on real SQLite files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from recorder.chat_import import ChatFormat, read_chat
from storage.db import Database, open_database
from storage.models import Identity, Message, Thread
from storage.threads_import import ImportSummary, import_threads
from tests.paths import REPO

ACCOUNTS = REPO / "tests" / "fixtures" / "accounts"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'earshot.db'}")
    yield database
    database.engine.dispose()


def load(db: Database, format: ChatFormat, *names: str | Path) -> ImportSummary:
    return import_threads(db, read_chat([ACCOUNTS / name for name in names], format), "NL")


def threads(db: Database) -> list[tuple[str, str, list[str], set[str]]]:
    """(account, id, message bodies, the customer's identities) per thread."""
    with db.sessionmaker() as session:
        rows = session.scalars(select(Thread).order_by(Thread.id)).all()
        return [
            (
                row.provider_account,
                row.provider_id,
                list(
                    session.scalars(
                        select(Message.body).where(Message.thread_id == row.id).order_by(Message.id)
                    )
                ),
                set(session.scalars(select(Identity.value).where(Identity.customer_id == row.customer_id))),
            )
            for row in rows
        ]


def test_zendesk_ticket_33_of_two_accounts_is_two_threads_of_two_customers(db: Database) -> None:
    load(db, "zendesk", "zendesk_acme.json")
    summary = load(db, "zendesk", "zendesk_globex.json")

    assert summary.imported_threads == 1 and summary.new_messages == 1
    assert threads(db) == [
        (
            "acme.zendesk.com",
            "33",
            ["Mijn factuur van mei klopt niet.", "We kijken ernaar, Jan."],
            {"jan.visser@example.nl", "+31612340000"},
        ),
        (
            "globex.zendesk.com",
            "33",
            ["My router reboots every ten minutes since the update."],
            {"priya.shah@example.co.uk", "+447911123456"},
        ),
    ]


def test_chatwoot_conversation_17_of_two_accounts_is_two_threads_of_two_customers(db: Database) -> None:
    load(db, "chatwoot", "chatwoot_account_1.json")
    load(db, "chatwoot", "chatwoot_account_2.json")

    assert threads(db) == [
        ("1", "17", ["Czy mogę zmienić adres dostawy?"], {"k.nowak@example.pl", "+48601234567"}),
        ("2", "17", ["Bonjour, ma commande n'est pas arrivée."], {"lucas.moreau@example.fr", "+33612345678"}),
    ]


def test_a_thread_stored_before_accounts_were_kept_is_claimed_only_by_its_own_export(db: Database) -> None:
    load(db, "zendesk", "zendesk_acme.json")
    with db.sessionmaker.begin() as session:  # as migration 0008 leaves a thread stored before it
        session.execute(update(Thread).values(provider_account=""))

    again = load(db, "zendesk", "zendesk_acme.json")
    other = load(db, "zendesk", "zendesk_globex.json")

    assert (again.imported_threads, again.unchanged_threads, again.new_messages) == (0, 1, 0)
    assert (other.imported_threads, other.new_messages) == (1, 1)
    assert [(account, bodies[0], ids) for account, _, bodies, ids in threads(db)] == [
        ("acme.zendesk.com", "Mijn factuur van mei klopt niet.", {"jan.visser@example.nl", "+31612340000"}),
        (
            "globex.zendesk.com",
            "My router reboots every ten minutes since the update.",
            {"priya.shah@example.co.uk", "+447911123456"},
        ),
    ]


def test_an_export_without_its_account_never_gives_the_stored_customer_its_identities(
    db: Database, tmp_path: Path
) -> None:
    load(db, "chatwoot", "chatwoot_account_1.json")
    unnamed = json.loads((ACCOUNTS / "chatwoot_account_2.json").read_text(encoding="utf-8"))
    for conversation in unnamed["data"]["payload"]:
        del conversation["account_id"]
    path = tmp_path / "no_account.json"
    path.write_text(json.dumps(unnamed), encoding="utf-8")
    with db.sessionmaker.begin() as session:
        session.execute(update(Thread).values(provider_account=""))

    summary = import_threads(db, read_chat([path], "chatwoot"), "NL")

    [(_, _, _, identities)] = threads(db)
    assert identities == {"k.nowak@example.pl", "+48601234567"}
    assert any("does not name the chatwoot account" in line for line in summary.warnings)
    assert any("lucas.moreau@example.fr not added to customer" in line for line in summary.warnings)
