"""A dispute in a real browser (Debian chromium driven by playwright) against a real ``earshot app``
server: the agent disputes an evaluation, the coach sees the count in the menu and the dispute in the
Disputes tab and re-scores it with a message, and the agent sees that answer waiting and replies.
The data: Emma's call, scored yes / no / n.a. by the coach (``tests/app/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from storage.disputes import dispute_history
from storage.quality import get_evaluation, list_evaluations
from storage.users import authenticate
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.browser import CHROMIUM, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000
_DISPUTE = "The customer asked me <b>not</b> to verify again"
_REASON = "Agreed on identity; the problem was solved, so it scores after all"


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


def _new_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(_TIMEOUT_MS)
    return context.new_page()


def _emmas_evaluation(app_data: AppData) -> int:
    db, _, _ = open_data(app_data.data_dir)
    try:
        coach = authenticate(db, "coach@example.com", PASSWORD)
        return list_evaluations(db, coach, recording_id=app_data.recording_id)[0].id
    finally:
        db.engine.dispose()


def _open_first_dispute(page):  # type: ignore[no-untyped-def]
    """The Disputes tab with its list's first row ticked (the grid is a canvas: click the row
    marker); returns the tab, the place to look (the other tab may show the same evaluation)."""
    page.get_by_role("tab", name="Disputes").click()
    tab = page.get_by_role("tabpanel", name="Disputes")
    table = tab.get_by_test_id("stDataFrame")
    table.wait_for()
    wait_until_idle(page)
    box = table.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    _shown(tab.get_by_text("Dispute history"))
    wait_until_idle(page)
    return tab


def _messages(place):  # type: ignore[no-untyped-def]
    """The exchange's messages: what was sent, not what a text box still holds while a run redraws."""
    return place.get_by_test_id("stChatMessage")


def _shown(locator) -> None:  # type: ignore[no-untyped-def]
    expect(locator).to_be_visible(timeout=_TIMEOUT_MS)


def _type(place, label: str, text: str) -> None:  # type: ignore[no-untyped-def]
    box = place.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Control+Enter")  # a text area sends its value on Ctrl+Enter (or when it loses focus)
    wait_until_idle(box.page)


def test_agent_disputes_coach_rescores_agent_replies(browser, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    evaluation_id = _emmas_evaluation(app_data)

    agent = _new_page(browser)
    sign_in(agent, app_url, "agent@example.com", PASSWORD)
    agent.goto(f"{app_url}/quality?evaluation={evaluation_id}")  # a link to the evaluation
    _type(agent, "Your comment", _DISPUTE)
    agent.get_by_role("button", name="Dispute").click()
    _shown(agent.get_by_text("Dispute history"))
    _shown(_messages(agent).filter(has_text=_DISPUTE))  # as text: the tags show, nothing is bold
    _shown(agent.get_by_role("link", name="Quality", exact=True))  # nothing waits for her

    coach = _new_page(browser)
    sign_in(coach, app_url, "coach@example.com", PASSWORD)
    coach.get_by_role("link", name="Quality (1)", exact=True).click()  # the count shows on every page
    _shown(coach.get_by_text("1 dispute waiting for you"))
    tab = _open_first_dispute(coach)
    _shown(_messages(tab).filter(has_text=_DISPUTE))
    _type(tab, "Your message to the agent", _REASON)
    tab.get_by_test_id("stExpander").filter(has_text="Re-score").locator("summary").click()
    points = tab.get_by_test_id("stNumberInput").filter(has_text="Solves the problem").locator("input")
    points.fill("4")
    points.press("Enter")
    wait_until_idle(coach)
    _shown(tab.get_by_text("70 / 100").first)  # the new score, before it is saved
    tab.get_by_test_id("stButton").get_by_role("button", name="Re-score").click()
    _shown(tab.get_by_text("re-scored the evaluation"))
    _shown(_messages(tab).filter(has_text=_REASON))
    _shown(coach.get_by_role("link", name="Quality", exact=True))  # now the agent's turn

    agent.reload()
    agent.get_by_role("link", name="Quality (1)", exact=True).click()
    tab = _open_first_dispute(agent)
    _shown(tab.get_by_text("re-scored the evaluation"))
    _shown(_messages(tab).filter(has_text=_REASON))
    _type(tab, "Your reply", "Thank you")
    tab.get_by_role("button", name="Send reply").click()
    _shown(_messages(tab).filter(has_text="Thank you"))
    _shown(agent.get_by_role("link", name="Quality", exact=True))
    wait_until_idle(agent)

    db, _, _ = open_data(app_data.data_dir)
    try:
        who = authenticate(db, "coach@example.com", PASSWORD)
        summary = get_evaluation(db, who, evaluation_id).summary
        kinds = [(m.kind, m.author) for m in dispute_history(db, who, evaluation_id)]
    finally:
        db.engine.dispose()
    assert (summary.status, round(summary.score or 0)) == ("disputed", 70)
    assert kinds == [
        ("dispute", "agent@example.com"),
        ("rescore", "coach@example.com"),
        ("reply", "agent@example.com"),
    ]
