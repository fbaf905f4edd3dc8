"""The call page's audio export through Streamlit's AppTest against a real SQLite file: the redacted
copy by default, the original only with a reason, and each export audited once with its copy."""

from __future__ import annotations

from datetime import UTC, datetime

from streamlit.testing.v1 import AppTest

from review_app.context import CallRequest
from storage import services
from storage.audit import list_audit
from storage.redaction_corrections import mark_span
from tests.app.app_data import AppData, open_data
from tests.app.test_pages import _open, _principal, _signed_in
from transcribe.redaction.stage import WordAt


def _call_page(role: str, app_data: AppData) -> AppTest:
    at = _signed_in(role)
    at.session_state["call_request"] = CallRequest(app_data.recording_id, None, 1)
    return _open(at, "views/call.py")


def _download_labels(at: AppTest) -> list[str]:
    return [e.proto.label for e in at.get("download_button")]


def _exports(app_data: AppData, since: datetime) -> list[tuple[str, str, str | None]]:
    db, _, _ = open_data(app_data.data_dir)
    try:
        rows = list_audit(db, _principal(db, "admin@example.com"), since=since)
    finally:
        db.engine.dispose()
    return [
        (r.action, r.details["copy"], r.details.get("reason"))
        for r in reversed(rows)
        if r.action.endswith("audio_exported")
    ]


def test_coaches_get_no_export_pane(app_data: AppData) -> None:
    at = _call_page("coach", app_data)
    assert "Export" not in [t.label for t in at.tabs]
    assert not [b for b in at.button if b.label == "Prepare audio"]


def test_compliance_exports_the_redacted_copy_or_with_a_reason_the_original(app_data: AppData) -> None:
    db, blobs, _ = open_data(app_data.data_dir)
    try:
        mark_span(db, blobs, app_data.recording_id, "CARD", WordAt(1, 0), WordAt(1, 1))
        copy = services.served_audio(db, app_data.recording_id, blobs)
    finally:
        db.engine.dispose()
    started = datetime.now(UTC)
    at = _call_page("compliance", app_data)
    [prepare] = [b for b in at.button if b.label == "Prepare audio"]
    prepare.click()
    at.run()
    assert not at.exception, at.exception
    name = f"call-{app_data.recording_id}-redacted.wav"
    assert _download_labels(at) == [f"Download {name}"]
    assert "The redacted copy: a tone covers what redaction found." in [c.value for c in at.caption]
    at.run()  # a rerun offers the same file and logs nothing more
    assert _exports(app_data, started) == [("audio_exported", "redacted", None)]
    assert copy.redacted

    at.checkbox(key="audio-export-original").check()
    at.run()
    at.text_input(key="audio-export-reason").input("why")
    [prepare] = [b for b in at.button if b.label == "Prepare audio"]
    prepare.click()
    at.run()
    assert any("needs a reason" in e.value for e in at.error)
    assert _download_labels(at) == []  # the earlier copy is not offered under the refusal

    at.text_input(key="audio-export-reason").input("case 77: the customer asks for the call")
    [prepare] = [b for b in at.button if b.label == "Prepare audio"]
    prepare.click()
    at.run()
    assert not at.exception, at.exception
    assert _download_labels(at) == [f"Download call-{app_data.recording_id}-original.wav"]
    assert _exports(app_data, started) == [
        ("audio_exported", "redacted", None),
        ("original_audio_exported", "original", "case 77: the customer asks for the call"),
    ]
