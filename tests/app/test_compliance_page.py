"""The Compliance page through Streamlit's AppTest, signed in through the real form against a real
SQLite file (this module's own prepared data folder): a hold placed, its release asked for by one
compliance user and refused to the same user, approved by a second; an erasure previewed, refused
while held, then confirmed by typing the customer's id; admins see but change nothing."""

from __future__ import annotations

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from recorder.threads import IdentityRef
from review_app.safe_text import md
from storage import users
from storage.merge_review import pending_suggestions
from storage.models import AuditEntry, Customer, LegalHold
from storage.threads_import import ImportBatch, import_threads
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.test_pages import _open, _signed_in
from tests.integration.test_customer_history import _chat

PAGE = "views/compliance.py"


def _as(role_or_name: str) -> AppTest:
    return _open(_signed_in(role_or_name), PAGE)


def _click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> list[str]:
    return [e.value for e in (*at.success, *at.error, *at.text)]


def _erasure_preview(at: AppTest, customer: str) -> AppTest:
    at.text_input(key="erase.customer").input(customer)
    return _click(at, "FormSubmitter:erasure-preview-Preview erasure")


def test_a_hold_stops_the_erasure_until_a_second_compliance_user_approves_its_release(
    app_data: AppData,
) -> None:
    db, _, _ = open_data(app_data.data_dir)
    users.create_user(db, "second@example.com", PASSWORD, "compliance", actor=None)
    customer = str(app_data.customer_id)

    first = _as("compliance")
    first.radio(key="hold.kind").set_value("customer")
    first.text_input(key="hold.customer").input(customer)
    first.text_input(key="hold.reason").input("Case **7** <b>bold</b>")
    _click(first, "FormSubmitter:place-hold-Place hold")
    [hold_id] = db.engine.connect().execute(select(LegalHold.id)).scalars().all()
    assert first.dataframe[0].value["Reason"].tolist() == ["Case **7** <b>bold</b>"]  # as typed, no markup

    _erasure_preview(first, customer)
    assert "The erasure was refused." in _texts(first)
    assert any(f"hold {hold_id} (customer {customer}: Case **7** <b>bold</b>)" in t for t in _texts(first))

    first.selectbox(key="hold.release").select_index(0)
    first.run()
    _click(first, "hold.ask")
    assert "Release asked for; another compliance user must approve it." in _texts(first)
    _click(first, "hold.approve")
    assert "Approving the release was refused." in _texts(first)
    assert any("a different compliance user must approve it" in t for t in _texts(first))

    second = _as("second")
    assert "awaiting a second compliance user" in second.dataframe[0].value["State"].iloc[0]
    second.selectbox(key="hold.release").select_index(0)
    second.run()
    _click(second, "hold.approve")
    assert f"Hold {hold_id} released." in _texts(second)

    _erasure_preview(second, customer)
    [counts] = [d.value for d in second.dataframe if "What" in d.value.columns]
    assert dict(zip(counts["What"], counts["Count"], strict=True))["Customers"] == 1
    assert second.button(key="erase.go").disabled  # not until the id is typed
    second.text_input(key="erase.confirm").input(customer)
    second.run()
    _click(second, "erase.go")
    assert any(t.startswith(f"Customer {customer} erased:") for t in _texts(second))
    with db.sessionmaker() as session:
        assert session.get(Customer, app_data.customer_id) is None
    coach = _open(_signed_in("coach"), "views/quality.py")  # the call's evaluation stays listed
    calls = coach.dataframe[0].value["Call"]
    assert calls.isna().sum() == 1 and len(calls) > 1
    with db.sessionmaker() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    for action in (
        "hold_placed",
        "hold_release_requested",
        "hold_released",
        "deletion_previewed",
        "data_deleted",
    ):
        assert action in actions
    db.engine.dispose()


def test_the_hold_form_asks_only_what_its_kind_needs(app_data: AppData) -> None:
    db, _, _ = open_data(app_data.data_dir)
    holds_before = db.engine.connect().execute(select(LegalHold.id)).scalars().all()
    at = _as("compliance")
    assert "No holds stand." in [c.value for c in at.caption]  # no empty grid
    inputs = {w.key for w in (*at.text_input, *at.number_input, *at.date_input)}
    assert "hold.customer" in inputs and not {"hold.call", "hold.query", "hold.from"} & inputs

    at.radio(key="hold.kind").set_value("call")
    at.run()
    assert at.number_input(key="hold.call").value is None  # not a made-up call 0
    assert "hold.customer" not in {w.key for w in at.text_input}
    at.text_input(key="hold.reason").input("Case 8")
    _click(at, "FormSubmitter:place-hold-Place hold")
    assert "Placing the hold was refused." in _texts(at)  # no call named: said, nothing placed
    assert db.engine.connect().execute(select(LegalHold.id)).scalars().all() == holds_before
    db.engine.dispose()


