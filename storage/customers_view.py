"""Customer lookup and the unified history, for the review app: the role check, then the one
implementation in ``storage.customers`` (lookup, identities) and ``storage.history`` (timeline).

A lookup takes whatever the agent has at hand: a phone number in any format (read in the default
region when it has no country code, or matched by its last digits), an e-mail, a customer number,
a chat handle or part of a name. The timeline is one row per conversation (a call, a chat, an
e-mail thread), newest first, whatever the channel.
"""

from __future__ import annotations

from storage import customers, history
from storage.access import Permission, Principal, require
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
    db: Database, principal: Principal, text: str, default_region: str, limit: int = 20
) -> list[CustomerMatch]:
    """Customers matching ``text``, exact identity matches first, then names containing it."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    return customers.find_customers(db, text, default_region, limit)


def customer_profile(db: Database, principal: Principal, customer_id: int) -> CustomerProfile:
    require(principal, Permission.LOOKUP_CUSTOMERS)
    return customers.customer_detail(db, customer_id)


def customer_timeline(db: Database, principal: Principal, customer_id: int) -> list[TimelineItem]:
    """Every conversation of the customer on every channel, newest first."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    return history.customer_conversations(db, customer_id)


def customer_history(
    db: Database, principal: Principal, customer_id: int, limit: int | None = None
) -> CustomerHistory:
    """Every call (with its transcript) and message of the customer, oldest first."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    return history.customer_history(db, customer_id, limit)


def thread_messages(db: Database, principal: Principal, thread_id: int) -> list[MessageView]:
    """The messages of one chat or e-mail thread, oldest first."""
    require(principal, Permission.LOOKUP_CUSTOMERS)
    return history.thread_messages(db, thread_id)
