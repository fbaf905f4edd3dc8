"""Screenshots of every page of the review app, at 1366×768 (a laptop), 390×844 (a phone, device
scale 1) and 1366×768 in the browser's dark colour scheme, into ``docs/screenshots/<screen>/<page>.png``:

    .venv/bin/python -m docs.take_screenshots

from the repository root. It builds throwaway data with the browser tests' own builders
(``tests/app/app_data.py``), starts the real app (``tests/app/browser.py``'s ``running_app``, stopped
at the end), signs in as the role that sees each page, opens the page by its link and saves the
viewport once the run is idle and the page's main content shows. Debian's chromium, as the tests.
About a minute; it writes over the PNGs there.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from storage import users
from storage.quality import dispute_evaluation, list_evaluations
from tests.app.app_data import PASSWORD, AppData, add_evaluations, build_app_data, open_data
from tests.app.browser import CHROMIUM, CHROMIUM_ARGS, running_app, sign_in, wait_until_idle
from tests.app.test_compliance_page import add_merge_suggestion

OUT = Path(__file__).resolve().parent / "screenshots"
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
# Folder: (viewport, the browser's colour scheme; the app follows it).
SCREENS: dict[str, tuple[ViewportSize, Literal["light", "dark"]]] = {
    "1366x768": (LAPTOP, "light"),
    "390x844": ({"width": 390, "height": 844}, "light"),
    "1366x768-dark": (LAPTOP, "dark"),
}
_PLAYER = "iframe[title*='earshot_player']"
_TIMEOUT_MS = 120_000
_PLACEHOLDERS = "[data-testid='stSkeleton'], [data-testid='stSkeletonElement']"
# The fonts loaded (icons drawn, not their names), transitions over (a tab's underline), spinners aside.
_SETTLED = """Promise.all([document.fonts.ready, ...document.getAnimations()
    .filter(a => a.effect.getTiming().iterations !== Infinity).map(a => a.finished)])"""


def build(data_dir: Path) -> tuple[AppData, int]:
    """The browser tests' data (``tests/app/conftest.py``), a dispute of Emma's evaluation by the
    agent, and a merge suggestion; returns the data and the suggestion's id."""
    users._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # as the tests: fast
    data = build_app_data(data_dir)
    add_evaluations(data)
    db, _, _ = open_data(data_dir)
    try:
        agent = users.authenticate(db, "agent@example.com", PASSWORD)
        [evaluation] = list_evaluations(db, agent, recording_id=data.recording_id)
        dispute_evaluation(db, agent, evaluation.id, "The customer asked me not to verify again.")
    finally:
        db.engine.dispose()
    return data, add_merge_suggestion(data_dir)


def _open(path: str, heading: str | re.Pattern[str]) -> Callable[[Page, str], None]:
    def open_page(page: Page, url: str) -> None:
        page.goto(f"{url}{path}")
        page.get_by_role("heading", name=heading).first.wait_for()

    return open_page


def _then(first: Callable[[Page, str], None], *steps: Callable[[Page], None]) -> Callable[[Page, str], None]:
    def open_page(page: Page, url: str) -> None:
        first(page, url)
        for step in steps:
            wait_until_idle(page)
            step(page)

    return open_page


def _tab(name: str, shows: Callable[[Page], object]) -> Callable[[Page], None]:
    def open_tab(page: Page) -> None:
        page.get_by_role("tab", name=name).click()
        shown = shows(page)
        shown.wait_for()  # type: ignore[attr-defined]
        shown.scroll_into_view_if_needed()  # type: ignore[attr-defined]  # a phone: below the fold

    return open_tab


def _first_dispute(page: Page) -> None:
    """Tick the Disputes list's first row (the grid is a canvas: click its row marker)."""
    table = page.get_by_role("tabpanel", name="Disputes").get_by_test_id("stDataFrame")
    table.wait_for()
    wait_until_idle(page)
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    history = page.get_by_text("Dispute history").first
    history.wait_for()
    history.scroll_into_view_if_needed()


