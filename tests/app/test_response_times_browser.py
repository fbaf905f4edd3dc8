"""The Response times page in a real browser (Debian chromium driven by playwright) against a real
``earshot app`` server, at 1366×768: a coach opens it from the menu and sees the met callback and the
late e-mail of the last weeks without scrolling sideways; times are labelled with the zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.browser import CHROMIUM, open_page, running_app, sign_in, wait_until_idle
from tests.app.test_response_times_page import add_contacts

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db, _, _ = open_data(app_data.data_dir)
    try:
        today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
        # A Monday two to three weeks back: the page's first period (30 days up to the newest wait) holds it.
        add_contacts(db, today - timedelta(days=today.weekday() + 14))
    finally:
        db.engine.dispose()
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_coach_reads_the_response_times_at_1366_by_768(page, app_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    open_page(page, "Response times", "Response times")
    wait_until_idle(page)
    metrics = page.get_by_test_id("stMetric")
    expect(metrics).to_have_count(4)
    expect(metrics.filter(has_text="Met")).to_contain_text("1")
    expect(metrics.filter(has_text="Breached")).to_contain_text("1")
    expect(page.get_by_text(re.compile(r"Waits that began .* \(UTC\)"))).to_be_visible()
    page.get_by_role("tab", name="Met").click()
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible()
    page.screenshot(path=str(tmp_path / "response_times.png"), full_page=True)
    # Readable at 1366 px: nothing wider than the window, the filters and the four counts on one row each.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366
    tops = [box["y"] for box in (metrics.nth(i).bounding_box() for i in range(4)) if box]
    assert len(tops) == 4 and max(tops) - min(tops) < 5
    first, last = (page.get_by_test_id("stDateInput").nth(i).bounding_box() for i in (0, 1))
    assert first and last and abs(first["y"] - last["y"]) < 5
