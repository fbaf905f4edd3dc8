"""The second approval of a hold's release in a real browser (Debian chromium driven by playwright),
two compliance users in two browser sessions of the real app server: the one who asked cannot
approve, the other can, and the hold ends."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from storage import users
from storage.holds import HoldTarget, list_holds, place_hold
from storage.models import LegalHold
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.browser import CHROMIUM, open_page, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def hold_id(app_data: AppData) -> int:
    db, _, _ = open_data(app_data.data_dir)
    try:
        users.create_user(db, "second@example.com", PASSWORD, "compliance", actor=None)
        target = HoldTarget("customer", customer_id=app_data.customer_id)
        return place_hold(db, None, target, "Case 12: complaint to the regulator").id
    finally:
        db.engine.dispose()


@pytest.fixture(scope="module")
def app_url(app_data: AppData, hold_id: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


def _compliance_page(browser, app_url: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, app_url, username, PASSWORD)
    open_page(page, "Compliance", "Compliance")
    return page


def _choose_hold(page, hold_id: int) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSelectbox").filter(has_text="Hold to release").click()
    page.get_by_role("option", name=re.compile(rf"^hold {hold_id}: customer ")).click()
    wait_until_idle(page)


def _click(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=name, exact=True).click()
    wait_until_idle(page)


def test_the_user_who_asked_cannot_approve_and_a_second_compliance_user_can(
    browser, app_url: str, app_data: AppData, hold_id: int
) -> None:  # type: ignore[no-untyped-def]
    first = _compliance_page(browser, app_url, "compliance@example.com")
    # The holds table is a canvas grid: its cells are in the page for assistive technology only.
    first.get_by_text("Case 12: complaint to the regulator").first.wait_for(state="attached")
    _choose_hold(first, hold_id)
    _click(first, "Ask to release")
    first.get_by_text("Release asked for; another compliance user must approve it.").wait_for()
    _click(first, "Approve release")
    first.get_by_text("Approving the release was refused.").wait_for()
    first.get_by_text(re.compile("a different compliance user must approve it")).wait_for()

    second = _compliance_page(browser, app_url, "second@example.com")
    _choose_hold(second, hold_id)
    _click(second, "Approve release")
    second.get_by_text(f"Hold {hold_id} released.").wait_for()

    db, _, _ = open_data(app_data.data_dir)
    try:
        assert list_holds(db, None) == []
        with db.sessionmaker() as session:
            hold = session.get_one(LegalHold, hold_id)
            assert (hold.release_requested_by, hold.released_by) == (
                "compliance@example.com",
                "second@example.com",
            )
    finally:
        db.engine.dispose()
