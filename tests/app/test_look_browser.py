"""Look and feel in a real browser (Debian chromium driven by playwright) against a real ``earshot app``
server: the page starts under the header instead of 120 px below it, the brand sits above the
navigation, the colours follow the browser's light or dark scheme, a customer's tiles sit side by
side on a phone instead of one screen each, the history's "About" reads on a phone without scrolling
sideways, and a phone's first screen of the call list reaches the calls, each call's cells all on
the screen."""

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


# The grid is a canvas; its accessible table holds only the cells of the columns in view (glide draws
# none of the others), in the order shown.
_HEADERS_IN_VIEW = "[data-testid='stDataFrame'] table [role='columnheader']"
_FIRST_ROW_IN_VIEW = "[data-testid='stDataFrame'] table [role='row']:has(td) >> nth=0"
_NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def test_a_customers_history_reads_about_on_a_phone_without_scrolling_sideways(
    browser, app_url: str, app_data: AppData
) -> None:  # type: ignore[no-untyped-def]
    page = _customer_page(browser, app_url, app_data, _PHONE)
    page.wait_for_function(_NO_SIDEWAYS_SCROLL)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible(timeout=_TIMEOUT_MS)
    box = grid.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= _PHONE["width"], box
    # "About" and the column after it are both in view unscrolled: About ends inside the grid, so
    # the whole cell lies within the phone's screen.
    headers = page.locator(_HEADERS_IN_VIEW)
    expect(headers.nth(1)).to_have_text("About", timeout=_TIMEOUT_MS)
    expect(headers.nth(2)).to_have_text("Channel", timeout=_TIMEOUT_MS)
    call = app_data.transcript.utterances[0].text
    expect(page.locator(_FIRST_ROW_IN_VIEW).locator("td").nth(1)).to_contain_text(
        call[:20], timeout=_TIMEOUT_MS
    )
    page.context.close()


def test_a_phone_shows_calls_on_the_call_lists_first_screen(browser, app_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=_LAPTOP)
    context.set_default_timeout(_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.set_viewport_size(_PHONE)
    page.goto(f"{app_url}/call_list")
    page.get_by_role("heading", name="Call list").first.wait_for()
    first = page.locator("[data-testid='stMarkdown'] table tbody tr").first
    expect(first).to_be_in_viewport(timeout=_TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const row = document.querySelector("[data-testid='stMarkdown'] table tbody tr");
            return row !== null && row.getBoundingClientRect().bottom <= window.innerHeight;
        }"""
    )  # the whole row, above the fold
    page.wait_for_function(_NO_SIDEWAYS_SCROLL)
    # Every cell of a call on the screen, none scrolled sideways out of the table's box (its eight
    # columns were 660 px wide there): the row is one block whose cells wrap.
    page.wait_for_function(
        """() => {
            const cells = [...document.querySelectorAll(".st-key-call_table tbody tr:first-child td")];
            return cells.length === 8 && cells.every(cell => {
                const box = cell.getBoundingClientRect();
                return box.left >= 0 && box.right <= window.innerWidth && box.width > 0;
            });
        }"""
    )
    # The folded filters still work, and a link that names one opens them, its count in the label.
    page.goto(f"{app_url}/call_list?direction=outbound&min=1")
    expect(page.get_by_text("More filters (2 active)")).to_be_visible(timeout=_TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Direction")).to_have_value("Outbound", timeout=_TIMEOUT_MS)
    context.close()
