# ruff: noqa: E501
"""An agent's player in a real browser (Debian chromium via playwright) plays the call's redacted
copy, never the original: the bytes the player's link fetches are the copy with a tone where
the marked words were, and the original stays refused to the agent's sign-in."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher
from playwright.sync_api import expect
from sqlalchemy import select

from review_app.waveform import served_waveform
from storage import guarded, services, users
from storage.app_sessions import current_principal
from storage.db import read_scope
from storage.errors import PermissionDenied
from storage.models import AppSession, AuditEntry, User
from storage.redaction_corrections import mark_span
from tests.app.app_data import PASSWORD, AppData, build_app_data, open_data
from tests.app.browser import CHROMIUM, running_app, sign_in, wait_until_idle
from transcribe.audio import decode
from transcribe.redaction.stage import WordAt
from transcribe.types import SAMPLE_RATE

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium (see README)"
)

_PLAYER = "iframe[title*='earshot_player']"


@pytest.fixture(scope="module")
def redacted_call(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppData, str]]:
    """The app's demo call with the customer's first five words redacted by a reviewer's mark
    (the redacted audio copy is rendered from the real call audio)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        data = build_app_data(tmp_path_factory.mktemp("app") / "data")
    db, blobs, _ = open_data(data.data_dir)
    customer = next(
        u
        for u, utterance in enumerate(data.transcript.utterances)
        if u > 0 and utterance.speaker != data.transcript.utterances[0].speaker
    )
    mark_span(db, blobs, data.recording_id, "CARD", WordAt(customer, 0), WordAt(customer, 4))
    copy = services.served_audio(db, data.recording_id, blobs)
    assert copy.redacted
    db.engine.dispose()
    yield data, copy.sha256


@pytest.fixture(scope="module")
def app_url(redacted_call, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data, _ = redacted_call
    with running_app(data.env(), tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


def test_the_agents_player_plays_the_redacted_copy_and_the_original_is_refused(
    page, app_url: str, redacted_call
) -> None:  # type: ignore[no-untyped-def]
    data, copy_sha = redacted_call
    sign_in(page, app_url, "agent@example.com", PASSWORD)
    page.get_by_placeholder("Phone number in any format").fill("06 12345678")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    wait_until_idle(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the selection cell of the first row: the call
    page.get_by_role("button", name="Open in player").first.click()
    wait_until_idle(page)
    frame = page.frame_locator(_PLAYER)
    frame.locator(".w").first.wait_for()
    placeholders = frame.locator(".w", has_text="[CARD]")
    assert placeholders.count() == 5  # the player's words show the placeholders, not the words

    played = frame.locator("audio").evaluate(
        """async a => { const bytes = await (await fetch(a.src)).arrayBuffer();
               const digest = await crypto.subtle.digest('SHA-256', bytes);
               return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join(''); }"""
    )
    db, blobs, _ = open_data(data.data_dir)
    try:
        assert played == copy_sha  # the redacted copy, byte for byte
        original = services.recording_audio_path(db, data.recording_id, blobs)
        assert played != hashlib.sha256(original.read_bytes()).hexdigest()
        spans = services.redacted_spans(db, data.recording_id)
        covered = decode(services.served_audio(db, data.recording_id, blobs).path).samples
        middle = slice(int(spans[0].start * SAMPLE_RATE) + 800, int(spans[0].end * SAMPLE_RATE) - 800)
        spectrum = np.abs(np.fft.rfft(covered[0, middle]))
        assert abs(np.argmax(spectrum) * SAMPLE_RATE / (2 * (len(spectrum) - 1)) - 1000) < 10

        # The agent's own sign-in, as the browser holds it, is refused the original.
        with read_scope(db) as session:
            session_id = session.scalar(
                select(AppSession.id)
                .join(User, User.id == AppSession.user_id)
                .where(User.username == "agent@example.com")
                .order_by(AppSession.id.desc())
            )
        agent = current_principal(db, session_id)
        assert agent is not None and agent.role == "agent"
        # The player's waveform is drawn from what it plays: the redacted copy, not the original.
        replay = guarded.replay_call(db, agent, data.recording_id, blobs)
        assert replay.audio_sha256 == copy_sha
        playback = data.data_dir / "playback"
        drawn = served_waveform(replay.audio_path, replay.audio_sha256, playback)
        assert drawn is not None and drawn != served_waveform(
            original, hashlib.sha256(original.read_bytes()).hexdigest(), playback
        )
        with pytest.raises(PermissionDenied, match="read unredacted"):
            guarded.fetch_original_audio(db, agent, data.recording_id, blobs, "I would like to hear it")
    finally:
        db.engine.dispose()


def test_compliance_downloads_the_redacted_copy_and_with_a_reason_the_original(
    page, app_url: str, redacted_call
) -> None:  # type: ignore[no-untyped-def]
    data, copy_sha = redacted_call
    sign_in(page, app_url, "compliance@example.com", PASSWORD)
    page.goto(f"{app_url}/call?id={data.recording_id}")
    page.get_by_role("heading", name="Emma de Vries").first.wait_for()
    wait_until_idle(page)
    page.get_by_role("tab", name="Export").click()

    redacted = _prepare_and_download(page, f"call-{data.recording_id}-redacted.wav")
    assert hashlib.sha256(redacted).hexdigest() == copy_sha

    page.get_by_text("Original audio, not the redacted copy").click()
    wait_until_idle(page)
    page.get_by_role("textbox", name="Why the original is needed").fill("case 31: the court asks for it")
    page.get_by_role("textbox", name="Why the original is needed").press("Enter")
    wait_until_idle(page)
    unredacted = _prepare_and_download(page, f"call-{data.recording_id}-original.wav")
    db, blobs, _ = open_data(data.data_dir)
    try:
        stored = services.recording_audio_path(db, data.recording_id, blobs).read_bytes()
        with read_scope(db) as session:
            reasons = [
                (action, details.get("reason"))
                for action, details in session.execute(
                    select(AuditEntry.action, AuditEntry.details)
                    .where(AuditEntry.username == "compliance@example.com")
                    .order_by(AuditEntry.id.desc())
                )
                if action.endswith("audio_exported")
            ]
    finally:
        db.engine.dispose()
    assert unredacted == stored
    assert reasons == [
        ("original_audio_exported", "case 31: the court asks for it"),
        ("audio_exported", None),
    ]  # newest first: each export once, whatever the reruns


def _prepare_and_download(page, file_name: str) -> bytes:  # type: ignore[no-untyped-def]
    """Click "Prepare audio", then the download it offers (named ``file_name``): the file's bytes."""
    page.get_by_role("button", name="Prepare audio").click()
    wait_until_idle(page)
    button = page.get_by_role("button", name=f"Download {file_name}")
    expect(button).to_be_visible(timeout=60_000)
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == file_name
    data = Path(download.value.path()).read_bytes()
    wait_until_idle(page)
    return data
