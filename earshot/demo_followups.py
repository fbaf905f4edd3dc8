"""The demo's follow-ups: a few on the demo customers' latest conversations, spread over them, for
the demo account, so "My follow-ups" and the histories show one overdue, one upcoming and one done."""

from __future__ import annotations

from datetime import timedelta
from itertools import zip_longest

from sqlalchemy import select

from storage.db import Database, read_scope
from storage.followups import add_followup, complete_followup, list_followups, resolve_assignee
from storage.models import Thread, utc_now

# (what, due relative to now, done): the demo's next steps, in the order of the conversations.
_STEPS = (
    ("Call back to check that what was promised has happened", timedelta(days=-1), False),
    ("Check that the next invoice shows what was agreed", timedelta(days=5), False),
    ("Send the written confirmation of what was agreed", timedelta(days=-3), True),
)


def add_demo_followups(db: Database, username: str) -> int:
    """Add the demo's follow-ups for ``username`` once (a second demo run adds none); how many added."""
    if list_followups(db, None, None, status="all"):
        return 0
    with read_scope(db) as session:
        rows = session.execute(
            select(Thread.id, Thread.customer_id)
            .where(Thread.customer_id.is_not(None))
            .order_by(Thread.started_at.desc(), Thread.id.desc())
        ).all()
    by_customer: dict[int, list[int]] = {}  # each customer's conversations, newest first
    for row in rows:
        by_customer.setdefault(row.customer_id, []).append(row.id)
    # Each customer's newest, then each one's next: the steps spread over the demo customers.
    turns = zip_longest(*by_customer.values())
    chosen = [thread_id for turn in turns for thread_id in turn if thread_id is not None]
    assignee = resolve_assignee(db, username)
    now = utc_now()
    added = 0
    for thread_id, (what, due_in, done) in zip(chosen, _STEPS, strict=False):
        followup = add_followup(db, None, thread_id, what, now + due_in, assignee)
        if done:
            complete_followup(db, None, followup.id)
        added += 1
    return added
