"""Page load times of the review app, measured in a real browser (Debian chromium via playwright):
a customer with 1,000 timeline items, and a one-hour call (about 9,000 words, 8 kHz mu-law stereo).

    .venv/bin/python -m bench.app_load [--runs 3]

Prints the median of the runs for each figure. The first open of a call includes converting its
mu-law audio to browser-playable PCM (once per recording; later opens use the cached file).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recorder.types import CallMetadata
from tests.app.app_data import EMMA, PASSWORD, add_call, add_threads, add_users, customer_of, open_data
from tests.app.browser import CHROMIUM, CHROMIUM_ARGS, running_app, sign_in, wait_until_idle

_TIMELINE_CALLS = 40
_TIMELINE_ITEMS = 1000
_HOUR = 3600.0
_PAGE_TIMEOUT_MS = 120_000


def build(data_dir: Path) -> tuple[int, int]:
    """Emma with 1,000 conversations (40 calls, the rest chats and e-mails) and one hour-long call."""
    db, blobs, _ = open_data(data_dir)
    try:
        add_users(db)
        first, _ = add_call(db, blobs, data_dir / "incoming", 20.0, EMMA)
        customer_id = customer_of(db, first)
        assert EMMA.started_at is not None
        for i in range(1, _TIMELINE_CALLS):
            metadata = CallMetadata(
                customer_phone=EMMA.customer_phone,
                agent="Alice",
                started_at=EMMA.started_at - timedelta(days=3 * i),
            )
            add_call(db, blobs, data_dir / "incoming", 10.0, metadata, seed=i)
        add_threads(db, customer_id, _TIMELINE_ITEMS - _TIMELINE_CALLS, EMMA.started_at)  # type: ignore[arg-type]
        long_call = CallMetadata(
            customer_name="Hour Long",
            customer_phone="+31 6 99999999",
            agent="Bob",
            started_at=datetime.now(UTC),
        )
        hour_id, transcript = add_call(db, blobs, data_dir / "incoming", _HOUR, long_call, seed=9999)
    finally:
        db.engine.dispose()
    words = sum(len(u.words) for u in transcript.utterances)
    return hour_id, words


def time_customer(page) -> float:  # type: ignore[no-untyped-def]
    box = page.get_by_placeholder("Phone number in any format")
    box.fill("06 12345678")
    start = time.perf_counter()
    box.press("Enter")
    page.get_by_role("heading", name="Emma de Vries").wait_for(timeout=_PAGE_TIMEOUT_MS)
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=_PAGE_TIMEOUT_MS)
    wait_until_idle(page, _PAGE_TIMEOUT_MS)
    return time.perf_counter() - start


def time_call(page, url: str, hour_id: int, words: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Seconds until the transcript is on screen, until the audio can play, and for a seek near
    the end of the hour to land. The call is opened by its link (as a row of the call list opens
    it), so the first figure includes loading the page."""
    start = time.perf_counter()
    page.goto(f"{url}/call?id={hour_id}")
    frame = page.frame_locator("iframe[title*='earshot_player']")
    frame.locator("#transcript").evaluate(
        "(t, n) => new Promise(r => { const f = () => t.querySelectorAll('.w').length === n ? r() : "
        "setTimeout(f, 20); f(); })",
        words,
    )
    shown = time.perf_counter() - start
    frame.locator("audio").evaluate(
        "a => new Promise(r => a.readyState >= 3 ? r() : a.addEventListener('canplay', r, {once: true}))"
    )
    playable = time.perf_counter() - start
    seek = frame.locator("#player").evaluate(
        """p => new Promise(r => {
               const a = p.querySelector('audio'); const words = p.querySelectorAll('.w');
               const t0 = performance.now();
               a.addEventListener('seeked', () => r((performance.now() - t0) / 1000), {once: true});
               words[words.length - 50].click(); })"""
    )
    return shown, playable, seek


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        started = time.perf_counter()
        hour_id, words = build(data_dir)
        print(
            f"data: {_TIMELINE_ITEMS} timeline items, one-hour call #{hour_id} with {words} words "
            f"(built in {time.perf_counter() - started:.0f} s)"
        )
        env = {
            "EARSHOT_DATA_DIR": str(data_dir),
            "EARSHOT_DATABASE_URL": f"sqlite:///{data_dir / 'earshot.db'}",
        }
        with running_app(env, Path(folder) / "streamlit.log") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            customer, calls = [], []
            for _ in range(args.runs):  # a fresh session each run: nothing kept from the run before
                context = browser.new_context(viewport={"width": 1440, "height": 1000})
                page = context.new_page()
                sign_in(page, url, "admin@example.com", PASSWORD)
                wait_until_idle(page, _PAGE_TIMEOUT_MS)
                customer.append(time_customer(page))
                calls.append(time_call(page, url, hour_id, words))
                context.close()
            browser.close()
    print(
        f"customer page, {_TIMELINE_ITEMS} timeline items: {statistics.median(customer):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in customer)})"
    )
    first = calls[0]
    print(
        f"one-hour call, first open: transcript shown {first[0]:.2f} s, audio playable {first[1]:.2f} s "
        f"(includes the one-time mu-law to PCM conversion)"
    )
    later = calls[1:] or calls
    shown = statistics.median(c[0] for c in later)
    playable = statistics.median(c[1] for c in later)
    print(f"one-hour call, later opens (median): transcript {shown:.2f} s, audio playable {playable:.2f} s")
    seek_ms = statistics.median(c[2] for c in calls) * 1000
    print(f"seek to minute ~59 by clicking a word: {seek_ms:.0f} ms (median)")


if __name__ == "__main__":
    main()
