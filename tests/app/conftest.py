"""One prepared data folder per test module: accounts for every role, a call with real audio and a
stored transcript, chat and e-mail threads, a scorecard with a submitted evaluation."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from storage import users
from storage.access import Principal
from storage.blobs import LocalBlobStore
from storage.db import Database
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
from tests.app.app_data import PASSWORD, AppData, add_recent_calls, build_app_data, open_data
from tests.app.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """Streamlit's AppTest runs a page as ``__main__`` and leaves it there: a later test that starts a
    process with multiprocessing's spawn would then run the app's page in the child (it re-imports the
    parent's main module), which opened the default data folder's database in every child."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


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
                [
                    SectionSpec(
                        "Opening", (QuestionSpec("Greets by name"), QuestionSpec("Verifies identity"))
                    ),
                    SectionSpec(
                        "Resolution", (QuestionSpec("Solves the problem", "points", max_points=5),), 2
                    ),
                ],
            )
            _evaluate(db, coach, data.recording_id, form.id, ("yes", "no", "na"))
            blobs = LocalBlobStore(data.data_dir / "audio")
            for week, recording_id in enumerate(add_recent_calls(db, blobs, data.data_dir / "incoming", 8)):
                if week % 4 != 3:  # some weeks without an evaluation
                    values = ("yes", "yes" if week % 2 else "no", str(2 + week % 4))
                    _evaluate(db, coach, recording_id, form.id, values)
        finally:
            db.engine.dispose()
        patch.setenv("EARSHOT_DATA_DIR", str(data.data_dir))
        patch.setenv("EARSHOT_DATABASE_URL", data.database_url)
        yield data


def _evaluate(
    db: Database, coach: Principal, recording_id: int, form_id: int, values: tuple[str, ...]
) -> None:
    view = start_evaluation(db, coach, recording_id, form_id)
    questions = [q.id for section in view.form.sections for q in section.questions]
    save_answers(
        db, coach, view.summary.id, {q: AnswerInput(v) for q, v in zip(questions, values, strict=True)}
    )
    submit_evaluation(db, coach, view.summary.id)


APP = Path(__file__).resolve().parents[2] / "review_app" / "app.py"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, one per test module, driven by playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()
