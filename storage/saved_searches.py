"""Saved transcript searches: a compliance user names a query with its filters and runs it again later.

Each user sees only their own list. The query is parsed when it is saved, so a saved search that
cannot run is refused at once rather than failing every time it is opened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from storage.access import Permission, Principal, require
from storage.db import Database, read_scope, session_scope
from storage.errors import InvalidValue, NotFound
from storage.limits import SAVED_SEARCH_NAME_MAX_CHARS, check_length
from storage.models import SavedSearch as SavedSearchRow
from storage.query import parse_query
from storage.search import SearchFilters
from storage.services import _as_utc

__all__ = ["SavedSearch", "delete_saved_search", "list_saved_searches", "save_search"]

_DATE_FIELDS = ("date_from", "date_to")


@dataclass(frozen=True)
class SavedSearch:
    id: int
    name: str
    query: str
    filters: SearchFilters
    created_at: datetime


def save_search(
    db: Database, principal: Principal, name: str, query: str, filters: SearchFilters
) -> SavedSearch:
    """Save under ``name``; a search of the same name by the same user is replaced."""
    require(principal, Permission.SEARCH_ALL)
    name = name.strip()
    if not name:
        raise InvalidValue("a saved search needs a name")
    check_length("a saved search's name", name, SAVED_SEARCH_NAME_MAX_CHARS)
    parse_query(query)  # raises QueryError with the parser's message
    with session_scope(db) as session:
        row = session.scalar(
            select(SavedSearchRow).where(
                SavedSearchRow.user_id == principal.user_id, SavedSearchRow.name == name
            )
        )
        if row is None:
            row = SavedSearchRow(user_id=principal.user_id, name=name)
            session.add(row)
        row.query = query.strip()
        row.filters = _filters_to_json(filters)
        session.flush()
        return _saved(row)


def list_saved_searches(db: Database, principal: Principal) -> list[SavedSearch]:
    """The user's saved searches by name."""
    require(principal, Permission.SEARCH_ALL)
    with read_scope(db) as session:
        rows = session.scalars(
            select(SavedSearchRow)
            .where(SavedSearchRow.user_id == principal.user_id)
            .order_by(SavedSearchRow.name)
        ).all()
        return [_saved(row) for row in rows]


def delete_saved_search(db: Database, principal: Principal, search_id: int) -> None:
    require(principal, Permission.SEARCH_ALL)
    with session_scope(db) as session:
        row = session.get(SavedSearchRow, search_id)
        if row is None or row.user_id != principal.user_id:
            raise NotFound(f"{principal.username} has no saved search with id {search_id}")
        session.delete(row)


def _filters_to_json(filters: SearchFilters) -> dict[str, Any]:
    values = asdict(filters)
    for key in _DATE_FIELDS:
        if values[key] is not None:
            values[key] = values[key].isoformat()
    return values


def _filters_from_json(values: dict[str, Any]) -> SearchFilters:
    # Keys a later version dropped are ignored; new fields take their defaults.
    known = set(SearchFilters.__dataclass_fields__)
    plain = {key: value for key, value in values.items() if key in known}
    for key in _DATE_FIELDS:
        if plain.get(key) is not None:
            plain[key] = date.fromisoformat(plain[key])
    return SearchFilters(**plain)


def _saved(row: SavedSearchRow) -> SavedSearch:
    return SavedSearch(
        id=row.id,
        name=row.name,
        query=row.query,
        filters=_filters_from_json(row.filters),
        created_at=_as_utc(row.created_at),  # type: ignore[arg-type]
    )
