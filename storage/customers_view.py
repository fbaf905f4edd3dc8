"""Customer lookup and the unified history, for the review app and the command line: the role check,
the one implementation in ``storage.customers`` (lookup, identities) and ``storage.history``
(timeline), then the audit row, written before the data is handed over: each is a read of a
person's data. ``who`` None is the command line. Pages keep what these return for the session
rather than calling again on each Streamlit rerun, or the log records each rerun.

A lookup takes whatever the agent has at hand: a phone number in any format (read in the default
region when it has no country code, or matched by its last digits), an e-mail, a customer number,
a chat handle or part of a name. The timeline is one row per conversation (a call, a chat, an
e-mail thread), newest first, whatever the channel.
"""

from __future__ import annotations

from storage import customers, history
from storage.access import Permission, Principal, require_unless_command_line
from storage.audit import record_read
from storage.audit_subjects import Subject
from storage.customers import CustomerDetail as CustomerProfile
from storage.customers import CustomerSummary as CustomerMatch
from storage.customers import IdentityView
from storage.db import Database
from storage.history import Conversation as TimelineItem
from storage.history import CustomerHistory, MessageView

__all__ = [
    "CustomerHistory",
    "CustomerMatch",
    "CustomerProfile",
    "IdentityView",
    "MessageView",
    "TimelineItem",
    "customer_history",
    "customer_profile",
    "customer_timeline",
    "find_customers",
    "thread_messages",
]


def find_customers(
    db: Database, who: Principal | None, text: str, default_region: str, limit: int = 20
) -> list[CustomerMatch]:
    """Customers matching ``text``, exact identity matches first, then names containing it."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    matches = customers.find_customers(db, text, default_region, limit)
    only = Subject("customer", matches[0].id) if len(matches) == 1 else None
    details = {"query": text, "customers": [m.id for m in matches]}
    record_read(db, who, "customer_looked_up", only, details)
    return matches


def customer_profile(db: Database, who: Principal | None, customer_id: int) -> CustomerProfile:
    """The customer's name and identities (phone numbers, e-mail addresses ...)."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    profile = customers.customer_detail(db, customer_id)
    record_read(db, who, "customer_viewed", Subject("customer", customer_id))
    return profile


def customer_timeline(db: Database, who: Principal | None, customer_id: int) -> list[TimelineItem]:
    """Every conversation of the customer on every channel, newest first."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    timeline = history.customer_conversations(db, customer_id)
    details = {"conversations": len(timeline)}
    record_read(db, who, "history_viewed", Subject("customer", customer_id), details)
    return timeline


def customer_history(
    db: Database, who: Principal | None, customer_id: int, limit: int | None = None
) -> CustomerHistory:
    """Every call (with its transcript) and message of the customer, oldest first. The audit row
    lists the calls whose transcripts it holds."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    found = history.customer_history(db, customer_id, limit)
    details = {
        "items": len(found.items),
        "transcripts": [i.recording_id for i in found.items if i.kind == "call" and i.utterances],
        "limit": limit,
    }
    record_read(db, who, "history_viewed", Subject("customer", customer_id), details)
    return found


def thread_messages(db: Database, who: Principal | None, thread_id: int) -> list[MessageView]:
    """The messages of one chat or e-mail thread, oldest first."""
    require_unless_command_line(who, Permission.LOOKUP_CUSTOMERS)
    messages = history.thread_messages(db, thread_id)
    record_read(db, who, "thread_read", Subject("thread", thread_id), {"messages": len(messages)})
    return messages
