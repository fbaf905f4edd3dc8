"""The demo's contact reasons: a few rules an admin would write for Earshot Telecom's calls, chats
and e-mails, and the demo's chats and e-mails labelled as a reviewer accepting the rules'
suggestions, so the Admin page counts labels and each call page shows a suggestion to accept."""

from __future__ import annotations

from sqlalchemy import select

from earshot.reason_suggestions import suggest
from earshot.settings import Settings
from storage.contact_reasons import add_rule, label_conversation, labelling_of, list_rules
from storage.db import Database, read_scope
from storage.models import Thread

# (label set, label, search): the search syntax of the Search page.
DEMO_RULES: tuple[tuple[str, str, str], ...] = (
    ("reason", "billing", '"charged twice" OR "double charge" OR refund* OR invoice*'),
    ("reason", "technical fault", "NEAR(internet down, 3) OR outage OR fault"),
    ("reason", "cancellation", "cancel* OR terminate OR NEAR(end contract, 4)"),
    ("outcome", "resolved", '"works again" OR (arrived -"not seen") OR "that is all"'),
    ("outcome", "follow-up needed", '"I will send" OR NEAR(send confirmation, 5) OR "call you back"'),
    ("outcome", "escalated", "supervisor OR manager OR complaint"),
)


def seed_demo_reasons(db: Database, settings: Settings) -> int:
    """Write the demo rules once (a database with rules keeps its own) and label the demo's chats and
    e-mails with their suggestions; returns how many conversations were labelled now."""
    if not list_rules(db, None):
        for label_set, label, query in DEMO_RULES:
            add_rule(db, None, label_set, label, query)
    with read_scope(db) as session:
        written = session.scalars(select(Thread.id).where(Thread.channel != "call").order_by(Thread.id)).all()
    labelled = 0
    for thread_id in written:
        if labelling_of(db, None, thread_id) is not None:
            continue
        shown = {s.label_set: s.label for s in suggest(db, settings, None, thread_id).values()}
        if shown:
            label_conversation(
                db, None, thread_id, reason=shown.get("reason"), outcome=shown.get("outcome"), suggested=shown
            )
            labelled += 1
    return labelled
