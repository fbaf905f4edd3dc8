"""Follow-ups in a real browser (Debian chromium driven by playwright) against a real ``earshot app``
server: an agent adds one to a chat of the customer history, due two days ago, then finds it on My
follow-ups first, marked overdue, above the one due next week."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from storage.db import read_scope
from storage.followups import add_followup, resolve_assignee
from storage.models import Thread
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.browser import CHROMIUM, open_page, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def chat(app_data: AppData) -> int:
    """Emma's first chat, with a follow-up for the agent due next week already on it."""
    db, _, _ = open_data(app_data.data_dir)
    try:
        with read_scope(db) as session:
            thread_id = session.scalars(
                select(Thread.id)
                .where(Thread.customer_id == app_data.customer_id, Thread.channel == "chat")
                .order_by(Thread.id)
                .limit(1)
            ).one()
        agent = resolve_assignee(db, "agent@example.com")
        add_followup(
            db, None, thread_id, "Check the invoice next week", datetime.now(UTC) + timedelta(days=7), agent
        )
    finally:
        db.engine.dispose()
    return thread_id


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_an_agent_adds_a_follow_up_and_finds_it_overdue_first(
    page, app_url: str, app_data: AppData, chat: int
) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, app_url, "agent@example.com", PASSWORD)
    page.goto(f"{app_url}/?id={app_data.customer_id}&thread={chat}")  # the chat opened in the history
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    wait_until_idle(page)
    page.get_by_text("Follow-ups", exact=True).first.click()
    page.get_by_role("textbox", name="Follow-up").fill("Ring Emma back about the refund")
    due = page.get_by_test_id("stDateInput").filter(has_text="Due").locator("input")
    due.fill((datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d"))
    due.press("Enter")
    page.keyboard.press("Escape")  # the calendar the date field opened
    page.get_by_role("button", name="Add follow-up").click()
    wait_until_idle(page)

    open_page(page, "My follow-ups", "My follow-ups")
    expect(page.get_by_text("2 follow-ups, 1 overdue")).to_be_visible()
    # Each follow-up: its line (state, due, customer) and its text, in page order.
    lines = page.get_by_test_id("stMarkdown").filter(has_text=re.compile(r"Due \d"))
    texts = page.get_by_test_id("stText")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Overdue")
    expect(lines.nth(1)).to_contain_text("Open")
    expect(texts).to_have_text(["Ring Emma back about the refund", "Check the invoice next week"])
