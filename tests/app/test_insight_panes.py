"""The call page's Summary and Insights panes and the trackers on the call list, through AppTest:
a summary line's time seeks the player, the trend is a chart, a tracker's tag shows on the call and
filters the list, and its owner sees an alert for a call transcribed after it was added."""

from __future__ import annotations

from datetime import UTC, datetime

from recorder.types import CallMetadata
from review_app.context import CallRequest
from storage.audit import list_audit
from storage.trackers import add_tracker, remove_tracker, tag_transcribed_call
from tests.app.app_data import AppData, add_call, open_data
from tests.app.test_pages import _open, _principal, _signed_in, _texts


def test_summary_and_insights_panes_and_a_tracker_on_the_call_list(app_data: AppData) -> None:
    db, blobs, _ = open_data(app_data.data_dir)
    try:
        compliance = _principal(db, "compliance@example.com")
        tracker = add_tracker(db, compliance, "Double charges", '"double charge"', notify=True)
        assert tracker.conversations >= 1  # Emma's call says it
        later = CallMetadata(customer_name="Noor Bakker", started_at=datetime(2026, 11, 30, 9, tzinfo=UTC))
        new_call, _ = add_call(db, blobs, app_data.data_dir / "incoming", 30.0, later, seed=901)
        assert tag_transcribed_call(db, new_call) == ["Double charges"]
    finally:
        db.engine.dispose()
    try:
        at = _signed_in("coach")
        at.session_state["call_request"] = CallRequest(app_data.recording_id, None, 1)
        _open(at, "views/call.py")
        texts = _texts(at)
        assert ":blue-badge[Double charges]" in texts  # the tracker's tag on the call
        assert ":gray-badge[reason]" in texts  # the customer's "I was charged twice"
        seek_buttons = [
            b for b in at.button if b.key and b.key.startswith(f"summary-{app_data.recording_id}-")
        ]
        assert seek_buttons
        seek_buttons[-1].click()
        at.run()
        assert not at.exception
        seek = at.session_state["call.seek"]
        assert seek is not None and 0 < seek.at < app_data.transcript.duration
        # Insights: a row per speaker, talk shares that add up, the trend as a Vega-Lite chart.
        [table] = [d for d in at.dataframe if "Talk share" in d.value.index]
        assert len(table.value.columns) == 2  # a column per speaker
        assert sum(int(share.rstrip("%")) for share in table.value.loc["Talk share"]) in (99, 100, 101)
        [chart] = at.get("vega_lite_chart")
        assert "Sentiment over the call" in chart.proto.spec

        # Compliance owns the tracker: the call list shows the alert, filters by the tracker.
        at = _open(_signed_in("compliance"), "views/call_list.py")
        [alerts] = [e for e in at.expander if "matched your trackers" in e.label]
        assert alerts.label.startswith("1 new call")
        assert "Noor Bakker" in _texts(at)
        at.selectbox(key="call_list.tracker").set_value(tracker.id)
        at.run()
        assert not at.exception
        table_text = next(m.value for m in at.markdown if m.value.startswith("| Call |"))
        rows = table_text.splitlines()[2:]
        assert len(rows) == tracker.conversations + 1  # Emma's and the new call, no other
        assert at.query_params.get("tracker") == str(tracker.id)
        [seen] = [b for b in at.button if b.label == "Mark all seen"]
        seen.click()
        at.run()
        assert not [e for e in at.expander if "matched your trackers" in e.label]
    finally:
        db, _, _ = open_data(app_data.data_dir)
        try:
            admin = _principal(db, "admin@example.com")
            actions = [r.action for r in list_audit(db, admin, username="coach@example.com")]
            assert "tracker_tags_viewed" in actions
            remove_tracker(db, None, "Double charges")  # the module's data is shared
        finally:
            db.engine.dispose()
