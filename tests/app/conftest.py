"""One prepared data folder per test module: accounts for every role, a call with real audio and a
stored transcript, chat and e-mail threads, a scorecard with submitted evaluations
(``tests/app/app_data.py``: ``build_app_data``, ``add_evaluations``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from storage import users
from tests.app.app_data import AppData, add_evaluations, build_app_data
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
        add_evaluations(data)
        patch.setenv("EARSHOT_DATA_DIR", str(data.data_dir))
        patch.setenv("EARSHOT_DATABASE_URL", data.database_url)
        yield data


APP = Path(__file__).resolve().parents[2] / "review_app" / "app.py"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, one per test module, driven by playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()
