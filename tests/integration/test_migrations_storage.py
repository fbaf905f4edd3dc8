"""Alembic: the migrations build exactly the models' schema on a fresh SQLite file and on a fresh
PostgreSQL database, and unwind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from storage.db import alembic_config, create_storage_engine, open_database
from storage.models import Agent, Base, Evaluation, EvaluationMessage, ScorecardForm, User


def test_upgrade_check_downgrade_on_a_fresh_database(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    engine = create_storage_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config(connection)
            command.upgrade(config, "head")
            connection.commit()
            assert set(Base.metadata.tables) <= set(inspect(connection).get_table_names())

            command.check(config)  # raises when the models and the migrations differ

            command.downgrade(config, "base")
            connection.commit()
            assert inspect(connection).get_table_names() == ["alembic_version"]

            command.upgrade(config, "head")  # and back up again: downgrade left nothing in the way
            connection.commit()
            assert set(Base.metadata.tables) <= set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_check_ignores_full_text_tables(tmp_path: Path) -> None:
    """FTS5 virtual tables, their shadow tables and PostgreSQL's ``*_tsv`` expression index have no
    model; autogenerate must not drop them."""
    engine = create_storage_engine(f"sqlite:///{tmp_path / 'fts.db'}")
    try:
        with engine.connect() as connection:
            config = alembic_config(connection)
            command.upgrade(config, "head")
            connection.exec_driver_sql("CREATE VIRTUAL TABLE test_notes_fts USING fts5(body)")
            connection.exec_driver_sql("CREATE INDEX ix_test_words_tsv ON words (text)")
            connection.commit()
            names = set(inspect(connection).get_table_names())
            assert {"test_notes_fts", "test_notes_fts_data", "test_notes_fts_idx"} <= names

            command.check(config)
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced_again_after_the_migrations(tmp_path: Path) -> None:
    # The migrations run with them off (SQLite rebuilds tables to alter them); every later
    # connection must have them on, or deleting a call would leave its transcript and index behind.
    db = open_database(f"sqlite:///{tmp_path / 'earshot.db'}")
    try:
        for _ in range(3):  # whichever pooled connection a session gets
            with db.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.engine.dispose()


def test_open_disputes_carry_their_agent_comment_into_the_thread(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0017: a dispute written before the thread existed becomes its first message, by the account
    linked to the agent when there is one."""
    (tmp_path / "data").mkdir()
    engine = create_storage_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            config = alembic_config(connection)
            command.upgrade(config, "0016")
            connection.commit()
            # Agents through Core with the columns of 0016: the model has columns of later migrations.
            alice, bob = (
                connection.execute(
                    insert(Agent.__table__).values(name=name).returning(Agent.__table__.c.id)
                ).scalar_one()
                for name in ("Alice", "Bob")
            )
            with Session(connection) as session:
                coach = User(username="coach@example.com", role="coach")
                session.add(coach)
                session.flush()
                session.add(User(username="alice@example.com", role="agent", agent_id=alice))
                form = ScorecardForm(name="Call", version=1, created_by=coach.id)
                session.add(form)
                session.flush()
                # Through Core as well: the model's evaluations have columns of later migrations.
                for agent, status, comment in [
                    (alice, "disputed", "Not fair"),
                    (bob, "disputed", "Bob has no account"),
                    (alice, "acknowledged", "Thanks"),
                ]:
                    session.execute(
                        insert(Evaluation.__table__).values(
                            form_id=form.id,
                            coach_id=coach.id,
                            agent_id=agent,
                            status=status,
                            agent_comment=comment,
                        )
                    )
                session.commit()
            command.upgrade(config, "head")
            connection.commit()
            rows = connection.execute(
                select(User.username, EvaluationMessage.kind, EvaluationMessage.text)
                .outerjoin(User, User.id == EvaluationMessage.author_id)
                .order_by(EvaluationMessage.id)
            ).all()
            assert [tuple(row) for row in rows] == [
                ("alice@example.com", "dispute", "Not fair"),
                (None, "dispute", "Bob has no account"),
            ]
    finally:
        engine.dispose()
