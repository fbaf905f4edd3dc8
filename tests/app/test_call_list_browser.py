"""The call list in a real browser (Debian chromium driven by playwright) against a real ``earshot app``
server: a coach filters the list, pages through it, reloads without losing the place, and "Next call
to review" opens an unscored call; a coach assigns two calls in one step, an agent cannot. The data:
Emma's scored call and eight weekly calls of Alice's, two of them (weeks 3 and 7) not scored
(``tests/app/conftest.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.app.app_data import PASSWORD, AppData
from tests.app.browser import CHROMIUM, choose, open_page, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000
_ROWS = "[data-testid='stMarkdown'] table tbody tr"


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {**app_data.env(), "EARSHOT_TIMEZONE": "Europe/Amsterdam"}
    with running_app(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _query(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.inner_text() for row in page.locator(_ROWS).all()]


def test_a_coach_filters_pages_and_opens_the_next_call_to_review(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    open_page(page, "Call list", "Call list")
    expect(page.locator(_ROWS)).to_have_count(9, timeout=_TIMEOUT_MS)  # every call, on one page of 25
    assert "Started (Europe/Amsterdam)" in page.locator("[data-testid='stMarkdown'] table thead").inner_text()
    assert all(re.search(r"\bCE(S)?T\b", row) for row in _rows(page))  # times labelled with the zone

    # Alice's weekly calls: their customers are "Customer 0" to "Customer 7".
    customer = page.get_by_role("textbox", name="Customer")
    customer.fill("customer")
    customer.press("Enter")
    expect(page.locator(_ROWS)).to_have_count(8, timeout=_TIMEOUT_MS)
    assert all("Customer" in row and "Alice" in row for row in _rows(page))
    wait_until_idle(page)  # the rows are drawn before the run ends; the filters below them after
    page.get_by_text("More filters", exact=True).click()  # folded away, sort and page size with them
    expect(page.get_by_role("combobox", name="Calls a page")).to_be_in_viewport(timeout=_TIMEOUT_MS)
    page.get_by_test_id("stExpanderDetails").evaluate(
        "e => Promise.all(e.getAnimations({subtree: true}).map(a => a.finished))"
    )
    choose(page, "Calls a page", "5")
    expect(page.locator(_ROWS)).to_have_count(5, timeout=_TIMEOUT_MS)
    first_page = _rows(page)
    page.get_by_role("button", name="Next page").click()
    expect(page.locator(_ROWS)).to_have_count(3, timeout=_TIMEOUT_MS)
    second_page = _rows(page)
    assert not set(first_page) & set(second_page)
    # The table can be drawn before the run reaches the buttons below it: wait for them, not poll once.
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    wait_until_idle(page)
    assert _query(page) == {"customer": "customer", "size": "5", "page": "2"}

    page.reload()  # the address keeps the filters and the page
    page.get_by_role("heading", name="Call list").first.wait_for()
    expect(page.locator(_ROWS)).to_have_count(3, timeout=_TIMEOUT_MS)
    assert _rows(page) == second_page

    page.get_by_text("Unscored", exact=True).click()
    expect(page.locator(_ROWS)).to_have_count(2, timeout=_TIMEOUT_MS)  # page 1 again: two left to score
    unscored = _rows(page)
    assert all("unscored" in row for row in unscored)
    names = {re.search(r"Customer \d", row).group(0) for row in unscored}  # type: ignore[union-attr]
    assert names == {"Customer 3", "Customer 7"}
    links = page.locator(_ROWS).get_by_role("link")
    assert all(re.search(r"/call\?id=\d+$", links.nth(i).get_attribute("href") or "") for i in range(2))

    with page.context.expect_page() as opened:  # a row's link opens its call in a new tab, signed in
        links.first.click()
    opened.value.get_by_role("heading", name=re.compile("Customer [37]")).first.wait_for()
    opened.value.close()

    page.get_by_role("button", name="Next call to review").click()
    heading = page.get_by_role("heading", name=re.compile("Customer [37]"))
    heading.first.wait_for()
    assert re.search(r"/call\?id=\d+$", page.url)
    wait_until_idle(page)


def _row_of(page, customer: str):  # type: ignore[no-untyped-def]
    return page.locator(_ROWS).filter(has_text=customer)  # "Customer 0" to "Customer 7": none a prefix


def test_a_coach_assigns_two_calls_at_once_and_an_agent_cannot(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/call_list?customer=customer")
    page.get_by_role("heading", name="Call list").first.wait_for()
    expect(page.locator(_ROWS)).to_have_count(8, timeout=_TIMEOUT_MS)
    wait_until_idle(page)
    page.get_by_role("button", name="Assign calls").click()
    chooser = page.get_by_role("combobox", name="Calls")
    # Two scored calls (weeks 0 and 1): nobody's review queue changes.
    for customer in ("Customer 0", "Customer 1"):
        chooser.click()
        page.get_by_role("option", name=re.compile(rf"· {customer} ·")).click()
        wait_until_idle(page)
    page.keyboard.press("Escape")  # the options list closes; the popover stays
    choose(page, "Coach", "coach@example.com")
    assign = page.get_by_role("button", name="Assign", exact=True)
    expect(assign).to_be_enabled(timeout=_TIMEOUT_MS)
    wait_until_idle(page)
    assign.click()
    for customer in ("Customer 0", "Customer 1"):
        expect(_row_of(page, customer)).to_contain_text("coach@example.com", timeout=_TIMEOUT_MS)
    expect(_row_of(page, "Customer 2")).not_to_contain_text("coach@example.com", timeout=_TIMEOUT_MS)
    wait_until_idle(page)
    page.get_by_text("Assigned to me", exact=True).click()
    expect(page.locator(_ROWS)).to_have_count(2, timeout=_TIMEOUT_MS)

    agent = page.context.browser.new_context(viewport={"width": 1366, "height": 768})  # type: ignore[union-attr]
    agent.set_default_timeout(_TIMEOUT_MS)
    their = agent.new_page()
    sign_in(their, app_url, "agent@example.com", PASSWORD)
    their.goto(f"{app_url}/call_list")
    wait_until_idle(their)
    expect(their.get_by_role("heading", name="Call list")).to_have_count(0, timeout=_TIMEOUT_MS)
    expect(their.get_by_role("button", name="Assign calls")).to_have_count(0)
    agent.close()
