"""The player made for coaching and calls read like chats, in a real browser (Debian chromium driven by
playwright) against a real ``earshot app`` server: a call in the customer history reads as speaker
turns whose times open the call there."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from review_app.formatting import clock
from tests.app.app_data import PASSWORD, AppData
from tests.app.browser import CHROMIUM, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_PLAYER = "iframe[title*='earshot_player']"
_TIMEOUT_MS = 60_000
_CURRENT_TIME = """a => new Promise(r => { const t = setInterval(() => {
    if (a.readyState >= 1) { clearInterval(t); r(a.currentTime); } }, 100); })"""


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})  # a laptop, as the issue says
    context.set_default_timeout(_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_call_in_the_history_reads_as_turns_that_open_the_call(
    page, app_url: str, app_data: AppData
) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/?id={app_data.customer_id}")  # the first page answers at /
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    wait_until_idle(page)
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row (the call), below the header
    bubbles = page.get_by_test_id("stChatMessage")
    utterances = app_data.transcript.utterances
    # The hand-built call alternates speakers, so each utterance is a turn of its own.
    expect(bubbles).to_have_count(len(utterances), timeout=_TIMEOUT_MS)
    wait_until_idle(page)
    for bubble, utterance in zip(bubbles.all(), utterances, strict=True):
        expect(bubble).to_contain_text(utterance.text)
        expect(bubble.get_by_role("button", name=clock(utterance.start))).to_be_visible()

    turn = utterances[3]
    bubbles.nth(3).get_by_role("button", name=clock(turn.start)).click()
    page.get_by_role("heading", name=re.compile("Emma de Vries")).first.wait_for()
    audio = page.frame_locator(_PLAYER).locator("audio")
    assert abs(audio.evaluate(_CURRENT_TIME) - turn.start) < 0.2
    assert re.search(rf"/call\?id={app_data.recording_id}&t=", page.url)
