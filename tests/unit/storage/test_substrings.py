"""Customers found by part of their name or identity through the trigram indexes of migration 0026,
on SQLite and on a real PostgreSQL server: what they find, that they follow renames and deletions,
and that the index (not a read of every customer) serves the lookup."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, text, update

from storage.db import Database, read_scope, session_scope
from storage.models import Customer, Identity
from storage.search import matching_customers
from storage.substrings import customers_named, customers_with_identity_ending


def _customers(db: Database, *names: str | None) -> list[int]:
    with session_scope(db) as session:
        rows = [Customer(display_name=name) for name in names]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _found(db: Database, lookup: Any) -> set[int]:
    with read_scope(db) as session:
        return set(session.scalars(lookup))


def _named(db: Database, text_: str) -> set[int]:
    return _found(db, customers_named(db.engine.dialect.name, text_))


def test_a_name_is_found_by_any_part_of_it_case_folded_beyond_ascii(db: Database) -> None:
    garcia, muller, smith, nameless = _customers(db, "María García", "Jörg Müller", "John Smith", None)
    assert _named(db, "garc") == {garcia}
    assert _named(db, "ía Ga") == {garcia}  # across the space
    assert _named(db, "MÜLLER") == {muller}
    assert _named(db, "Smith") == {smith}
    assert _named(db, "o") == {smith}  # shorter than a trigram: compared row by row
    assert _named(db, "ith x") == set()
    assert nameless not in _named(db, "a")


def test_wildcards_and_quotes_in_the_text_are_literal(db: Database) -> None:
    percent, quoted, plain = _customers(db, "Shop 50% Off", 'The "Best" Bakery', "Shop 50 Off")
    assert _named(db, "50%") == {percent}
    assert _named(db, "p_5") == set()
    assert _named(db, '"Best"') == {quoted}
    assert _named(db, "50 Off") == {plain}


def test_the_index_follows_renames_and_deletions(db: Database) -> None:
    anna, pieter = _customers(db, "Anna Jansen", "Pieter de Vries")
    with session_scope(db) as session:
        session.execute(update(Customer).where(Customer.id == anna).values(display_name="Anna Bakker"))
        session.execute(delete(Customer).where(Customer.id == pieter))
    assert _named(db, "Jansen") == set()
    assert _named(db, "Bakker") == {anna}
    assert _named(db, "Vries") == set()


def test_an_identity_is_found_by_its_ending(db: Database) -> None:
    peter, emma = _customers(db, "Peter", "Emma")
    with session_scope(db) as session:
        session.add_all(
            [
                Identity(customer_id=peter, kind="phone", value="+31612345678", raw_value="06 1234 5678"),
                Identity(customer_id=peter, kind="chat_handle", value="whatsapp:PeterV", raw_value="PeterV"),
                Identity(customer_id=emma, kind="phone", value="+31612345699", raw_value="06 1234 5699"),
                Identity(customer_id=emma, kind="customer_number", value="C-12345678", raw_value="C1"),
            ]
        )
    dialect = db.engine.dialect.name
    assert _found(db, customers_with_identity_ending(dialect, "phone", "12345678")) == {peter}
    assert _found(db, customers_with_identity_ending(dialect, "phone", "123456")) == set()  # inside only
    assert _found(db, customers_with_identity_ending(dialect, "chat_handle", ":peterv")) == {peter}
    assert _found(db, customers_with_identity_ending(dialect, "phone", "99")) == {emma}  # no trigram


def test_the_trigram_index_serves_the_lookups(db: Database) -> None:
    ids = _customers(db, *(f"Customer {number}" for number in range(300)))
    with session_scope(db) as session:
        session.add_all(
            Identity(customer_id=id_, kind="phone", value=f"+316{id_:08d}", raw_value="x") for id_ in ids
        )
    dialect = db.engine.dialect.name
    with read_scope(db) as session:
        if dialect == "postgresql":
            session.execute(text("ANALYZE customers"))
            session.execute(text("ANALYZE identities"))
            # With so few rows a sequential scan is cheaper; forbidding it shows the index can serve.
            session.execute(text("SET LOCAL enable_seqscan = off"))
        plans = []
        for lookup in (
            customers_named(dialect, "omer 4"),
            customers_with_identity_ending(dialect, "phone", "00000123"),
        ):
            statement = lookup.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plans.append(" ".join(str(row) for row in session.execute(text(explain + str(statement)))))
    if dialect == "sqlite":
        assert "customer_names_fts VIRTUAL TABLE" in plans[0] and "SCAN customers" not in plans[0]
        assert "identity_values_fts VIRTUAL TABLE" in plans[1] and "SCAN identities" not in plans[1]
    else:
        assert "ix_customers_display_name_trigrams" in plans[0]
        assert "ix_identities_value_trigrams" in plans[1]


def test_a_customer_filter_finds_the_customers_named(db: Database) -> None:
    """The search's customer filter goes through the index too (name, exact identity or last digits)."""
    garcia, smith = _customers(db, "María García", "John Smith")
    with session_scope(db) as session:
        session.add(Identity(customer_id=smith, kind="phone", value="+31612345678", raw_value="x"))
    dialect = db.engine.dialect.name
    assert _found(db, matching_customers(dialect, "GARCÍA")) == {garcia}
    assert _found(db, matching_customers(dialect, "06 1234 5678")) == {smith}
    assert _found(db, matching_customers(dialect, "+31612345678")) == {smith}
    assert _found(db, matching_customers(dialect, "zz")) == set()
