"""Sessions that survive a reload and links that open a place, in a real browser (Debian chromium driven
by playwright) against a real ``earshot app`` server: the signed session cookie is HttpOnly and
SameSite=Strict, a reload keeps the sign-in and the page, a link to a call at a moment opens there
after sign-in, and signing out ends what the cookie names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from review_app.session_cookie import COOKIE
from storage.db import read_scope
from storage.models import CallComment, Evaluation
from storage.quality import add_call_comment
from storage.users import authenticate
from tests.app.app_data import EMMA, PASSWORD, AppData, add_threads, open_data
from tests.app.browser import CHROMIUM, open_page, player_position, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_PLAYER = "iframe[title*='earshot_player']"
_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app_url(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db, _, _ = open_data(app_data.data_dir)  # Emma also wrote on WhatsApp, a week before her call
    try:
        assert EMMA.started_at is not None
        add_threads(db, app_data.customer_id, 1, EMMA.started_at - timedelta(days=7), ("whatsapp",))
    finally:
        db.engine.dispose()
    env = {**app_data.env(), "EARSHOT_TIMEZONE": "Europe/Amsterdam"}  # the organisation's zone
    with running_app(env, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # as the issue was seen
    context.set_default_timeout(_TIMEOUT_MS)
    yield context
    context.close()


def _session_cookie(context):  # type: ignore[no-untyped-def]
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def _wait_for_cookie(page, context):  # type: ignore[no-untyped-def]
    for _ in range(50):
        cookie = _session_cookie(context)
        if cookie is not None:
            return cookie
        page.wait_for_timeout(100)
    raise AssertionError("the browser never got the session cookie")


def _fill_sign_in(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("textbox", name="Username").fill("coach@example.com")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Signed in as coach@example.com").wait_for()


def test_a_reload_keeps_the_sign_in_and_the_page(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    cookie = _wait_for_cookie(page, context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert COOKIE not in page.evaluate("document.cookie")  # out of reach of the page's scripts

    open_page(page, "Quality", "Quality")
    page.reload()
    page.get_by_text("Signed in as coach@example.com").wait_for()
    page.get_by_role("heading", name="Quality").first.wait_for()
    assert page.url.rstrip("/").endswith("/quality")

    page.goto(f"{app_url}/?id={app_data.customer_id}")  # the first page answers at /
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    assert page.get_by_role("textbox", name="Username").count() == 0
    assert page.get_by_text("Page not found").count() == 0


def test_a_link_to_a_moment_opens_the_call_after_sign_in(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(f"{app_url}/call?id={app_data.recording_id}&t=12.5")
    _fill_sign_in(page)
    page.get_by_role("heading", name=re.compile("Emma de Vries")).first.wait_for()
    assert page.get_by_text("Page not found").count() == 0
    audio = page.frame_locator(_PLAYER).locator("audio")
    assert abs(player_position(audio, 12.5) - 12.5) < 0.2
    assert page.url.endswith(f"/call?id={app_data.recording_id}&t=12.5")

    # The coach copies "link to this moment" after pausing elsewhere; it opens the call there.
    frame = page.frame_locator(_PLAYER)
    word = app_data.transcript.utterances[3].words[0]
    frame.locator(".w").nth(sum(len(u.words) for u in app_data.transcript.utterances[:3])).click()
    frame.locator("#play").click()
    frame.locator("#play").click()  # pause: the position reaches the page
    wait_until_idle(page)
    page.get_by_role("button", name="Link to this moment").click()
    link = page.get_by_test_id("stCode").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(app_url)}/call\?id={app_data.recording_id}&t=[0-9.]+", link)
    moment = float(link.rsplit("=", 1)[1])
    assert word.start - 0.2 < moment < word.start + 2

    shared = context.new_page()  # another tab of the same browser: signed in already
    shared.goto(link)
    shared.get_by_role("heading", name=re.compile("Emma de Vries")).first.wait_for()
    shared_audio = shared.frame_locator(_PLAYER).locator("audio")
    assert abs(player_position(shared_audio, moment) - moment) < 0.2


def test_signing_out_ends_what_the_cookie_names(browser, context, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    cookie = _wait_for_cookie(page, context)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("textbox", name="Username").wait_for()
    for _ in range(50):
        if _session_cookie(context) is None:
            break
        page.wait_for_timeout(100)
    assert _session_cookie(context) is None  # the browser dropped it

    kept = browser.new_context()  # a copy kept from before the sign-out opens nothing
    try:
        kept.add_cookies([cookie])
        stale = kept.new_page()
        stale.goto(f"{app_url}/quality")
        stale.get_by_role("textbox", name="Username").wait_for(timeout=_TIMEOUT_MS)
        assert stale.get_by_text("Signed in as").count() == 0
    finally:
        kept.close()


def test_a_search_link_runs_again_with_its_filters_on_any_channel(context, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "compliance@example.com", PASSWORD)
    page.goto(f"{app_url}/search?q=refund&channel=whatsapp")
    page.get_by_text("Results 1–").first.wait_for()
    wait_until_idle(page)
    assert page.get_by_text("Results 1–2 for refund").count() == 1  # the WhatsApp thread's two messages
    channel = page.get_by_test_id("stSelectbox").first
    channel.click()
    # The list is drawn as it opens: wait for every option, not read what is there at once.
    expect(page.get_by_role("option")).to_have_text(["all", "Call", "Chat", "E-mail", "WhatsApp"])
    page.get_by_role("option", name="Chat", exact=True).click()
    page.get_by_role("button", name="Search", exact=True).click()
    # The old results stand until the new run replaces them: wait for the address it writes.
    expect(page).to_have_url(re.compile(r"/search\?q=refund&channel=chat$"))


def test_the_customer_tiles_count_every_channel(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/?id={app_data.customer_id}")  # the first page answers at /
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    page.get_by_test_id("stMetricLabel").filter(has_text="WhatsApp").wait_for()
    wait_until_idle(page)
    tiles = dict(
        zip(
            page.get_by_test_id("stMetricLabel").all_inner_texts(),
            page.get_by_test_id("stMetricValue").all_inner_texts(),
            strict=True,
        )
    )
    assert {k: tiles[k] for k in ("Calls", "Chats", "E-mail threads", "WhatsApp")} == {
        "Calls": "1",
        "Chats": "2",
        "E-mail threads": "2",
        "WhatsApp": "1",
    }


def test_a_lookup_that_finds_no_one_shows_no_one(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/?id={app_data.customer_id}")  # the first page answers at /
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    wait_until_idle(page)
    lookup = page.get_by_placeholder("Phone number in any format")
    lookup.fill("nobody-at-all@example.org")
    lookup.press("Enter")
    page.get_by_text("No customer matches").wait_for()
    wait_until_idle(page)
    assert page.get_by_role("heading", name="Emma de Vries").count() == 0
    assert page.get_by_test_id("stMetricLabel").count() == 0


def test_times_read_in_the_organisations_zone_labelled(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/call?id={app_data.recording_id}")
    page.get_by_role("heading", name=re.compile("Emma de Vries")).first.wait_for()
    wait_until_idle(page)
    # Emma called at 09:30 UTC on 6 May 2024: 11:30 summer time in Amsterdam.
    assert EMMA.started_at is not None and (EMMA.started_at.hour, EMMA.started_at.minute) == (9, 30)
    assert page.get_by_text("06 May 2024, 11:30 CEST").count() >= 1
    assert page.get_by_text("09:30").count() == 0
    assert page.get_by_text("tiny.en").count() == 0  # no jargon in the caption: the model names


def test_a_comment_is_pinned_where_writing_began(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/call?id={app_data.recording_id}&t=5")
    frame = page.frame_locator(_PLAYER)
    audio = frame.locator("audio")
    assert abs(player_position(audio, 5) - 5) < 0.2
    wait_until_idle(page)
    frame.locator("#play").click()
    page.wait_for_timeout(2500)  # playing: no pause or seek has told the page where playback is
    box = page.get_by_role("textbox", name="Comment")
    # Where playback was just before and just after the click that starts the writing: under load
    # reading the time back can take a while, so the pin is checked between the two.
    before = audio.evaluate("a => a.currentTime")
    box.click()
    began = audio.evaluate("a => a.currentTime")
    page.get_by_text(re.compile(r"Comment at 0:0[7-8]")).wait_for()
    wait_until_idle(page)
    box.fill("Promised a refund without checking the order")
    page.wait_for_timeout(2000)  # still playing while the coach writes
    assert not audio.evaluate("a => a.paused")
    page.get_by_role("button", name="Pin comment").click()
    page.get_by_text("Promised a refund without checking the order").wait_for()
    db, _, _ = open_data(app_data.data_dir)
    try:
        with read_scope(db) as session:
            pinned = session.scalars(
                select(CallComment.at_seconds).where(CallComment.text.startswith("Promised a refund"))
            ).one()
    finally:
        db.engine.dispose()
    assert before - 0.25 <= pinned <= began + 0.25  # not where the comment was pinned, 2 s on


def test_comment_times_show_whole_in_call_order(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = open_data(app_data.data_dir)
    try:
        coach = authenticate(db, "coach@example.com", PASSWORD)
        for at, text in ((31.0, "Second point: the hold was long"), (12.0, "First point: good greeting")):
            add_call_comment(db, coach, app_data.recording_id, at, text, "coaches")
    finally:
        db.engine.dispose()
    page = context.new_page()
    sign_in(page, app_url, "coach@example.com", PASSWORD)
    page.goto(f"{app_url}/call?id={app_data.recording_id}")
    page.get_by_text("Second point: the hold was long").wait_for()
    wait_until_idle(page)
    first = page.get_by_text("First point: good greeting").bounding_box()
    second = page.get_by_text("Second point: the hold was long").bounding_box()
    assert first["y"] < second["y"]  # call order, not newest first
    for moment in ("0:12", "0:31"):
        button = page.get_by_role("button", name=re.compile(moment))
        expect(button).to_be_visible(timeout=_TIMEOUT_MS)
        # The time itself, whole: a button cut to its ▶ icon is some 48 px wide and hides what overflows.
        # Awaited, not read once: on a loaded machine the side column may still be laid out.
        page.wait_for_function(
            "b => b.scrollWidth <= b.clientWidth && b.getBoundingClientRect().width > 64",
            arg=button.element_handle(),
        )


def test_adding_a_user_says_so(context, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "admin@example.com", PASSWORD)
    page.goto(f"{app_url}/admin")
    form = page.get_by_test_id("stForm").filter(has_text="Add a user")
    form.get_by_role("textbox", name="Username").fill("new.coach@example.com")
    form.get_by_role("textbox", name="Password").fill("a long enough password")
    form.get_by_role("button", name="Add user").click()
    page.get_by_text("Added new.coach@example.com as agent.").wait_for()


def test_a_search_that_fails_leaves_no_old_results_and_says_why(context, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    sign_in(page, app_url, "compliance@example.com", PASSWORD)
    page.goto(f"{app_url}/search?q=refund")
    page.get_by_text("Results 1–").first.wait_for()
    wait_until_idle(page)
    query = page.get_by_label("Search every call, chat and e-mail")
    query.fill("refund NEAR euros")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("NEAR is written NEAR(refund euros, 5)").wait_for()
    wait_until_idle(page)
    assert page.get_by_text("Results 1–").count() == 0


def test_a_link_to_an_evaluation_opens_it(context, app_url: str, app_data: AppData) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = open_data(app_data.data_dir)
    try:
        with read_scope(db) as session:
            evaluation_id = session.scalars(
                select(Evaluation.id).where(Evaluation.recording_id == app_data.recording_id)
            ).one()
    finally:
        db.engine.dispose()
    page = context.new_page()
    page.goto(f"{app_url}/quality?evaluation={evaluation_id}")
    _fill_sign_in(page)
    page.get_by_role("button", name=re.compile("Replay this call")).wait_for()
    wait_until_idle(page)
    assert page.url.endswith(f"/quality?evaluation={evaluation_id}")
    page.get_by_role("button", name=re.compile("Replay this call")).click()
    page.get_by_role("heading", name=re.compile("Emma de Vries")).first.wait_for()
