"""The player made for coaching and calls read like chats, in a real browser (Debian chromium driven by
playwright) against a real ``earshot app`` server: keys pressed on the page (not in the player) drive
it, volume and mute work, speaker lanes show who speaks when and seek, long silences are skipped, a
laptop screen shows a dozen transcript lines with the player whole in view, and a call in the
customer history reads as speaker turns whose times open the call there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from recorder.types import CallMetadata
from review_app.formatting import clock, speaker_turns
from review_app.player import JUMP_SECONDS, SKIP_SILENCES_OVER
from tests.app.app_data import PASSWORD, AppData, add_call, customer_of, open_data
from tests.app.browser import CHROMIUM, open_page, player_position, running_app, sign_in, wait_until_idle
from transcribe.types import Transcript

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_PLAYER = "iframe[title*='earshot_player']"
_TIMEOUT_MS = 120_000  # the machine running the tests may be loaded
_LONG_CALL_SECONDS = 400.0
_PAUSE = SKIP_SILENCES_OVER + 1.0  # between turns of the long call: silences the player skips
NOAH = CallMetadata(
    customer_name="Noah Jansen",
    customer_phone="+31 6 87654321",
    agent="Alice",
    direction="outbound",
    started_at=datetime(2024, 5, 7, 14, 0, tzinfo=UTC),
)


@pytest.fixture(scope="module")
def long_call(app_data: AppData) -> tuple[int, Transcript]:
    """Minutes, a pause of ``_PAUSE`` seconds between the turns: more lines than a screen holds, more
    turns than the customer history shows at first."""
    db, blobs, _ = open_data(app_data.data_dir)
    try:
        return add_call(
            db, blobs, app_data.data_dir / "incoming", _LONG_CALL_SECONDS, NOAH, seed=7, gap=_PAUSE
        )
    finally:
        db.engine.dispose()


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
    assert abs(player_position(audio, turn.start) - turn.start) < 0.2
    assert re.search(rf"/call\?id={app_data.recording_id}&t=", page.url)


def test_a_long_call_in_the_history_shows_its_first_turns_then_all(
    page, app_url: str, app_data: AppData, long_call
) -> None:  # type: ignore[no-untyped-def]
    recording_id, transcript = long_call
    db, _, _ = open_data(app_data.data_dir)
    try:
        customer_id = customer_of(db, recording_id)
    finally:
        db.engine.dispose()
    turns = speaker_turns(transcript)
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/?id={customer_id}")
    page.get_by_role("heading", name="Noah Jansen").first.wait_for()
    wait_until_idle(page)
    box = page.get_by_test_id("stDataFrame").first.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the only row: the call
    more = page.get_by_role("button", name=f"Show all {len(turns)} turns")
    more.wait_for()
    wait_until_idle(page)
    bubbles = page.get_by_test_id("stChatMessage")
    shown = bubbles.count()
    assert 0 < shown < len(turns)
    more.click()
    expect(bubbles).to_have_count(len(turns), timeout=_TIMEOUT_MS)
    expect(bubbles.last).to_contain_text(turns[-1].text)
    expect(more).to_have_count(0)


def _open_call(page, app_url: str, recording_id: int, at: float):  # type: ignore[no-untyped-def]
    """The call at ``at`` seconds, by its link, its audio ready; focus on the page, not the player."""
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/call?id={recording_id}&t={at}")
    page.get_by_role("heading", name=re.compile("Noah Jansen")).first.wait_for()
    frame = page.frame_locator(_PLAYER)
    frame.locator(".w").first.wait_for()
    wait_until_idle(page)
    assert abs(player_position(frame.locator("audio"), at) - at) < 0.2
    _focus_page(page)
    return frame


def _focus_page(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("heading", name="Calls").click()
    assert page.evaluate("document.activeElement.tagName") in ("BODY", "MAIN")  # not the player's frame


def _expect_time(audio, expected: float) -> None:  # type: ignore[no-untyped-def]
    expect(audio).to_have_js_property("currentTime", expected)


def test_keys_pressed_on_the_page_drive_the_player(page, app_url: str, long_call) -> None:  # type: ignore[no-untyped-def]
    recording_id, _ = long_call
    frame = _open_call(page, app_url, recording_id, 30)
    audio = frame.locator("audio")

    page.keyboard.press("l")
    _expect_time(audio, 30 + JUMP_SECONDS)
    page.keyboard.press("j")
    _expect_time(audio, 30)
    page.wait_for_timeout(1000)  # the seek reaches the page: a rerun renders the player again
    wait_until_idle(page)
    page.keyboard.press("l")  # once: the rerun added no second handler
    _expect_time(audio, 30 + JUMP_SECONDS)

    page.keyboard.press("k")
    expect(audio).to_have_js_property("paused", False)
    page.keyboard.press("k")
    expect(audio).to_have_js_property("paused", True)
    wait_until_idle(page)

    speed = frame.locator("#speed")
    page.keyboard.press(">")
    expect(audio).to_have_js_property("playbackRate", 1.25)
    page.keyboard.press("Shift+.")
    expect(audio).to_have_js_property("playbackRate", 1.5)
    for _ in range(4):
        page.keyboard.press("<")
    expect(audio).to_have_js_property("playbackRate", 0.75)  # the slowest: no further
    expect(speed).to_have_value("0.75")

    mute = frame.locator("#mute")
    page.keyboard.press("m")
    expect(audio).to_have_js_property("muted", True)
    expect(mute).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("m")
    expect(audio).to_have_js_property("muted", False)
    frame.locator("#volume").fill("0.3")
    expect(audio).to_have_js_property("volume", 0.3)
    mute.click()
    expect(audio).to_have_js_property("muted", True)
    mute.click()
    expect(audio).to_have_js_property("muted", False)
    _focus_page(page)

    # Keys typed into a text box are text, not shortcuts.
    position = audio.evaluate("a => a.currentTime")
    box = page.get_by_role("textbox", name="Comment")
    box.click()
    page.keyboard.type("jkl")
    expect(box).to_have_value("jkl")
    assert audio.evaluate("a => [a.currentTime, a.paused]") == [position, True]
    box.fill("")
    wait_until_idle(page)

    # C: to the comment box (from another tab too), the comment pinned at the current moment.
    page.get_by_role("tab", name="Scorecard").click()
    wait_until_idle(page)
    _focus_page(page)
    page.keyboard.press("c")
    expect(box).to_be_focused()
    expect(box).to_have_value("")
    expect(page.get_by_text(f"Comment at {clock(position)}")).to_be_visible()

    # On another page the keys are the page's again: nothing of the gone player swallows them.
    open_page(page, "Customers", "Customers")
    expect(page.locator(_PLAYER)).to_have_count(0)
    page.evaluate("() => { window.seenKeys = []; addEventListener('keydown', e => seenKeys.push(e.key)); }")
    page.get_by_role("heading", name="Customers").first.click()
    page.keyboard.press("k")
    assert page.evaluate("window.seenKeys") == ["k"]


def test_speaker_lanes_show_who_speaks_when_and_seek(page, app_url: str, long_call) -> None:  # type: ignore[no-untyped-def]
    recording_id, transcript = long_call
    frame = _open_call(page, app_url, recording_id, 0)
    lanes = frame.locator("#lanes .lane")
    expect(lanes).to_have_count(len(transcript.speakers))
    colors = set()
    for index, speaker in enumerate(transcript.speakers):
        lane = lanes.nth(index)
        turns = [u for u in transcript.utterances if u.speaker == speaker.label]
        expect(lane.locator(".turn")).to_have_count(len(turns))
        left = lane.locator(".turn").first.evaluate("t => parseFloat(t.style.left)")
        assert abs(left - 100 * turns[0].start / _LONG_CALL_SECONDS) < 0.01
        colors.add(lane.locator(".turn").first.evaluate("t => getComputedStyle(t).backgroundColor"))
    assert len(colors) == len(transcript.speakers)  # a colour per speaker

    customer_lane = lanes.nth(1)
    box = customer_lane.bounding_box()
    customer_lane.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    at = frame.locator("audio").evaluate("a => a.currentTime")
    assert abs(at - 0.75 * _LONG_CALL_SECONDS) < 2 * _LONG_CALL_SECONDS / box["width"]  # within 2 px
    playhead = frame.locator("#playhead").evaluate("p => parseFloat(p.style.left)")
    assert abs(playhead - 75) < 0.5


def test_skipping_silences_jumps_over_a_pause(page, app_url: str, long_call) -> None:  # type: ignore[no-untyped-def]
    recording_id, transcript = long_call
    before, after = transcript.utterances[2], transcript.utterances[3]
    assert after.start - before.end > SKIP_SILENCES_OVER
    frame = _open_call(page, app_url, recording_id, round(before.end - 0.5, 1))
    frame.locator("#skip").check()
    frame.locator("#play").click()
    # Where playback is at every frame for 2.5 s: without skipping it would still be in the pause.
    seen = frame.locator("audio").evaluate(
        """a => new Promise(r => { const seen = []; const t0 = performance.now();
               (function tick() { seen.push(a.currentTime);
                 if (performance.now() - t0 < 2500) requestAnimationFrame(tick); else r(seen); })(); })"""
    )
    assert max(seen) > after.start
    inside = [t for t in seen if before.end + 0.3 < t < after.start - 0.3]
    assert not inside, f"played the silence: {inside[:5]}"


def test_a_laptop_screen_shows_a_dozen_lines_and_the_whole_player(page, app_url: str, long_call) -> None:  # type: ignore[no-untyped-def]
    recording_id, _ = long_call
    frame = _open_call(page, app_url, recording_id, 0)
    page.wait_for_timeout(500)  # the player fits itself to the window after the page's layout
    measured = frame.locator("#transcript").evaluate(
        """t => { const box = t.getBoundingClientRect();
             const frameTop = window.frameElement.getBoundingClientRect().top;
             const lines = new Set();
             for (const w of t.querySelectorAll('.w')) {
               const r = w.getBoundingClientRect();
               const inView = frameTop + r.bottom <= window.parent.innerHeight;
               if (r.top >= box.top && r.bottom <= box.bottom && inView) lines.add(Math.round(r.top));
             }
             const page = document.scrollingElement;
             return { lines: lines.size, frameBottom: window.frameElement.getBoundingClientRect().bottom,
                      window: window.parent.innerHeight, scrolls: t.scrollHeight > t.clientHeight,
                      frameScrolls: page.scrollHeight > page.clientHeight }; }"""
    )
    assert measured["lines"] >= 12, measured
    assert measured["frameBottom"] <= measured["window"], measured  # no page scrolling to reach it
    assert measured["scrolls"] and not measured["frameScrolls"], measured  # the transcript scrolls, alone
    main = page.get_by_test_id("stMain").evaluate("m => m.scrollHeight - m.clientHeight")
    assert main <= 1, main  # and the page does not scroll as well: one scrollbar
