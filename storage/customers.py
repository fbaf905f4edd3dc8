"""Who a call or a thread belongs to, and the reviewer's tools to correct it: merge, undo, split.

One implementation links calls and chat/e-mail threads alike: a thread's identities find its
customer, identities not seen before join that customer, and identities that already belong to
someone else are never merged silently. The thread stays with one customer and a merge suggestion
records the evidence, because merging two people is a reviewer's decision, not an importer's.

Merges keep the merged customer's (now empty) row and record exactly which identities and threads
moved, so undoing one restores the same ids. ``thread_identities`` remembers which identities
linked each thread, so a split or an undo moves a thread only when every identity that linked it
moves with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union, update
from sqlalchemy.orm import Session

from recorder.threads import IdentityRef
from storage.db import Database, read_scope, session_scope
from storage.errors import AmbiguousReference, InvalidValue, NotFound
from storage.identities import (
    IdentityError,
    IdentityKind,
    normalize_email,
    normalize_identity,
    normalize_phone,
)
from storage.models import (
    Customer,
    CustomerMerge,
    Identity,
    MergeSuggestion,
    Thread,
    ThreadIdentity,
    as_utc,
    utc_now,
)
from storage.outside_text import length_of
from storage.substrings import customers_named, customers_with_identity_ending

__all__ = [
    "CustomerChangeRefused",
    "CustomerDetail",
    "CustomerSummary",
    "IdentityValue",
    "IdentityView",
    "MergeRecord",
    "SuggestionOutcome",
    "SuggestionView",
    "customer_detail",
    "find_customers",
    "link_thread_customer",
    "list_merge_suggestions",
    "list_merges",
    "merge_customers",
    "merge_customers_in",
    "normalize_identities",
    "require_customer",
    "resolve_customer",
    "resolve_suggestion",
    "resolve_suggestion_in",
    "split_customer",
    "undo_merge",
    "undo_merge_in",
]

_MIN_PHONE_DIGITS = 6  # fewer trailing digits than this match too many numbers to mean anything
SuggestionStatus = Literal["pending", "accepted", "rejected"]
_STATUSES: tuple[SuggestionStatus, ...] = ("pending", "accepted", "rejected")


class CustomerChangeRefused(InvalidValue):
    """A merge, undo or split that would lose or scramble data; the message says what is in the way."""


@dataclass(frozen=True)
class IdentityValue:
    kind: IdentityKind
    value: str  # normalized
    raw: str  # as the source wrote it


@dataclass(frozen=True)
class IdentityView:
    id: int
    kind: str  # phone | email | chat_handle | customer_number
    value: str  # normalized
    raw_value: str  # as first seen


@dataclass(frozen=True)
class CustomerSummary:
    id: int
    display_name: str | None
    matched_by: str  # which kind of lookup found them: phone, email, customer_number, chat_handle, name
    identities: tuple[IdentityView, ...]
    conversations: int
    last_contact_at: datetime | None


@dataclass(frozen=True)
class CustomerDetail:
    id: int
    display_name: str | None
    created_at: datetime
    identities: tuple[IdentityView, ...]


@dataclass(frozen=True)
class MergeRecord:
    id: int
    survivor_id: int
    merged_id: int
    identity_ids: tuple[int, ...]  # what moved from the merged customer to the survivor
    thread_ids: tuple[int, ...]
    by: str
    merged_at: datetime
    undone_at: datetime | None


@dataclass(frozen=True)
class SuggestionView:
    id: int
    customer_a: int
    customer_b: int
    reason: str
    evidence: dict[str, Any]
    status: SuggestionStatus
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class SuggestionOutcome:
    suggestion: SuggestionView
    merge: MergeRecord | None  # the merge an accepted suggestion made


# --- linking calls and threads to customers -------------------------------------------------


def normalize_identities(
    refs: Iterable[IdentityRef], default_region: str, source: str
) -> tuple[list[IdentityValue], list[str]]:
    """Normalized identities in the order given; one that cannot be normalized becomes a warning,
    because a mistyped number must not keep the call or conversation out. Chat handles are unique
    only within their channel, so the channel is part of the stored value."""
    identities: list[IdentityValue] = []
    warnings: list[str] = []
    for ref in refs:
        try:
            value = normalize_identity(ref.kind, ref.value, default_region)
            if ref.kind == "chat_handle" and ref.channel:
                value = f"{ref.channel}:{value}"
            _refuse_too_long(ref.value, value)
        except IdentityError as error:
            warnings.append(f"{source}: customer {ref.kind.replace('_', ' ')} skipped: {error}")
            continue
        identity = IdentityValue(kind=ref.kind, value=value, raw=ref.value)
        if identity not in identities:
            identities.append(identity)
    return identities, warnings


def _refuse_too_long(raw: str, value: str) -> None:
    # Cut, an identity could match someone else's; found nowhere else, it is skipped like a bad number.
    longest, limit = max(len(raw), len(value)), min(length_of(Identity.raw_value), length_of(Identity.value))
    if longest > limit:
        raise IdentityError(f"{longest} characters long; at most {limit} fit")


def link_thread_customer(
    session: Session,
    thread: Thread,
    identities: Sequence[IdentityValue],
    name: str | None,
    source: str,
    key_complete: bool = True,
) -> list[str]:
    """Give ``thread`` its customer (kept when it has one, else the owner of its first known identity,
    else a new customer), add the identities nobody has to that customer and remember which ones
    link the thread. Identities owned by another customer produce a merge suggestion and a warning.

    ``key_complete`` False: the stored thread was found by an id that another account's conversation
    may share, so these identities may be another person's; none nobody has is given to the thread's
    customer (that would put a stranger's phone on them for good) and each one left out is named."""
    if not identities and not name and thread.customer_id is None:
        return []
    trusted = key_complete or thread.customer_id is None  # a new link cannot wrong a stored customer
    known: dict[tuple[str, str], tuple[int, int]] = {}
    if identities:
        rows = session.execute(
            select(Identity.kind, Identity.value, Identity.id, Identity.customer_id).where(
                or_(*(and_(Identity.kind == i.kind, Identity.value == i.value) for i in identities))
            )
        )
        known = {(row.kind, row.value): (row.id, row.customer_id) for row in rows}
    owners = [known[(i.kind, i.value)][1] for i in identities if (i.kind, i.value) in known]
    customer_id = thread.customer_id if thread.customer_id is not None else (owners[0] if owners else None)
    if customer_id is None:
        customer = Customer(display_name=name)
        session.add(customer)
        session.flush()
    else:
        customer = session.get_one(Customer, customer_id)
        if name and not customer.display_name and trusted:
            customer.display_name = name
    unknown = [i for i in identities if (i.kind, i.value) not in known]
    left_out = [] if trusted else unknown
    thread.customer_id = customer.id
    linking = [identity_id for identity_id, owner in known.values() if owner == customer.id]
    for identity in unknown:
        if identity not in left_out:
            row = Identity(
                customer_id=customer.id, kind=identity.kind, value=identity.value, raw_value=identity.raw
            )
            session.add(row)
            session.flush()
            linking.append(row.id)
    _link(session, thread.id, linking)
    warnings = [
        f"{source}: customer {i.kind.replace('_', ' ')} {i.value} not added to customer {customer.id}: "
        "the conversation may be another account's"
        for i in left_out
    ]
    others = sorted(set(owners) - {customer.id})
    if not others:
        return warnings
    suggestions = [_suggest_merge(session, thread, customer.id, other, identities, known) for other in others]
    listed = ", ".join(
        f"{other} (suggestion {sid})" if sid is not None else f"{other} (merge rejected earlier)"
        for other, sid in zip(others, suggestions, strict=True)
    )
    return [
        *warnings,
        f"{source}: identities belong to different customers; linked to customer {customer.id}, "
        f"not to {listed}: not merged",
    ]


def _link(session: Session, thread_id: int, identity_ids: list[int]) -> None:
    present = set(
        session.scalars(select(ThreadIdentity.identity_id).where(ThreadIdentity.thread_id == thread_id))
    )
    session.add_all(
        ThreadIdentity(thread_id=thread_id, identity_id=i)
        for i in dict.fromkeys(identity_ids)
        if i not in present
    )


def _suggest_merge(
    session: Session,
    thread: Thread,
    customer_id: int,
    other: int,
    identities: Sequence[IdentityValue],
    known: dict[tuple[str, str], tuple[int, int]],
) -> int | None:
    """The pending suggestion for this pair (made once), or None when a reviewer already rejected it."""
    a, b = sorted((customer_id, other))
    existing = session.execute(
        select(MergeSuggestion.id, MergeSuggestion.status).where(
            MergeSuggestion.customer_a == a,
            MergeSuggestion.customer_b == b,
            MergeSuggestion.status.in_(("pending", "rejected")),
        )
    ).first()
    if existing is not None:
        return existing.id if existing.status == "pending" else None
    named = [
        {"kind": i.kind, "value": i.value, "customer_id": known[(i.kind, i.value)][1]}
        for i in identities
        if (i.kind, i.value) in known and known[(i.kind, i.value)][1] in (a, b)
    ]
    described = ", ".join(f"{n['kind']} {n['value']} (customer {n['customer_id']})" for n in named)
    suggestion = MergeSuggestion(
        customer_a=a,
        customer_b=b,
        reason=f"{thread.channel} thread {thread.id} names identities of both: {described}",
        evidence={"thread_id": thread.id, "channel": thread.channel, "identities": named},
        status="pending",
    )
    session.add(suggestion)
    session.flush()
    return suggestion.id


# --- lookup ------------------------------------------------------------------------------------


def find_customers(db: Database, text: str, default_region: str, limit: int = 20) -> list[CustomerSummary]:
    """Customers matching ``text``, exact identity matches first, then names containing it. A phone
    number matches in any format (read in ``default_region`` without a country code) or by its last
    6+ digits, so a number from another country typed without its code is still found."""
    text = text.strip()
    if not text:
        raise InvalidValue("type a phone number, e-mail, customer number or name to look a customer up")
    found: dict[int, str] = {}
    with read_scope(db) as session:
        for matched_by, condition in _lookups(text, default_region, session.get_bind().dialect.name):
            matches = session.scalars(
                select(Customer.id)
                .where(condition, Customer.id.not_in(_merged_away()))
                .order_by(Customer.id)
                .limit(limit)
            )
            for customer_id in matches:
                found.setdefault(customer_id, matched_by)
            if len(found) >= limit:
                break
        ids = list(found)[:limit]
        identities = _identities(session, ids)
        names = {
            row.id: row.display_name
            for row in session.execute(select(Customer.id, Customer.display_name).where(Customer.id.in_(ids)))
        }
        stats = {
            row.customer_id: row
            for row in session.execute(
                select(
                    Thread.customer_id,
                    func.count(Thread.id).label("conversations"),
                    func.max(func.coalesce(Thread.started_at, Thread.created_at)).label("last"),
                )
                .where(Thread.customer_id.in_(ids))
                .group_by(Thread.customer_id)
            )
        }
    return [
        CustomerSummary(
            id=customer_id,
            display_name=names[customer_id],
            matched_by=found[customer_id],
            identities=identities.get(customer_id, ()),
            conversations=stats[customer_id].conversations if customer_id in stats else 0,
            last_contact_at=as_utc(stats[customer_id].last) if customer_id in stats else None,
        )
        for customer_id in ids
    ]


def _lookups(text: str, default_region: str, dialect: str) -> list[tuple[str, ColumnElement[bool]]]:
    """The ways ``text`` can name a customer, most exact first; each is a condition on Customer."""

    def by_identity(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return Customer.id.in_(select(Identity.customer_id).where(condition))

    lookups: list[tuple[str, ColumnElement[bool]]] = []
    if "@" in text:
        try:
            email = normalize_email(text)
            lookups.append(("email", by_identity(and_(Identity.kind == "email", Identity.value == email))))
        except IdentityError:
            pass  # not an e-mail after all; it may still be a chat handle or a name
    if not any(char.isalpha() for char in text):
        phones: list[Select[Any]] = []
        try:
            phone = normalize_phone(text, default_region)
            exact = select(Identity.customer_id).where(Identity.kind == "phone", Identity.value == phone)
            phones.append(exact)
        except IdentityError:
            pass  # a number from another country without its code: the trailing digits may still match
        digits = "".join(char for char in text if char.isdigit()).lstrip("0")
        if len(digits) >= _MIN_PHONE_DIGITS:
            phones.append(customers_with_identity_ending(dialect, "phone", digits))
        if phones:
            lookups.append(("phone", Customer.id.in_(union(*phones))))
    lowered = text.lower()
    lookups.append(
        (
            "customer_number",
            by_identity(and_(Identity.kind == "customer_number", func.lower(Identity.value) == lowered)),
        )
    )
    handle = select(Identity.customer_id).where(
        Identity.kind == "chat_handle", func.lower(Identity.value) == lowered
    )
    after_channel = customers_with_identity_ending(dialect, "chat_handle", ":" + lowered)
    lookups.append(("chat_handle", Customer.id.in_(union(handle, after_channel))))
    lookups.append(("name", Customer.id.in_(customers_named(dialect, text))))
    return lookups


def _merged_away() -> Any:
    return select(CustomerMerge.merged_id).where(CustomerMerge.undone_at.is_(None))


def _identities(session: Session, customer_ids: list[int]) -> dict[int, tuple[IdentityView, ...]]:
    grouped: dict[int, list[IdentityView]] = {}
    for row in session.execute(
        select(Identity.customer_id, Identity.id, Identity.kind, Identity.value, Identity.raw_value)
        .where(Identity.customer_id.in_(customer_ids))
        .order_by(Identity.customer_id, Identity.kind, Identity.id)
    ):
        grouped.setdefault(row.customer_id, []).append(
            IdentityView(row.id, row.kind, row.value, row.raw_value)
        )
    return {customer_id: tuple(views) for customer_id, views in grouped.items()}


def resolve_customer(db: Database, ref: str, default_region: str) -> int:
    """The one customer a user means: an id, or a phone, e-mail, customer number or name that finds
    exactly one customer."""
    ref = ref.strip()
    if ref.isdigit():
        with read_scope(db) as session:
            if session.get(Customer, int(ref)) is not None:
                return int(ref)
    found = find_customers(db, ref, default_region)
    if len(found) == 1:
        return found[0].id
    if not found:
        raise NotFound(
            f"no customer matches {ref!r} (give an id, phone number, e-mail, customer number or name)"
        )
    listed = ", ".join(f"{c.id} ({c.display_name or c.matched_by})" for c in found[:10])
    raise AmbiguousReference(f"{ref!r} matches {len(found)} customers: {listed}; give the id")


def customer_detail(db: Database, customer_id: int) -> CustomerDetail:
    with read_scope(db) as session:
        customer = require_customer(session, customer_id)
        return CustomerDetail(
            id=customer.id,
            display_name=customer.display_name,
            created_at=as_utc(customer.created_at),  # type: ignore[arg-type]
            identities=_identities(session, [customer_id]).get(customer_id, ()),
        )


def require_customer(session: Session, customer_id: int) -> Customer:
    """The customer, refusing one that was merged into another (its history lives there now)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    merge = _standing_merge_of(session, customer_id)
    if merge is not None:
        raise NotFound(
            f"customer {customer_id} was merged into customer {merge.survivor_id} (merge {merge.id}); "
            f"use {merge.survivor_id}, or undo merge {merge.id}"
        )
    return customer


def _standing_merge_of(session: Session, merged_id: int) -> CustomerMerge | None:
    return session.scalar(
        select(CustomerMerge).where(CustomerMerge.merged_id == merged_id, CustomerMerge.undone_at.is_(None))
    )


# --- merge, undo, split ---------------------------------------------------------------------


def merge_customers(db: Database, survivor_id: int, merged_id: int, by: str) -> MergeRecord:
    """Move every identity and thread (calls included) of ``merged_id`` to ``survivor_id``, recorded."""
    with session_scope(db) as session:
        return merge_customers_in(session, survivor_id, merged_id, by)


def merge_customers_in(session: Session, survivor_id: int, merged_id: int, by: str) -> MergeRecord:
    """``merge_customers`` inside the caller's write transaction."""
    return _merge(session, survivor_id, merged_id, by, suggestion_ids=())


def _merge(
    session: Session, survivor_id: int, merged_id: int, by: str, suggestion_ids: Sequence[int]
) -> MergeRecord:
    if survivor_id == merged_id:
        raise CustomerChangeRefused(f"customer {survivor_id} cannot be merged with itself")
    survivor = require_customer(session, survivor_id)
    merged = require_customer(session, merged_id)
    identity_ids = list(
        session.scalars(select(Identity.id).where(Identity.customer_id == merged_id).order_by(Identity.id))
    )
    thread_ids = list(
        session.scalars(select(Thread.id).where(Thread.customer_id == merged_id).order_by(Thread.id))
    )
    _move(session, identity_ids, thread_ids, survivor_id)
    name_taken = survivor.display_name is None and merged.display_name is not None
    if name_taken:
        survivor.display_name = merged.display_name
    pair = sorted((survivor_id, merged_id))
    accepted = list(suggestion_ids) + list(
        session.scalars(
            select(MergeSuggestion.id).where(
                MergeSuggestion.customer_a == pair[0],
                MergeSuggestion.customer_b == pair[1],
                MergeSuggestion.status == "pending",
                MergeSuggestion.id.not_in(suggestion_ids),
            )
        )
    )
    now = utc_now()
    for suggestion in session.scalars(select(MergeSuggestion).where(MergeSuggestion.id.in_(accepted))):
        suggestion.status, suggestion.resolved_at = "accepted", now
    row = CustomerMerge(
        survivor_id=survivor_id,
        merged_id=merged_id,
        merged_at=now,
        by=by,
        undo={
            "identity_ids": identity_ids,
            "thread_ids": thread_ids,
            "display_name_taken": name_taken,
            "suggestion_ids": accepted,
        },
    )
    session.add(row)
    session.flush()
    return _merge_record(row)


def _move(session: Session, identity_ids: Sequence[int], thread_ids: Sequence[int], customer_id: int) -> None:
    if identity_ids:
        session.execute(update(Identity).where(Identity.id.in_(identity_ids)).values(customer_id=customer_id))
    if thread_ids:
        session.execute(update(Thread).where(Thread.id.in_(thread_ids)).values(customer_id=customer_id))


def _merge_record(row: CustomerMerge) -> MergeRecord:
    return MergeRecord(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        identity_ids=tuple(row.undo["identity_ids"]),
        thread_ids=tuple(row.undo["thread_ids"]),
        by=row.by,
        merged_at=as_utc(row.merged_at),  # type: ignore[arg-type]
        undone_at=as_utc(row.undone_at),
    )


def list_merges(db: Database, limit: int = 20) -> list[MergeRecord]:
    """The merges that stand (not undone), newest first: what a reviewer may still undo."""
    with read_scope(db) as session:
        rows = session.scalars(
            select(CustomerMerge)
            .where(CustomerMerge.undone_at.is_(None))
            .order_by(CustomerMerge.id.desc())
            .limit(limit)
        )
        return [_merge_record(row) for row in rows]


def undo_merge(db: Database, merge_id: int) -> MergeRecord:
    """The exact inverse of a merge: the same identities and threads go back to the same customer.

    Threads that arrived after the merge go back too when every identity that linked them goes back.
    Refused, naming the obstacle, when a later merge involves either customer or when a moved
    identity or thread has since been moved elsewhere or deleted.
    """
    with session_scope(db) as session:
        return undo_merge_in(session, merge_id)


def undo_merge_in(session: Session, merge_id: int) -> MergeRecord:
    """``undo_merge`` inside the caller's write transaction (``storage.merge_review`` audits it there)."""
    row = session.get(CustomerMerge, merge_id)
    if row is None:
        raise NotFound(f"no customer merge with id {merge_id}")
    if row.undone_at is not None:
        raise CustomerChangeRefused(
            f"merge {merge_id} was already undone at {as_utc(row.undone_at):%Y-%m-%d %H:%M}"
        )
    later = session.scalar(
        select(CustomerMerge)
        .where(
            CustomerMerge.id > merge_id,
            CustomerMerge.undone_at.is_(None),
            or_(
                CustomerMerge.survivor_id.in_((row.survivor_id, row.merged_id)),
                CustomerMerge.merged_id.in_((row.survivor_id, row.merged_id)),
            ),
        )
        .order_by(CustomerMerge.id.desc())
    )
    if later is not None:
        raise CustomerChangeRefused(
            f"cannot undo merge {merge_id}: merge {later.id} (customer {later.merged_id} into "
            f"{later.survivor_id}) came later and involves the same customers; undo {later.id} first"
        )
    identity_ids: list[int] = row.undo["identity_ids"]
    thread_ids: list[int] = row.undo["thread_ids"]
    _require_still_with(session, Identity, identity_ids, row.survivor_id, merge_id, "identity")
    _require_still_with(session, Thread, thread_ids, row.survivor_id, merge_id, "thread")
    arrived = [
        t for t in _threads_linked_only_through(session, row.survivor_id, identity_ids) if t not in thread_ids
    ]
    _move(session, identity_ids, thread_ids + arrived, row.merged_id)
    if row.undo["display_name_taken"]:
        survivor = session.get_one(Customer, row.survivor_id)
        survivor.display_name = None
    suggestions = session.scalars(
        select(MergeSuggestion).where(MergeSuggestion.id.in_(row.undo["suggestion_ids"]))
    )
    for suggestion in suggestions:
        suggestion.status, suggestion.resolved_at = "pending", None
    row.undone_at = utc_now()
    session.flush()
    return _merge_record(row)


def _require_still_with(
    session: Session,
    model: type[Identity] | type[Thread],
    ids: Sequence[int],
    customer_id: int,
    merge_id: int,
    noun: str,
) -> None:
    owners = {
        row.id: row.customer_id
        for row in session.execute(select(model.id, model.customer_id).where(model.id.in_(ids)))
    }
    for item_id in ids:
        if item_id not in owners:
            raise CustomerChangeRefused(
                f"cannot undo merge {merge_id}: {noun} {item_id} that it moved was deleted since"
            )
        if owners[item_id] != customer_id:
            raise CustomerChangeRefused(
                f"cannot undo merge {merge_id}: {noun} {item_id} that it moved now belongs to customer "
                f"{owners[item_id]} (moved by a later split or import)"
            )


def _threads_linked_only_through(
    session: Session, customer_id: int, identity_ids: Sequence[int]
) -> list[int]:
    """The customer's threads linked through at least one identity, every one of them in ``identity_ids``."""
    chosen = set(identity_ids)
    links: dict[int, set[int]] = {}
    for thread_id, identity_id in session.execute(
        select(ThreadIdentity.thread_id, ThreadIdentity.identity_id)
        .join(Thread, Thread.id == ThreadIdentity.thread_id)
        .where(Thread.customer_id == customer_id)
    ):
        links.setdefault(thread_id, set()).add(identity_id)
    return sorted(thread_id for thread_id, linked in links.items() if linked <= chosen)


def split_customer(db: Database, customer_id: int, identity_ids: Sequence[int]) -> int:
    """Move the chosen identities, and the threads linked only through them, to a new customer."""
    chosen = list(dict.fromkeys(identity_ids))
    if not chosen:
        raise InvalidValue(f"name the identities of customer {customer_id} to split off")
    with session_scope(db) as session:
        require_customer(session, customer_id)
        own = set(session.scalars(select(Identity.id).where(Identity.customer_id == customer_id)))
        foreign = [i for i in chosen if i not in own]
        if foreign:
            raise CustomerChangeRefused(
                f"identity {', '.join(map(str, foreign))} does not belong to customer {customer_id} "
                f"(theirs: {', '.join(map(str, sorted(own))) or 'none'})"
            )
        if set(chosen) == own:
            raise CustomerChangeRefused(
                f"splitting off every identity of customer {customer_id} would leave nothing behind; "
                "choose some of them"
            )
        threads = _threads_linked_only_through(session, customer_id, chosen)
        new = Customer(display_name=None)
        session.add(new)
        session.flush()
        _move(session, chosen, threads, new.id)
        return new.id


# --- suggestions -------------------------------------------------------------------------------


def list_merge_suggestions(db: Database, status: SuggestionStatus = "pending") -> list[SuggestionView]:
    if status not in _STATUSES:
        raise InvalidValue(f"suggestion status {status!r} is not one of {', '.join(_STATUSES)}")
    with read_scope(db) as session:
        rows = session.scalars(
            select(MergeSuggestion).where(MergeSuggestion.status == status).order_by(MergeSuggestion.id)
        )
        return [_suggestion_view(row) for row in rows]


def resolve_suggestion(db: Database, suggestion_id: int, accept: bool, by: str) -> SuggestionOutcome:
    """Accept (merge the newer customer into the older one) or reject a pending suggestion."""
    with session_scope(db) as session:
        return resolve_suggestion_in(session, suggestion_id, accept, by)


def resolve_suggestion_in(session: Session, suggestion_id: int, accept: bool, by: str) -> SuggestionOutcome:
    """``resolve_suggestion`` inside the caller's write transaction."""
    row = session.get(MergeSuggestion, suggestion_id)
    if row is None:
        raise NotFound(f"no merge suggestion with id {suggestion_id}")
    if row.status != "pending":
        raise CustomerChangeRefused(f"merge suggestion {suggestion_id} was already {row.status}")
    merge = None
    if accept:
        merge = _merge(session, row.customer_a, row.customer_b, by, suggestion_ids=(suggestion_id,))
    else:
        row.status, row.resolved_at = "rejected", utc_now()
    session.flush()
    session.refresh(row)
    return SuggestionOutcome(_suggestion_view(row), merge)


def _suggestion_view(row: MergeSuggestion) -> SuggestionView:
    return SuggestionView(
        id=row.id,
        customer_a=row.customer_a,
        customer_b=row.customer_b,
        reason=row.reason,
        evidence=dict(row.evidence),
        status=row.status,  # type: ignore[arg-type]
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
        resolved_at=as_utc(row.resolved_at),
    )
