"""Outside text never reaches a page as markup, in a real browser (Debian chromium driven by playwright).

Payloads (a script tag, ``img onerror``, ``iframe srcdoc``, ``svg onload``, a ``javascript:`` link,
a Markdown image and link) are planted in every field an outsider or a user can set: through the real
import paths (an e-mail through the e-mail importer, a chat export through the chat importer, a call
with a PBX sidecar through ingest) and through the services the pages call (a comment, a follow-up, a dispute,
a scorecard, a speaker's name, a saved search, an account). Then every page each role has is opened
where that data shows, and on each: no dialog fired, no request left 127.0.0.1, no planted element
is in the DOM (any frame), and the payloads are on the page as text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from recorder.chat_import import read_chat
from recorder.email_import import read_email
from recorder.ingest import ScanOptions, scan
from recorder.types import Recording
from review_app.navigation import PAGES
from storage import guarded, jobs, services
from storage.access import ROLE_PERMISSIONS, UserRole
from storage.blobs import BlobStore
from storage.followups import add_followup, assignee_of, conversation_of_call
from storage.quality import (
    AnswerInput,
    QuestionSpec,
    SectionSpec,
    add_call_comment,
    create_form,
    dispute_evaluation,
    save_answers,
    start_evaluation,
    submit_evaluation,
)
from storage.saved_searches import save_search
from storage.search import SearchFilters
from storage.threads_import import import_threads
from storage.users import authenticate, create_user
from tests.app.app_data import PASSWORD, AppData, hand_transcript, open_data, write_call_audio
from tests.app.browser import CHROMIUM, running_app, sign_in, wait_until_idle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_TIMEOUT_MS = 60_000
_HOSTILE_EMAIL = "hostile@example.com"
_SEARCH_WORD = "zebra"  # in every planted message text, so search finds them
_LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def payload(tag: str) -> str:
    """Every kind of markup at once, after a tag that names the field, so a page showing it as text
    shows ``tag`` followed by the literal markup."""
    return (
        f"{tag} <img src=x onerror=alert(1)> <svg onload=alert(1)> "
        '<iframe srcdoc="<script>parent.alert(1)</script>"></iframe> <script>alert(1)</script> '
        "[j](javascript:alert(1)) ![i](http://e.example/i.png)"
    )


def short_payload(tag: str) -> str:
    """For fields with a short limit (a speaker's name)."""
    return f"{tag} <img src=x onerror=alert(1)> [j](javascript:alert(1)) ![i](http://e.example/i.png)"


def shown(tag: str) -> str:
    """What a page shows of a payload planted after ``tag``: the tag and the first tag as text."""
    return f"{tag} <img src=x onerror=alert(1)>"


# A PBX or chat tool names the channel itself; 28 characters fit the column.
_CHANNEL = "<img src=x onerror=alert(1)>"
# Usernames have no spaces.
_USERNAME = "zuser<img/src=x/onerror=alert(1)>[j](javascript:alert(1))![i](//e.example/i.png)"

# In every frame: elements a payload would have planted, each described for the failure message.
_PLANTED_JS = """() => {
  const local = (url) => { try { const u = new URL(url, location.href);
    return ['data:', 'blob:', 'about:'].includes(u.protocol)
      || ['127.0.0.1', 'localhost'].includes(u.hostname);
  } catch (e) { return false; } };
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attribute of el.attributes) {
      if (/^on/i.test(attribute.name)) found.push('handler ' + el.outerHTML.slice(0, 100));
    }
  }
  for (const el of document.querySelectorAll('iframe[srcdoc]')) {
    found.push('srcdoc ' + el.outerHTML.slice(0, 100));
  }
  for (const el of document.querySelectorAll('script')) {
    if (el.textContent.includes('alert(')) found.push('script ' + el.outerHTML.slice(0, 100));
  }
  for (const el of document.querySelectorAll('a[href]')) {
    const href = el.getAttribute('href');
    if (/^\\s*javascript:/i.test(href) || (/^https?:/i.test(el.href) && !local(el.href)))
      found.push('link ' + el.outerHTML.slice(0, 100));
  }
  for (const el of document.querySelectorAll('img[src], iframe[src], video[src], audio[src], source[src]')) {
    if (!local(el.src)) found.push('fetch ' + el.outerHTML.slice(0, 100));
  }
  return found;
}"""


@pytest.fixture(scope="module")
def hostile_data(app_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> AppData:
    """The module's data with payloads planted in every field an outsider or a user can set."""
    folder = tmp_path_factory.mktemp("hostile")
    db, blobs, _ = open_data(app_data.data_dir)
    try:
        recording_id = _ingest_call(db, blobs, folder)  # first: the customer gets the PBX's name
        _import_email(db, folder)
        _import_chat(db, folder)
        _import_merge_suggestion(db, folder)
        admin = authenticate(db, "admin@example.com", PASSWORD)
        coach = authenticate(db, "coach@example.com", PASSWORD)
        agent = authenticate(db, "agent@example.com", PASSWORD)
        guarded.correct_speaker(db, coach, recording_id, "SPEAKER_01", "customer", short_payload("Zspeaker"))
        add_call_comment(db, coach, recording_id, 2.0, payload("Zcomment"))
        overdue = datetime.now(UTC) - timedelta(days=1)
        hostile_call = conversation_of_call(db, recording_id)
        add_followup(db, coach, hostile_call, payload("Zfollowup"), overdue, assignee_of(agent))
        form = create_form(
            db,
            admin,
            payload("Zform"),
            [
                SectionSpec(
                    payload("Zsection"),
                    (
                        QuestionSpec(payload("Zquestion"), critical=True),  # answered "no": auto-fail
                        QuestionSpec(payload("Zpoints"), "points", max_points=5),
                    ),
                )
            ],
        )
        # The agent disputes an evaluation of their call (Emma's, agent Alice) on the hostile form...
        evaluation = start_evaluation(db, coach, app_data.recording_id, form.id)
        questions = [q.id for s in evaluation.form.sections for q in s.questions if q.id is not None]
        save_answers(
            db,
            coach,
            evaluation.summary.id,
            {questions[0]: AnswerInput("no", payload("Zanswer")), questions[1]: AnswerInput("3")},
            coach_comment=payload("Zoverall"),
        )
        submit_evaluation(db, coach, evaluation.summary.id)
        dispute_evaluation(db, agent, evaluation.summary.id, payload("Zdispute"))
        # ...and the coach has a draft of the hostile call on it, shown while the call plays.
        start_evaluation(db, coach, recording_id, form.id)
        create_user(db, _USERNAME, PASSWORD, "compliance", display_name=payload("Zdisplay"), actor=admin)
        hostile = authenticate(db, _USERNAME, PASSWORD)
        save_search(db, hostile, payload("Zsaved"), _SEARCH_WORD, SearchFilters())
    finally:
        db.engine.dispose()
    return app_data


def _import_email(db, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """An e-mail as a mail client sends it: the display name a quoted string (RFC 5322), as typed."""
    display_name = '"' + payload("Zfrom").replace("\\", "\\\\").replace('"', '\\"') + '"'
    path = folder / "hostile.eml"
    path.write_bytes(
        (
            f"From: {display_name} <{_HOSTILE_EMAIL}>\r\n"
            "To: support@earshot.example\r\n"
            f"Subject: {payload('Zsubject')}\r\n"
            "Date: Mon, 20 May 2024 09:00:00 +0000\r\n"
            "Message-ID: <hostile-1@example.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            f"{payload('Zbody')} {_SEARCH_WORD}\r\n"
        ).encode()
    )
    import_threads(db, read_email([path], own_addresses=("support@earshot.example",)), "NL")


def _import_chat(db, folder: Path) -> None:  # type: ignore[no-untyped-def]
    conversation = {
        "id": "hostile-chat-1",
        "channel": _CHANNEL,
        "customer": {"name": payload("Zchatname"), "email": _HOSTILE_EMAIL},
        "agent": payload("Zchatagent"),
        "messages": [
            {
                "id": "1",
                "direction": "inbound",
                "author": payload("Zauthor"),
                "sent_at": "2024-05-21T10:00:00+00:00",
                "text": payload("Zchattext") + f" {_SEARCH_WORD}",
            },
            {
                "id": "2",
                "direction": "outbound",
                "author": payload("Zreply"),
                "sent_at": "2024-05-21T10:02:00+00:00",
                "text": f"Answered {_SEARCH_WORD}",
            },
        ],
    }
    path = folder / "chats.json"
    path.write_text(json.dumps({"conversations": [conversation]}), encoding="utf-8")
    import_threads(db, read_chat([path], "generic"), "NL")


def _import_merge_suggestion(db, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """A chat naming the hostile customer's e-mail and Emma's phone: a merge suggestion between the
    two, which the Compliance page lists with both names and the importer's reason."""
    conversation = {
        "id": "hostile-chat-2",
        "customer": {"email": _HOSTILE_EMAIL, "phone": "+31 6 12345678"},
        "messages": [
            {
                "id": "1",
                "direction": "inbound",
                "sent_at": "2024-05-23T10:00:00+00:00",
                "text": "Same person?",
            }
        ],
    }
    path = folder / "merge.json"
    path.write_text(json.dumps({"conversations": [conversation]}), encoding="utf-8")
    import_threads(db, read_chat([path], "generic"), "NL")


def _ingest_call(db, blobs: BlobStore, folder: Path) -> int:  # type: ignore[no-untyped-def]
    """A call whose PBX sidecar names the customer and the agent with payloads, through ingest."""
    transcript = hand_transcript(20.0)
    audio = folder / "calls" / "zfile <img src=x onerror=alert(1)>.wav"
    write_call_audio(audio, transcript, seed=7)
    audio.with_suffix(".json").write_text(
        json.dumps(
            {
                "customer": {"name": payload("Zcustomer"), "email": _HOSTILE_EMAIL},
                "agent": payload("Zagent"),
                "direction": "inbound",
                "started_at": "2024-05-22T11:00:00+00:00",
            }
        ),
        encoding="utf-8",
    )
    [recording] = list(scan([audio.parent], ScanOptions()))
    assert isinstance(recording, Recording), recording
    assert recording.sha256 == hashlib.sha256(audio.read_bytes()).hexdigest()
    result = services.ingest_recording(db, recording, blobs, "NL")
    services.save_transcript(db, result.recording_id, transcript)
    if result.job_id is not None:
        jobs.complete(db, result.job_id)
    return result.recording_id


@pytest.fixture(scope="module")
def app_url(hostile_data: AppData, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(hostile_data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


class Watch:
    """A signed-in browser page that records dialogs and requests to other hosts, and checks a page."""

    def __init__(self, browser, app_url: str) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": 1440, "height": 1100})
        self.context.set_default_timeout(_TIMEOUT_MS)
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.seen: list[str] = []  # the text of every page checked
        self.context.on("request", self._request)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.app_url = app_url

    def _request(self, request) -> None:  # type: ignore[no-untyped-def]
        host = urlsplit(request.url).hostname
        if urlsplit(request.url).scheme in ("http", "https", "ws", "wss") and host not in _LOCAL_HOSTS:
            self.outside.append(request.url)

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def every_page(self, role: UserRole) -> None:
        """Open every page the role has (the data-specific places are opened by each test)."""
        for page in PAGES:
            if page.needs in ROLE_PERMISSIONS[role]:
                self.open(page.title)
                self.check(f"{role}'s {page.title} page")

    def open(self, title: str) -> None:
        # Quality's entry counts the disputes waiting for the user: "Quality (1)".
        self.page.get_by_role("link", name=re.compile(rf"^{re.escape(title)}( \(\d+\))?$")).click()
        self.page.get_by_role("heading", name=title, exact=True).first.wait_for()
        wait_until_idle(self.page)

    def check(self, where: str, *tags: str, literal: tuple[str, ...] = ()) -> None:
        """Nothing fired, fetched or was planted so far; each tag's payload, and each ``literal``, has
        been on a page as text (this one or one before it)."""
        wait_until_idle(self.page)
        self.page.wait_for_timeout(500)  # an image's onerror fires after its failed load
        planted = [
            f"{frame.url}: {found}" for frame in self.page.frames for found in frame.evaluate(_PLANTED_JS)
        ]
        self.seen += [re.sub(r"\s+", " ", frame.locator("body").inner_text()) for frame in self.page.frames]
        text = " ".join(self.seen)
        assert not self.dialogs, f"{where}: dialogs fired: {self.dialogs}"
        assert not self.outside, f"{where}: requests left 127.0.0.1: {self.outside}"
        assert not planted, f"{where}: planted elements: {planted}"
        missing = [expected for expected in (*map(shown, tags), *literal) if expected not in text]
        assert not missing, f"{where}: not shown as text: {missing}"
        # No payload has a backslash: one on the page would be an escape shown instead of read.
        assert "\\" not in text, f"{where}: escapes shown as text: {text[text.index(chr(92)) - 80 :][:160]}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser, app_url: str) -> Iterator[Watch]:  # type: ignore[no-untyped-def]
    watching = Watch(browser, app_url)
    yield watching
    watching.close()


def _select_first_row(watch: Watch, table) -> None:  # type: ignore[no-untyped-def]
    """Tick the first row of a st.dataframe (its grid is a canvas: click the row marker)."""
    box = table.bounding_box()
    watch.page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    wait_until_idle(watch.page)


def _open_buttons(watch: Watch):  # type: ignore[no-untyped-def]
    # Only st.button's: a selectbox's own toggle is a button named "Open" too.
    return watch.page.get_by_test_id("stButton").get_by_role("button", name="Open", exact=True)


def _open_hits(watch: Watch, back_to_hits: Callable[[], None]) -> None:
    """Open each search hit that opens a conversation (chat, e-mail) and check the thread shown."""
    count = _open_buttons(watch).count()
    assert count >= 2, "the planted chat and e-mail are found"
    close = watch.page.get_by_role("button", name="Close")
    for index in range(count):
        back_to_hits()
        wait_until_idle(watch.page)
        expect(_open_buttons(watch)).to_have_count(count)
        _open_buttons(watch).nth(index).click()
        close.wait_for()
        watch.check(f"conversation {index} opened from a hit")
        # Closed before the next is opened: else its Close button would pass for the next one's
        # before that one is shown, and the check would read the previous conversation again.
        close.click()
        expect(close).to_have_count(0)  # the run that closes it has begun; until it ends, the
        wait_until_idle(watch.page)  # page may hold its old elements beside the new ones
    watch.check("conversations opened", "Zfrom", "Zsubject", "Zbody", "Zchattext", "Zauthor", "Zreply")


def _look_up_hostile_customer(watch: Watch) -> None:
    watch.open("Customers")
    watch.page.get_by_role("textbox", name="Look up a customer").fill(_HOSTILE_EMAIL)
    watch.page.keyboard.press("Enter")
    watch.page.get_by_text("Search this history").wait_for()
    wait_until_idle(watch.page)
    watch.check("customer profile", "Zcustomer")


def test_agent_pages_show_outside_markup_as_text(watch: Watch) -> None:
    sign_in(watch.page, watch.app_url, "agent@example.com", PASSWORD)
    watch.every_page("agent")
    watch.open("My follow-ups")
    watch.check("agent's follow-ups", "Zfollowup", "Zcustomer")
    _look_up_hostile_customer(watch)
    watch.page.get_by_role("tab", name="Search this history").click()
    watch.page.get_by_role("textbox", name="Words or phrases").fill(_SEARCH_WORD)
    watch.page.get_by_role("button", name="Search").click()
    _open_buttons(watch).first.wait_for()
    # Snippets are cut around the match; the channel a chat tool named shows in each chat hit's heading.
    watch.check("agent's hits", literal=(_CHANNEL.title(),))
    _open_hits(watch, lambda: watch.page.get_by_role("tab", name="Search this history").click())

    watch.open("Quality")
    _select_first_row(watch, watch.page.get_by_test_id("stDataFrame").first)
    watch.page.get_by_text("Dispute history").first.wait_for()
    watch.check(
        "agent's disputed evaluation", "Zdispute", "Zform", "Zoverall", literal=("Auto-fail: Zquestion",)
    )


def test_coach_pages_show_outside_markup_as_text(watch: Watch) -> None:
    sign_in(watch.page, watch.app_url, "coach@example.com", PASSWORD)
    watch.every_page("coach")
    _look_up_hostile_customer(watch)

    watch.open("Call list")
    watch.check("the call list, its rows", "Zcustomer", "Zagent")
    row = watch.page.locator("[data-testid='stMarkdown'] table tbody tr").filter(has_text="Zagent").first
    watch.page.goto(row.get_by_role("link").get_attribute("href"))  # the row's link, in this tab
    watch.page.get_by_role("heading", name=re.compile("Zcustomer")).first.wait_for()
    wait_until_idle(watch.page)
    watch.page.frame_locator("iframe[title*='earshot_player']").locator(".w").first.wait_for()
    watch.check(
        "call page",
        "Zcustomer",
        "Zagent",
        "Zcomment",
        "Zspeaker",
        literal=("zfile <img src=x onerror=alert(1)>.wav",),
    )
    watch.page.get_by_role("tab", name="Scorecard").click()
    watch.check("scoring a call", "Zsection", "Zquestion", "Zpoints")
    watch.page.get_by_role("tab", name="Speakers").click()
    watch.check("correcting speakers", "Zspeaker")

    watch.open("Quality")
    watch.page.get_by_test_id("stButtonGroup").get_by_text("Disputed", exact=True).click()
    wait_until_idle(watch.page)
    _select_first_row(watch, watch.page.get_by_test_id("stDataFrame").first)
    watch.page.get_by_text("Dispute history").first.wait_for()
    watch.check("coach reads the dispute", "Zdispute", "Zform", "Zoverall")
    watch.page.get_by_role("tab", name="Scorecards").click()
    watch.page.get_by_test_id("stExpander").filter(has_text="Zform").locator("summary").click()
    watch.check("scorecard forms", "Zform", "Zsection", "Zquestion")


def test_compliance_pages_show_outside_markup_as_text(watch: Watch) -> None:
    sign_in(watch.page, watch.app_url, _USERNAME, PASSWORD)
    watch.check("signed in under a hostile username", literal=(_USERNAME,))
    watch.every_page("compliance")
    watch.open("Compliance")
    watch.page.get_by_role("tab", name="Customer merges").click()
    watch.page.get_by_text(re.compile(r"^Suggestion \d+: customer")).first.wait_for()
    watch.check("merge suggestions", "Zcustomer", literal=("Emma de Vries", _HOSTILE_EMAIL))
    watch.open("Search")
    watch.page.get_by_role("button", name=re.compile("Zsaved")).click()
    _open_buttons(watch).first.wait_for()
    watch.check("search hits and saved searches", "Zsaved", "Zcustomer", "Zchatagent")
    _open_hits(watch, lambda: watch.open("Search"))


def test_admin_pages_show_outside_markup_as_text(watch: Watch) -> None:
    sign_in(watch.page, watch.app_url, "admin@example.com", PASSWORD)
    watch.every_page("admin")
    users = watch.page.get_by_test_id("stSelectbox").filter(has=watch.page.get_by_text("User", exact=True))
    users.click()
    watch.check("the list of accounts, open")
    watch.page.get_by_role("option", name=re.compile("zuser")).click()
    wait_until_idle(watch.page)
    watch.check("admin changes the hostile account")
    assert _USERNAME in users.inner_text() + users.locator("input").input_value()


def test_tables_offer_no_download_past_the_logged_export(watch: Watch) -> None:
    """st.dataframe's toolbar has its own CSV download, which no audit sees; the app turns it off."""
    sign_in(watch.page, watch.app_url, "admin@example.com", PASSWORD)
    watch.open("Audit log")
    table = watch.page.get_by_test_id("stDataFrame").first
    table.hover()
    toolbar = watch.page.get_by_test_id("stElementToolbar").first
    toolbar.wait_for()
    assert toolbar.get_by_role("button", name=re.compile("Search", re.IGNORECASE)).count() == 1
    assert toolbar.get_by_role("button", name=re.compile("Download", re.IGNORECASE)).count() == 0
