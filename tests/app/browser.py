"""The real app in a real browser, for the browser test and the load benchmark: ``earshot app``'s
server (``review_app/server.py``) started with ``streamlit run`` on a free port, and Debian's
chromium driven by playwright (never ``playwright install``: the system browser is used)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
REPO = Path(__file__).resolve().parents[2]
_START_TIMEOUT_S = 60
# A selectbox whose list did not open, or a menu link whose page did not come (twice as long), is
# clicked again after this long, at most this many times.
_OPEN_WAIT_MS = 5_000
_OPEN_TRIES = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_app(env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    """The review app serving the given data; yields its base URL and stops it afterwards."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "review_app" / "server.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(
        f"streamlit did not answer within {_START_TIMEOUT_S} s: {log_path.read_text()[-2000:]}"
    )


def sign_in(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Open the app and sign in through its form; returns once the first page's run has ended (what
    is typed into a page still running can be reset by it)."""
    page.goto(base_url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=30_000)
    wait_until_idle(page)


def wait_until_idle(page, timeout_ms: float | None = None) -> None:  # type: ignore[no-untyped-def]
    """Wait for the current script run to end. Until it does, elements it replaced (such as a player
    keyed by another call) may still be in the page beside their replacements."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=timeout_ms)


# The player's position once it has reached ``want`` (the page seeks after the audio's metadata has
# loaded, so a read at that moment can still say 0), or where it is after 30 s.
_POSITION_NEAR = """(a, want) => new Promise(r => {
    const began = Date.now();
    const t = setInterval(() => {
        if (a.readyState >= 1 && (Math.abs(a.currentTime - want) < 0.2 || Date.now() - began > 30000)) {
            clearInterval(t);
            r(a.currentTime);
        }
    }, 100);
})"""


def player_position(audio, want: float) -> float:  # type: ignore[no-untyped-def]
    """The player's ``audio`` position, waited for until it is within 0.2 s of ``want`` (30 s at most)."""
    return float(audio.evaluate(_POSITION_NEAR, want))


def open_page(page, link: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    """Open the page the menu's ``link`` leads to and wait for its ``heading`` and the end of its run.
    A click during a run that redraws the page may be lost (in CI, a click on "My follow-ups" right
    after a form's rerun left the page as it was for 60 s): the link is clicked again while the
    heading has not come. What is typed while the page's first run goes on can be lost too (a
    customer filled in as the call list's run ended never reached the server)."""
    wait_until_idle(page)
    page.get_by_role("link", name=link, exact=True).click()
    shown = page.get_by_role("heading", name=heading).first
    for _ in range(_OPEN_TRIES):
        try:
            shown.wait_for(timeout=_OPEN_WAIT_MS * 2)
            break
        except PlaywrightTimeoutError:
            page.get_by_role("link", name=link, exact=True).click()
    shown.wait_for()
    wait_until_idle(page)


def choose(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``option`` in the selectbox labelled ``label``, and wait for the run it starts. A run
    still drawing the page first: it may redraw the selectbox and close the list just opened."""
    wait_until_idle(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    wanted = page.get_by_role("option", name=option, exact=True)
    box.click()
    for _ in range(_OPEN_TRIES):
        try:
            wanted.wait_for(timeout=_OPEN_WAIT_MS)
            break
        except PlaywrightTimeoutError:
            # In CI, right after an expander opened, a click focused the box without opening its
            # list (a second click opened it); a list that is open but slow is left to come.
            if not page.get_by_role("listbox").count():
                box.click()
    wanted.click()
    wait_until_idle(page)
