"""Store imported chat and e-mail threads, linked to their customers, idempotently.

Each thread is written in its own transaction, so a thread that fails leaves nothing behind and
the others still go in. A thread is found again by ``(channel, provider, provider_account,
provider_id)`` (see ``_find_thread``) and a message by its provider id inside the thread (and its
time: another message that reuses a stored id is kept apart, not skipped): importing the same
export twice adds nothing, and a newer export adds only the messages (and identities) that are new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from recorder.threads import ImportBatch, ImportedMessage, ImportedThread, MessageFacts, distinguishing_facts
from storage.customers import link_thread_customer, normalize_identities
from storage.db import Database, session_scope
from storage.models import Message, MessageAttachment, Thread, as_utc
from storage.outside_text import clean, storable_key, storable_thread
from storage.quotes import thread_text, unheld_quote
from storage.services import _find_or_create_agent

__all__ = ["ImportSummary", "import_threads"]

_LABEL_LENGTH = 120  # an id of any length still gives a readable line


@dataclass(frozen=True)
class ImportSummary:
    imported_threads: int  # threads created, or already stored and given new messages
    unchanged_threads: int  # already stored with every message: nothing to do
    new_messages: int
    skipped_duplicates: int  # messages already stored
    failed: tuple[str, ...]  # one line per item not imported: the file, the item and why
    warnings: tuple[str, ...]  # imported anyway: a skipped phone number, a missing date, a merge suggestion


@dataclass(frozen=True)
class _Outcome:
    changed: bool
    new_messages: int
    duplicates: int
    warnings: list[str]


def import_threads(
    db: Database,
    batch: ImportBatch,
    default_region: str,
    on_problem: Callable[[str], None] = lambda line: None,
) -> ImportSummary:
    """Store every thread of ``batch``; ``on_problem`` hears each failure or warning as it happens."""
    failed: list[str] = []
    warnings: list[str] = []

    def report(into: list[str], line: str) -> None:
        line = clean(line)  # problems quote outside text (ids, names): no control character is shown
        into.append(line)
        on_problem(line)

    for problem in batch.problems:
        report(warnings if problem.imported else failed, str(problem))
    imported = unchanged = new_messages = duplicates = 0
    for thread in batch.threads:
        label = clean(f"{thread.channel} conversation {thread.provider_id}")[:_LABEL_LENGTH]
        if not thread.messages:
            report(warnings, f"{label}: no customer messages in it, nothing stored")
            continue
        try:
            storable, notes = storable_thread(thread, label)
            with session_scope(db) as session:
                outcome = _store(session, storable, default_region, label)
        except (ValueError, SQLAlchemyError) as error:
            # SQLAlchemy's class (IntegrityError), not the driver's (NotNullViolation on psycopg): one
            # message whatever the backend; the driver's text says which constraint.
            reason = getattr(error, "orig", None) or error
            report(failed, f"{label}: not stored ({type(error).__name__}: {reason})")
            continue
        for line in notes + outcome.warnings:
            report(warnings, line)
        imported += outcome.changed
        unchanged += not outcome.changed
        new_messages += outcome.new_messages
        duplicates += outcome.duplicates
    return ImportSummary(imported, unchanged, new_messages, duplicates, tuple(failed), tuple(warnings))


def _store(session: Session, thread: ImportedThread, default_region: str, label: str) -> _Outcome:
    row, key_complete = _find_thread(session, thread)
    created = row is None
    if row is None:
        row = Thread(
            channel=thread.channel,
            provider=thread.provider,
            provider_account=thread.provider_account or "",
            provider_id=thread.provider_id,
            subject=thread.subject,
            direction=thread.messages[0].direction,
            started_at=thread.started_at,
            agent_id=_find_or_create_agent(session, thread.agent),
        )
        session.add(row)
        session.flush()
    else:
        # A newer export may reach further back (an earlier message) or name what the old one lacked.
        stored_start = as_utc(row.started_at)
        if thread.started_at is not None and (stored_start is None or thread.started_at < stored_start):
            row.started_at = thread.started_at
        row.subject = row.subject or thread.subject
        if row.agent_id is None:
            row.agent_id = _find_or_create_agent(session, thread.agent)
    stored_rows = (
        []
        if created
        else session.execute(
            select(
                Message.provider_message_id, Message.author, Message.sent_at, Message.body, Message.quoted
            ).where(Message.thread_id == row.id)
        ).all()
    )
    stored = {r.provider_message_id: distinguishing_facts(as_utc(r.sent_at), r.author) for r in stored_rows}
    new, reused = _new_messages(thread.messages, stored, label)
    if new:
        held = thread_text(
            [*(text for r in stored_rows for text in (r.body, r.quoted)), *(m.body for m in new)]
        )
        ids = session.scalars(
            insert(Message).returning(Message.id, sort_by_parameter_order=True),
            [
                {
                    "thread_id": row.id,
                    "provider_message_id": m.provider_message_id,
                    "direction": m.direction,
                    "author": m.author,
                    "sent_at": m.sent_at,
                    "body": m.body,
                    "quoted": unheld_quote(m.quoted, held),
                }
                for m in new
            ],
        ).all()
        attachments = [
            {
                "message_id": message_id,
                "name": a.name,
                "size_bytes": a.size_bytes,
                "content_type": a.content_type,
            }
            for message_id, m in zip(ids, new, strict=True)
            for a in m.attachments
        ]
        if attachments:
            session.execute(insert(MessageAttachment), attachments)
    if not created and not new:
        # The same export again changes nothing, not even the links: identities are read with the
        # messages that carry them.
        return _Outcome(changed=False, new_messages=0, duplicates=len(thread.messages), warnings=[])
    identities, identity_warnings = normalize_identities(thread.customer_identities, default_region, label)
    warnings = reused + identity_warnings
    if not (created or key_complete):
        warnings.append(
            f"{label}: the export does not name the {thread.provider} account this id belongs to; "
            "found again by its id alone, so its identities are not given to the stored customer"
        )
    warnings += link_thread_customer(
        session, row, identities, thread.customer_name, label, key_complete=created or key_complete
    )
    return _Outcome(
        changed=created or bool(new),
        new_messages=len(new),
        duplicates=len(thread.messages) - len(new),
        warnings=warnings,
    )


def _find_thread(session: Session, thread: ImportedThread) -> tuple[Thread | None, bool]:
    """The stored thread this conversation is, and whether it was found by its full key.

    Ids are looked up within their account. A thread stored before accounts were kept (account "")
    is claimed for this import's account only when it holds one of the import's messages (same id,
    same time): then it is this conversation, exported again. Another account's conversation that
    merely has the same number shares none, and becomes a thread of its own. An import that does not
    know its account (``None``) can only find a thread by its id: a weaker match.
    """

    def by_account(account: str) -> Thread | None:
        return session.scalar(
            select(Thread).where(
                Thread.channel == thread.channel,
                Thread.provider == thread.provider,
                Thread.provider_account == account,
                Thread.provider_id == thread.provider_id,
            )
        )

    account = thread.provider_account
    if account is None:
        return by_account(""), False
    row = by_account(account)
    if row is not None or account == "":
        return row, True
    legacy = by_account("")
    if legacy is None or not _shares_a_message(session, legacy, thread.messages):
        return None, True
    legacy.provider_account = account
    return legacy, True


def _shares_a_message(session: Session, row: Thread, messages: Iterable[ImportedMessage]) -> bool:
    imported = {m.provider_message_id: distinguishing_facts(m.sent_at, m.author) for m in messages}
    stored = session.execute(
        select(Message.provider_message_id, Message.author, Message.sent_at).where(
            Message.thread_id == row.id, Message.provider_message_id.in_(imported)
        )
    )
    return any(imported[key] == distinguishing_facts(as_utc(sent), author) for key, author, sent in stored)


def _new_messages(
    messages: Iterable[ImportedMessage], stored: dict[str, MessageFacts], label: str
) -> tuple[list[ImportedMessage], list[str]]:
    """The messages not stored yet, and a warning for each one kept under another id.

    A message whose id another message already has (see ``distinguishing_facts``) is not a copy of
    it: a broken mail client can give every mail the same Message-ID, and skipping the second as a
    duplicate would lose it. It is kept under ``_distinct_id``.
    """
    known = dict(stored)
    new: list[ImportedMessage] = []
    warnings: list[str] = []
    for message in messages:
        facts = distinguishing_facts(message.sent_at, message.author)
        key = message.provider_message_id
        if key in known and known[key] != facts:
            key = _distinct_id(key, facts)
            if key not in known:
                storable_key(Message.provider_message_id, key, f"message {message.provider_message_id} id")
                warnings.append(
                    f"{label}: message {message.provider_message_id}: its id is also that of another "
                    f"message; kept as {key}"
                )
        if key in known:
            continue
        known[key] = facts
        new.append(replace(message, provider_message_id=key))
    return new, warnings


def _distinct_id(message_id: str, facts: MessageFacts) -> str:
    """Derived from what tells the two messages apart, so importing the message again finds it again."""
    sent_at, author = facts
    text = f"{sent_at.isoformat() if sent_at else ''}\n{author or ''}"
    return f"{message_id}#{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"