def _player(page: Page) -> None:
    frame = page.frame_locator(_PLAYER)
    frame.locator(".w").first.wait_for()
    frame.locator("#lanes .lane").first.wait_for()


def shots(data: AppData, suggestion: int) -> dict[str, dict[str, Callable[[Page, str], None]]]:
    """Per role, each page's name and how to open it."""
    emma = _open(f"/?id={data.customer_id}", "Emma de Vries")
    compliance = _open("/compliance", "Compliance")
    return {
        "coach": {
            "customers": _then(emma, lambda p: p.get_by_test_id("stDataFrame").first.wait_for()),
            "customers_who_knows": _then(
                emma,
                _tab(
                    "Who knows this customer",
                    lambda p: p.get_by_role("tabpanel", name="Who knows this customer").get_by_test_id(
                        "stDataFrame"
                    ),
                ),
            ),
            "call": _then(_open(f"/call?id={data.recording_id}", re.compile("Emma de Vries")), _player),
            "call_list": _then(
                _open("/call_list", "Call list"),
                lambda p: p.locator("[data-testid='stMarkdown'] table tbody tr").first.wait_for(),
            ),
            "quality": _open("/quality", "Quality"),
            "disputes": _then(
                _open("/quality", "Quality"),
                _tab("Disputes", lambda p: p.get_by_role("tabpanel")),
                _first_dispute,
            ),
            "team": _open("/team", "Team"),
            "followups": _open("/followups", "My follow-ups"),
            "response_times": _open("/response_times", "Response times"),
            "figures": _open("/figures", "Figures"),
        },
        "compliance": {
            "search": _then(
                _open("/search?q=refund", "Search"), lambda p: p.get_by_text("Results 1–").first.wait_for()
            ),
            "compliance": compliance,
            "compliance_merges": _then(
                compliance, _tab("Customer merges", lambda p: p.get_by_text(f"Suggestion {suggestion}:"))
            ),
            "audit": _then(
                _open("/audit", "Audit log"), lambda p: p.get_by_test_id("stDataFrame").first.wait_for()
            ),
        },
        "admin": {
            "admin": _then(
                _open("/admin", "Admin"),
                lambda p: p.get_by_test_id("stForm").filter(has_text="Add a user").wait_for(),
            ),
        },
    }


def _save(page: Page, path: Path) -> None:
    wait_until_idle(page)
    # Widgets whose code loads lazily show a grey placeholder until it has come.
    expect(page.locator(_PLACEHOLDERS)).to_have_count(0)
    assert page.viewport_size is not None
    page.mouse.move(page.viewport_size["width"] - 1, 0)  # over the empty header: nothing hovered
    page.evaluate(_SETTLED)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path)
    print(path.relative_to(OUT.parents[1]))


def _new_page(browser: Browser, viewport: ViewportSize) -> Page:
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    context.set_default_timeout(_TIMEOUT_MS)
    return context.new_page()


def main() -> None:
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        data, suggestion = build(Path(tmp) / "data")
        with running_app(data.env(), Path(tmp) / "streamlit.log") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for screen, (viewport, scheme) in SCREENS.items():
                    page = _new_page(browser, viewport)
                    page.emulate_media(color_scheme=scheme)
                    page.goto(url)
                    page.get_by_role("button", name="Sign in", exact=True).wait_for()
                    _save(page, OUT / screen / "sign_in.png")
                    page.context.close()
                for role, pages in shots(data, suggestion).items():
                    # Signed in on the laptop's screen: a phone's hides the sidebar that says so.
                    page = _new_page(browser, LAPTOP)
                    sign_in(page, url, f"{role}@example.com", PASSWORD)
                    for screen, (viewport, scheme) in SCREENS.items():
                        page.set_viewport_size(viewport)
                        page.emulate_media(color_scheme=scheme)
                        for name, open_page in pages.items():
                            open_page(page, url)
                            _save(page, OUT / screen / f"{name}.png")
                    page.context.close()
            finally:
                browser.close()
    print(f"done in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
