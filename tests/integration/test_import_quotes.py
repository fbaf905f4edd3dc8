"""Quoted text is kept: stored beside the new text of a reply when the thread does not hold it
already, shown and searched; on real SQLite files with real mails (tests/fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from recorder.email_import import read_email
from storage.db import Database, open_database
from storage.history import thread_messages
from storage.models import Message
from storage.search import SearchFilters, search_utterances
from storage.threads_import import import_threads
from tests.paths import REPO

THREADS = REPO / "tests" / "fixtures" / "threads"
QUESTION, REPLY = THREADS / "pl_1_question.eml", THREADS / "pl_2_reply.eml"
QUOTED_LINE = "czajnik z zamówienia nr 4471 przyszedł pęknięty."


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'earshot.db'}")
    yield database
    database.engine.dispose()


def stored(db: Database) -> dict[str, tuple[str, str | None]]:
    with db.sessionmaker() as session:
        rows = session.execute(select(Message.provider_message_id, Message.body, Message.quoted))
        return {key: (body, quoted) for key, body, quoted in rows}


def test_a_reply_whose_question_was_never_imported_keeps_the_quote_shown_and_searchable(db: Database) -> None:
    import_threads(db, read_email([REPLY], own_addresses=["@sklep.example"]), "PL")

    body, quoted = stored(db)["reply-4471-1@sklep.example"]
    assert body.endswith("czajnik w czwartek.\n\nPozdrawiam,\nMarek")
    assert quoted is not None and QUOTED_LINE in quoted
    [message] = thread_messages(db, 1)
    assert message.quoted == quoted
    hits = search_utterances(db, "pęknięty", SearchFilters()).hits
    assert [(hit.message_id, hit.speaker_role) for hit in hits] == [(1, "agent")]


def test_a_quote_of_a_message_the_thread_holds_is_not_stored_twice(db: Database) -> None:
    import_threads(db, read_email([QUESTION, REPLY], own_addresses=["@sklep.example"]), "PL")

    messages = stored(db)
    assert QUOTED_LINE in messages["CAK7pl-1.4471@mail.example.pl"][0]
    assert messages["reply-4471-1@sklep.example"][1] is None
    hits = search_utterances(db, "pęknięty", SearchFilters()).hits
    assert [hit.speaker_role for hit in hits] == ["customer"]  # the question itself, found once


def test_a_forward_keeps_the_forwarded_mail_as_content(db: Database) -> None:
    import_threads(db, read_email([REPO / "tests" / "fixtures" / "mail" / "enclosed.eml"]), "NL")

    [(body, quoted)] = stored(db).values()
    assert "dudes... you're kicking ass." in body and quoted is None
    assert [hit.message_id for hit in search_utterances(db, "kicking", SearchFilters()).hits] == [1]
