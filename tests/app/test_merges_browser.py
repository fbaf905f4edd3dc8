"""Customer merges in a real browser (Debian chromium driven by playwright) against the real app
server: a compliance user accepts a merge suggestion an import made, then undoes the merge, and the
suggestion waits again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from storage.customers import list_merges
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.browser import CHROMIUM, open_page, running_app, sign_in, wait_until_idle
from tests.app.test_compliance_page import add_merge_suggestion

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def suggestion(app_data: AppData) -> int:
    return add_merge_suggestion(app_data.data_dir)


@pytest.fixture(scope="module")
def app_url(app_data: AppData, suggestion: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


def _standing(app_data: AppData) -> list[int]:
    db, _, _ = open_data(app_data.data_dir)
    try:
        return [m.id for m in list_merges(db)]
    finally:
        db.engine.dispose()


def test_compliance_accepts_a_suggestion_and_undoes_the_merge(
    browser, app_url: str, app_data: AppData, suggestion: int
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(_TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, app_url, "compliance@example.com", PASSWORD)
        open_page(page, "Compliance", "Compliance")
        page.get_by_role("tab", name="Customer merges").click()
        expect(page.get_by_text(f"Suggestion {suggestion}:")).to_be_visible(timeout=_TIMEOUT_MS)
        # The e-mail is shown as it is, its "*" neither emphasis nor dropped, and not cut into a
        # mail link to "e@example.org", somebody else (an invisible joiner sits before the "@").
        address = page.get_by_text(re.compile(r"^email dup\*e\u2060?@example\.org ·"))
        expect(address).to_be_visible()
        expect(address.get_by_role("link")).to_have_count(0)

        page.get_by_role("button", name="Accept: merge").click()
        wait_until_idle(page)
        expect(page.get_by_text(f"Suggestion {suggestion} accepted: merged.")).to_be_visible(
            timeout=_TIMEOUT_MS
        )
        expect(page.get_by_text("No merge suggestions are waiting.")).to_be_visible(timeout=_TIMEOUT_MS)
        [merge_id] = _standing(app_data)

        page.get_by_role("button", name="Undo").click()
        wait_until_idle(page)
        expect(page.get_by_text(f"Merge {merge_id} undone", exact=False)).to_be_visible(timeout=_TIMEOUT_MS)
        expect(page.get_by_text("No merges to undo.")).to_be_visible(timeout=_TIMEOUT_MS)
        expect(page.get_by_text(f"Suggestion {suggestion}:")).to_be_visible(timeout=_TIMEOUT_MS)
        assert _standing(app_data) == []
    finally:
        context.close()
