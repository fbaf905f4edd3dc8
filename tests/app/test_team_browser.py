"""The Team page in a real browser (Debian chromium driven by playwright) against a real ``earshot app``
server: a coach sorts the agents, narrows them to a team and opens one agent's calls in the call list.
The data: Alice's weekly calls (``tests/app/conftest.py``) in team North, and two calls of Bob's in
team South."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from recorder.types import CallMetadata
from storage.teams import set_agent_team
from tests.app.app_data import PASSWORD, AppData, add_call, open_data
from tests.app.browser import CHROMIUM, choose, open_page, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000
_ROWS = "[data-testid='stMarkdown'] table tbody tr"


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db, blobs, _ = open_data(app_data.data_dir)
    try:
        now = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
        for day in (2, 3):
            metadata = CallMetadata(
                customer_name=f"Customer B{day}",
                customer_phone=f"+31 6 5555 20{day:02d}",
                agent="Bob",
                direction="inbound",
                started_at=now - timedelta(days=day),
            )
            add_call(db, blobs, app_data.data_dir / "incoming", 20.0, metadata, seed=200 + day)
        set_agent_team(db, "Alice", "North", actor=None)
        set_agent_team(db, "Bob", "South", actor=None)
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


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_coach_sorts_the_team_filters_it_and_opens_an_agents_calls(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    open_page(page, "Team", "Team")
    rows = page.locator(_ROWS)
    expect(rows).to_have_count(2, timeout=_TIMEOUT_MS)
    expect(rows.nth(0)).to_contain_text("Alice")  # by name at first
    expect(rows.nth(0)).to_contain_text("North")
    expect(rows.nth(1)).to_contain_text("South")

    choose(page, "Sort by", "Calls")  # fewest first: Bob's two before Alice's four
    expect(rows.nth(0)).to_contain_text("Bob")
    choose(page, "Order", "Descending")
    expect(rows.nth(0)).to_contain_text("Alice")

    choose(page, "Team", "South")
    expect(rows).to_have_count(1, timeout=_TIMEOUT_MS)
    expect(rows.first).to_contain_text("Bob")
    wait_until_idle(page)
    query = _query(page.url)
    assert (query["team"], query["sort"], query["order"]) == ("South", "calls", "desc")

    page.reload()  # the address keeps the team and the order
    page.get_by_role("heading", name="Team").first.wait_for()
    expect(rows).to_have_count(1, timeout=_TIMEOUT_MS)
    expect(rows.first).to_contain_text("Bob")

    link = rows.first.get_by_role("link", name="Bob", exact=True)
    target = _query(link.get_attribute("href") or "")
    assert (target["from"], target["to"]) == (query["from"], query["to"])
    with page.context.expect_page() as opened:  # the drill-down: Bob's calls of those days, signed in
        link.click()
    calls = opened.value
    calls.get_by_role("heading", name="Call list").first.wait_for()
    expect(calls.locator(_ROWS)).to_have_count(2, timeout=_TIMEOUT_MS)
    expect(calls.locator(_ROWS).nth(0)).to_contain_text("Bob")
    expect(calls.locator(_ROWS).nth(1)).to_contain_text("Bob")
    expect(calls.get_by_role("combobox", name="Agent")).to_have_value("Bob")
    wait_until_idle(calls)
    assert _query(calls.url) == {"agent": target["agent"], "from": target["from"], "to": target["to"]}
