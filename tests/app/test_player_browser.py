"""The review app in a real browser (Debian chromium driven by playwright): the player seeks to a
clicked word, the highlight follows playback, the position reaches the page, the audio route
answers range requests and refuses altered links; and a screenshot of each page for the record
(in $EARSHOT_SCREENSHOTS, else in the test's temporary folder)."""

from __future__ import annotations

import itertools
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from review_app.formatting import clock
from review_app.waveform import WaveformSettings
from tests.app.app_data import PASSWORD, AppData
from tests.app.browser import CHROMIUM, open_page, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_PLAYER = "iframe[title*='earshot_player']"
_TIMEOUT_MS = 60_000
_SHORT_LINK_S = 15
# Streamlit's own options, as environment variables: dark base and colours over the app's light ones.
_DARK_THEME = {
    "STREAMLIT_THEME_BASE": "dark",
    "STREAMLIT_THEME_BACKGROUND_COLOR": "#0e1117",
    "STREAMLIT_THEME_SECONDARY_BACKGROUND_COLOR": "#262730",
    "STREAMLIT_THEME_TEXT_COLOR": "#fafafa",
}
# Per pixel column of the waveform: how many pixels are drawn above and below its centre line.
_COLUMN_INK = """(c, fraction) => {
    const x = Math.min(c.width - 1, Math.floor(fraction * c.width));
    const data = c.getContext('2d').getImageData(x, 0, 1, c.height).data;
    let above = 0, below = 0;
    for (let y = 0; y < c.height; y++) {
        if (data[4 * y + 3] > 64) { if (y < c.height / 2) above++; else below++; }
    }
    return [above, below, c.height / 2];
}"""


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(app_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def short_link_app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server on the same data whose audio links live seconds, not minutes."""
    env = {**app_data.env(), "EARSHOT_AUDIO_LINK_SECONDS": str(_SHORT_LINK_S)}
    with running_app(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def dark_app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A third server on the same data whose app runs in Streamlit's dark theme."""
    env = {**app_data.env(), **_DARK_THEME}
    with running_app(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _open_call(page, app_url: str):  # type: ignore[no-untyped-def]
    """Emma's call, opened from the call list: its row's link, followed in this tab."""
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    # The page's first run puts its address's filters into the widgets: typing before it ends is lost.
    open_page(page, "Call list", "Call list")
    wait_until_idle(page)
    customer = page.get_by_role("textbox", name="Customer")
    customer.fill("Emma de Vries")
    customer.press("Enter")
    rows = page.locator("[data-testid='stMarkdown'] table tbody tr")
    expect(rows).to_have_count(1, timeout=_TIMEOUT_MS)  # the unfiltered list holds her call too
    assert "Emma de Vries" in rows.inner_text()
    page.goto(rows.get_by_role("link").get_attribute("href"))
    page.get_by_role("heading", name=re.compile("Emma de Vries")).first.wait_for()
    wait_until_idle(page)
    frame = page.frame_locator(_PLAYER)
    frame.locator(".w").first.wait_for()
    return frame


def test_click_seeks_to_the_word_and_the_highlight_follows(page, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    starts = [w.start for u in app_data.transcript.utterances for w in u.words]
    frame = _open_call(page, app_url)
    assert frame.locator(".w").count() == len(starts)
    audio = frame.locator("audio")
    audio.evaluate("a => new Promise(r => a.readyState >= 1 ? r() : a.addEventListener('loadedmetadata', r))")

    frame.locator(".w").nth(40).click()
    assert abs(audio.evaluate("a => a.currentTime") - starts[40]) < 0.1
    expect(frame.locator(".w.active")).to_have_attribute("data-i", "40")  # drawn on the next frame

    frame.locator("#play").click()
    page.wait_for_timeout(2000)
    for _ in range(20):  # the highlight moves on animation frames, which a loaded machine delays
        now, active, paused = frame.locator("#player").evaluate(
            """p => { const a = p.querySelector('audio'); const w = p.querySelector('.w.active');
                      return [a.currentTime, w ? Number(w.dataset.i) : -1, a.paused]; }"""
        )
        expected = max(i for i, start in enumerate(starts) if start <= now)
        if active in (expected, expected - 1):
            break
        page.wait_for_timeout(50)
    assert not paused and now > starts[40] + 1.0
    assert active in (expected, expected - 1) and active > 40

    frame.locator("#play").click()  # pause: the position goes back to the page for a comment
    at = audio.evaluate("a => a.currentTime")
    page.get_by_text(f"Comment at {clock(at)}").first.wait_for()  # .first: a rerun may still show the old one

    box = frame.locator("#strip").bounding_box()
    frame.locator("#strip").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    assert abs(audio.evaluate("a => a.currentTime") - app_data.transcript.duration / 2) < 0.5

    src = app_url + audio.get_attribute("src")
    request = urllib.request.Request(src, headers={"Range": "bytes=1000-1999"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 206
        assert response.headers["Content-Type"] == "audio/wav"
        assert response.headers["Content-Range"].startswith("bytes 1000-1999/")
        assert len(response.read()) == 1000
    altered = src[:-1] + ("0" if src[-1] != "0" else "1")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(altered, timeout=30)
    assert refused.value.code == 403


def test_the_waveform_shows_each_side_and_seeks(page, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    transcript = app_data.transcript
    frame = _open_call(page, app_url)
    wave = frame.locator("#wave")
    expect(wave).to_have_attribute("data-buckets", str(WaveformSettings().buckets))
    assert wave.get_attribute("data-rows") == "2"  # the stereo call: one side above, one below
    turns = [u for u in transcript.utterances if u.end - u.start > 1.0]
    assert len(turns) >= 4
    for turn in turns:
        above, below, half = wave.evaluate(_COLUMN_INK, (turn.start + turn.end) / 2 / transcript.duration)
        # The agent's channel is drawn above the line, the customer's below; the other side is quiet.
        loud, quiet = (above, below) if turn.speaker == "SPEAKER_00" else (below, above)
        assert loud >= 0.6 * half and quiet <= 3, (turn, above, below)
    gaps = [(a.end, b.start) for a, b in itertools.pairwise(transcript.utterances) if b.start - a.end > 0.4]
    assert gaps
    for start, end in gaps:
        above, below, _ = wave.evaluate(_COLUMN_INK, (start + end) / 2 / transcript.duration)
        assert above + below <= 4, (start, end, above, below)

    audio = frame.locator("audio")
    audio.evaluate("a => new Promise(r => a.readyState >= 1 ? r() : a.addEventListener('loadedmetadata', r))")
    box = wave.bounding_box()
    wave.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    assert abs(audio.evaluate("a => a.currentTime") - transcript.duration * 0.25) < 0.5
    expect(frame.locator("#played")).not_to_have_css("width", "0px")


def _luminance(css_color: str) -> float:
    """Of a computed colour: ``rgb(r, g, b)`` in 0-255, or ``color(srgb r g b)`` (a color-mix) in 0-1."""
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css_color.removeprefix("color(srgb"))[:3])
    scale = 1 if css_color.startswith("color(") else 255
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / scale


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_player_follows_the_apps_theme(browser, app_url: str, dark_app_url: str, theme: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, color_scheme=theme)
    context.set_default_timeout(_TIMEOUT_MS)
    try:
        frame = _open_call(context.new_page(), dark_app_url if theme == "dark" else app_url)
        page = context.pages[0]
        app_background = page.locator("[data-testid='stApp']").evaluate(
            "e => getComputedStyle(e).backgroundColor"
        )
        player = frame.locator("#player")
        expect(player).to_have_css("background-color", app_background)  # the theme arrives with a render
        text, wave = player.evaluate(
            """p => [getComputedStyle(p).color, getComputedStyle(p.querySelector('#wave')).color]"""
        )
        if theme == "dark":
            assert _luminance(app_background) < 0.2 and _luminance(text) > 0.8
            assert frame.locator("html").get_attribute("data-theme") == "dark"
        else:
            assert _luminance(app_background) > 0.9 and _luminance(text) < 0.3
        # The waveform is drawn between the text and the background, whichever way round they are.
        assert min(_luminance(text), _luminance(app_background)) < _luminance(wave)
        assert _luminance(wave) < max(_luminance(text), _luminance(app_background))
    finally:
        context.close()


def test_playback_outlives_its_audio_link(page, short_link_app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    starts = [w.start for u in app_data.transcript.utterances for w in u.words]
    frame = _open_call(page, short_link_app_url)
    audio = frame.locator("audio")
    first = audio.get_attribute("src")
    audio.evaluate("a => new Promise(r => a.readyState >= 1 ? r() : a.addEventListener('loadedmetadata', r))")
    frame.locator("#play").click()

    # Four fifths into the link's life the player asks the page for a fresh link and keeps playing.
    renewed = audio.evaluate(
        """(a, first) => new Promise(r => { const t = setInterval(() => {
               const src = a.getAttribute('src');
               if (src !== first) { clearInterval(t); r(src); } }, 200); })""",
        first,
    )
    page.wait_for_timeout(1500)
    now, paused = audio.evaluate("a => [a.currentTime, a.paused]")
    assert not paused and now > _SHORT_LINK_S * 0.8
    assert frame.locator("#status").is_hidden()

    page.wait_for_timeout(int(_SHORT_LINK_S * 1000 * 0.3))  # the first link has expired by now
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(short_link_app_url + first, timeout=30)
    assert refused.value.code == 403
    frame.locator(".w").nth(5).click()  # seeking after the first link's end still plays
    page.wait_for_timeout(1000)
    now, paused = audio.evaluate("a => [a.currentTime, a.paused]")
    assert not paused and starts[5] < now < starts[5] + 3
    assert audio.get_attribute("src") != first and renewed != first
    assert frame.locator("#status").is_hidden()


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_screenshot_of_every_page(browser, app_url: str, app_data: AppData, tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    """Each page on a 1366x768 laptop and on a phone, reached by its link (the session survives)."""
    folder = Path(os.environ.get("EARSHOT_SCREENSHOTS") or tmp_path) / f"{size[0]}x{size[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_timeout(_TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, app_url, "admin@example.com", PASSWORD)
        page.get_by_placeholder("Phone number in any format").fill("06 12345678")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Emma de Vries").first.wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(folder / "customers.png"), full_page=True)

        page.goto(f"{app_url}/call?id={app_data.recording_id}&t=20")
        page.get_by_role("heading", name="Calls").first.wait_for()
        wait_until_idle(page)
        page.frame_locator(_PLAYER).locator(".w").first.wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(folder / "call.png"), full_page=True)

        page.goto(f"{app_url}/search?q=refund+NOT+voucher")
        page.get_by_text("Results 1–").first.wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(folder / "search.png"), full_page=True)

        page.goto(f"{app_url}/quality")
        page.get_by_role("tab", name="Agent overview").click()
        page.get_by_text("Interruptions by agent").first.wait_for()
        page.wait_for_timeout(2500)
        page.screenshot(path=str(folder / "quality.png"), full_page=True)

        page.goto(f"{app_url}/audit")
        page.get_by_role("button", name="Verify the chain").click()
        page.get_by_text("The chain is intact").first.wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(folder / "audit.png"), full_page=True)

        page.goto(f"{app_url}/admin")
        page.get_by_text("Add a user").first.wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(folder / "admin.png"), full_page=True)

        context.clear_cookies()
        page.goto(app_url)
        page.get_by_role("button", name="Sign in", exact=True).first.wait_for()
        page.wait_for_timeout(500)
        page.screenshot(path=str(folder / "sign_in.png"))
    finally:
        context.close()
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(
        ["admin.png", "audit.png", "call.png", "customers.png", "quality.png", "search.png", "sign_in.png"]
    )