def test_admins_see_holds_and_policies_but_no_controls(app_data: AppData) -> None:
    at = _as("admin")
    assert [t.label for t in at.tabs] == ["Legal holds", "Retention", "Customer merges"]
    assert not [b for b in at.button if b.key in ("hold.ask", "hold.approve", "erase.go", "retention.apply")]
    assert "compliance users place holds" in " ".join(c.value for c in at.caption)


def test_compliance_sets_a_policy_previews_and_applies_it_after_confirming(app_data: AppData) -> None:
    at = _as("compliance")
    at.text_input(key="policy.channel").input("call")
    at.number_input(key="policy.days").set_value(1)
    at.selectbox(key="policy.deletes").set_value("audio")
    _click(at, "FormSubmitter:set-policy-Save policy")
    policies = [d.value for d in at.dataframe if "Keep days" in d.value.columns]
    assert [(row["Covers"], row["Keep days"], row["Then delete"]) for _, row in policies[0].iterrows()] == [
        ("call", 1, "audio")
    ]

    _click(at, "retention.preview")
    [audio] = [d.value for d in at.dataframe if "What" in d.value.columns][1:]
    would = dict(zip(audio["What"], audio["Count"], strict=True))["Calls"]
    assert would > 0
    assert at.button(key="retention.apply").disabled  # not before the box is ticked
    at.checkbox(key="retention.confirm").check()
    at.run()
    _click(at, "retention.apply")
    assert f"Retention applied: 0 conversation(s) deleted, audio of {would} call(s) deleted." in _texts(at)


def add_merge_suggestion(data_dir: object) -> int:
    """Two new customers (a phone's, an e-mail's) and a chat naming both: a pending suggestion."""
    db, _, _ = open_data(data_dir)  # type: ignore[arg-type]
    try:
        phone, email = IdentityRef("phone", "+31 6 22223333"), IdentityRef("email", "dup*e@example.org")
        import_threads(db, ImportBatch((_chat("merge-a", [phone]), _chat("merge-b", [email])), ()), "NL")
        import_threads(db, ImportBatch((_chat("merge-c", [email, phone]),), ()), "NL")
        [review] = [r for r in pending_suggestions(db, None) if "dup*e@example.org" in r.suggestion.reason]
        return review.suggestion.id
    finally:
        db.engine.dispose()


def test_compliance_accepts_a_merge_suggestion_and_undoes_the_merge(app_data: AppData) -> None:
    suggestion = add_merge_suggestion(app_data.data_dir)
    at = _as("compliance")
    assert "Customer merges" in [t.label for t in at.tabs]
    shown = [m.value for m in at.markdown]
    assert any(v.startswith(f"**Suggestion {suggestion}**") for v in shown)
    # The importer's reason as plain text; the e-mail's "*" escaped wherever it is Markdown.
    assert any("dup*e@example.org" in t.value for t in at.text)
    assert any(md("dup*e@example.org") in c.value for c in at.caption)
    _click(at, f"suggestion.accept.{suggestion}")
    assert f"Suggestion {suggestion} accepted: merged." in _texts(at)
    [undo] = [str(b.key) for b in at.button if b.key and b.key.startswith("merge.undo.")]
    merge_id = int(undo.rsplit(".", 1)[1])
    assert not [b for b in at.button if b.key == f"suggestion.accept.{suggestion}"]
    _click(at, undo)
    assert any(t.startswith(f"Merge {merge_id} undone") for t in _texts(at))
    assert [b for b in at.button if b.key == f"suggestion.accept.{suggestion}"]  # pending again
    db, _, _ = open_data(app_data.data_dir)
    with db.sessionmaker() as session:
        actions = [
            a
            for (a,) in session.execute(
                select(AuditEntry.action).where(AuditEntry.username == "compliance@example.com")
            )
        ]
    db.engine.dispose()
    assert {"merge_suggestions_listed", "customers_merged", "customer_merge_undone"} <= set(actions)
