"""One prepared data folder per test module: accounts for every role, a call with real audio and a
stored transcript, chat and e-mail threads, a scorecard with a submitted evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from storage import users
from storage.access import Principal
from storage.quality import (
    AnswerInput,
    QuestionSpec,
    SectionSpec,
    create_form,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from storage.users import authenticate
from tests.app.app_data import PASSWORD, AppData, build_app_data, open_data


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppData]:
    with pytest.MonkeyPatch.context() as patch:
        # Real argon2id at its smallest cost: the defaults take ~0.5 s a hash on a shared CPU.
        patch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        data = build_app_data(tmp_path_factory.mktemp("app") / "data")
        db, _, _ = open_data(data.data_dir)
        try:
            admin = authenticate(db, "admin@example.com", PASSWORD)
            coach = authenticate(db, "coach@example.com", PASSWORD)
            form = create_form(
                db,
                admin,
                "Customer call",
                [SectionSpec("Opening", (QuestionSpec("Greets by name"), QuestionSpec("Verifies identity")))],
            )
            view = start_evaluation(db, coach, data.recording_id, form.id)
            questions = [q.id for s in view.form.sections for q in s.questions]
            save_answers(
                db,
                coach,
                view.summary.id,
                {questions[0]: AnswerInput("yes"), questions[1]: AnswerInput("no")},
            )
            submit_evaluation(db, coach, view.summary.id)
        finally:
            db.engine.dispose()
        patch.setenv("EARSHOT_DATA_DIR", str(data.data_dir))
        patch.setenv("EARSHOT_DATABASE_URL", data.database_url)
        yield data


def principal_of(data: AppData, username: str) -> Principal:
    db, _, _ = open_data(data.data_dir)
    try:
        [user] = [u for u in users.list_users(db, actor=None) if u.username == username]
        return Principal(user.id, user.username, user.role, user.agent_id)
    finally:
        db.engine.dispose()


APP = Path(__file__).resolve().parents[2] / "review_app" / "app.py"
