"""Look and feel in a real browser (Debian chromium driven by playwright) against a real ``earshot app``
server: the page starts under the header instead of 120 px below it, the brand sits above the
navigation, the colours follow the browser's light or dark scheme, and a customer's tiles sit side by
side on a phone instead of one screen each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.app.app_data import PASSWORD, AppData
from tests.app.browser import CHROMIUM, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000
_LAPTOP = {"width": 1366, "height": 768}
_PHONE = {"width": 390, "height": 844}
# The relative luminance (0 black .. 1 white) of the app's background colour.
_BACKGROUND_LUMINANCE = """() => {
    const [r, g, b] = getComputedStyle(document.querySelector("[data-testid='stApp']"))
        .backgroundColor.match(/\\d+/g).slice(0, 3).map(c => Number(c) / 255);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


def _customer_page(browser, app_url: str, app_data: AppData, viewport: dict[str, int], scheme: str = "light"):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    context.set_default_timeout(_TIMEOUT_MS)
    page = context.new_page()
    page.set_viewport_size(_LAPTOP)  # signed in where the sidebar shows who is
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.set_viewport_size(viewport)
    page.goto(f"{app_url}/?id={app_data.customer_id}")
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    page.get_by_test_id("stMetricLabel").first.wait_for()
    wait_until_idle(page)
    return page


def test_the_page_starts_under_the_header_with_the_brand_above_the_navigation(
    browser, app_url: str, app_data: AppData
) -> None:  # type: ignore[no-untyped-def]
    page = _customer_page(browser, app_url, app_data, _LAPTOP)
    title = page.get_by_role("heading", name="Customers", level=1).bounding_box()
    assert title is not None and title["y"] < 100, title  # was 120 px of empty header, then the title
    brand = page.get_by_test_id("stSidebarLogo")
    expect(brand).to_be_visible()
    navigation = page.get_by_test_id("stSidebarNavItems").bounding_box()
    brand_box = brand.bounding_box()
    assert brand_box is not None and navigation is not None
    assert brand_box["y"] + brand_box["height"] <= navigation["y"]
    page.context.close()


@pytest.mark.parametrize(("scheme", "dark"), [("dark", True), ("light", False)])
def test_the_colours_follow_the_browsers_scheme(
    browser, app_url: str, app_data: AppData, scheme: str, dark: bool
) -> None:  # type: ignore[no-untyped-def]
    page = _customer_page(browser, app_url, app_data, _LAPTOP, scheme)
    luminance = page.evaluate(_BACKGROUND_LUMINANCE)
    assert (luminance < 0.2) if dark else (luminance > 0.8), luminance
    page.context.close()


def test_a_customers_tiles_sit_two_a_row_on_a_phone(browser, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = _customer_page(browser, app_url, app_data, _PHONE)
    tops = {
        label: box["y"]
        for label, box in (
            (tile.inner_text(), tile.bounding_box()) for tile in page.get_by_test_id("stMetricLabel").all()
        )
        if box is not None
    }
    assert tops["Calls"] == pytest.approx(tops["Chats"], abs=2)  # side by side, not one a screen
    assert tops["E-mail threads"] > tops["Calls"]  # and wrapped onto the next row, not cut off
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing wider than the phone's screen
    page.context.close()
