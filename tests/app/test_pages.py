"""Every page of the review app through Streamlit's AppTest, signed in through the real form against
a real SQLite file: what each role sees, what it may not open, and what the pages do."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from streamlit.testing.v1 import AppTest

from review_app.context import CallRequest
from review_app.navigation import pages_for
from review_app.safe_text import md
from storage import users
from storage.access import Principal
from storage.agents_view import list_agents
from storage.app_sessions import current_principal
from storage.assignments import Reviewer, assign_call, call_assignee
from storage.audit import list_audit
from storage.quality import list_call_comments, list_evaluations
from storage.teams import set_agent_team
from tests.app.app_data import PASSWORD, AppData, open_data
from tests.app.conftest import APP

_TIMEOUT = 60


def _signed_in(role: str, password: str = PASSWORD) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=_TIMEOUT)
    at.run()
    at.text_input[0].input(f"{role}@example.com")
    at.text_input[1].input(password)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    return "\n".join(
        [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.title]
    )


def test_sign_in_failure_shows_error_and_no_pages(app_data: AppData) -> None:
    at = AppTest.from_file(str(APP), default_timeout=_TIMEOUT)
    at.run()
    at.text_input[0].input("agent@example.com")
    at.text_input[1].input("not the password")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["Sign-in failed: unknown user or wrong password."]
    assert "principal" not in at.session_state
    assert "Signed in as" not in _texts(at)


def test_menu_follows_the_role() -> None:
    def titles(role: str) -> list[str]:
        return [p.title for p in pages_for(Principal(1, "x", role, None))]  # type: ignore[arg-type]

    assert titles("agent") == ["Customers", "My follow-ups", "Calls", "Quality", "Response times"]
    assert titles("coach") == [
        "Customers", "My follow-ups", "Calls", "Call list", "Quality", "Team", "Response times", "Figures",
    ]  # fmt: skip
    assert titles("compliance") == [
        "Customers", "My follow-ups", "Calls", "Call list", "Search", "Quality", "Team", "Response times",
        "Figures", "Audit log", "Compliance",
    ]  # fmt: skip
    assert titles("admin") == [
        "Customers", "My follow-ups", "Calls", "Call list", "Search", "Quality", "Team", "Response times",
        "Figures", "Audit log", "Compliance", "Admin",
    ]  # fmt: skip


def test_agent_navigation_leaves_out_admin_audit_and_search(app_data: AppData) -> None:
    at = _signed_in("agent")
    for page in ("views/admin.py", "views/audit.py", "views/search.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


@pytest.mark.parametrize("page", ["admin.py", "audit.py", "search.py", "team.py"])
def test_page_reached_directly_refuses_the_role(app_data: AppData, page: str) -> None:
    """The pages check the role themselves too (a page opened by its URL), and the services again."""
    at = AppTest.from_file(str(APP.parent / "views" / page), default_timeout=_TIMEOUT)
    at.session_state["principal"] = _agent_principal(app_data)
    at.run()
    assert [e.value for e in at.error] == ["Your role (agent) does not give access to this page."]


def _agent_principal(app_data: AppData) -> Principal:
    db, _, _ = open_data(app_data.data_dir)
    try:
        return _principal(db, "agent@example.com")
    finally:
        db.engine.dispose()


def test_agent_looks_customer_up_by_phone_in_any_format(app_data: AppData) -> None:
    at = _signed_in("agent")
    assert [t.value for t in at.title] == ["Customers"]
    at.text_input(key="customer.query").input("06-1234 5678")
    at.run()
    assert not at.exception
    assert "## Emma de Vries" in _texts(at)
    assert {m.label: m.value for m in at.metric} == {
        "Calls": "1",
        "Chats": "2",
        "E-mail threads": "2",
        "Last contact": "06 May 2024",
    }
    timeline = at.dataframe[0].value
    assert list(timeline["Channel"]) == ["Call", "Chat", "E-mail", "Chat", "E-mail"]
    at.text_input(key="customer.query").input("nobody@nowhere.example")
    at.run()
    assert [w.value for w in at.warning] == [f"No customer matches “{md('nobody@nowhere.example')}”."]


def test_customer_page_audits_each_read_once_however_often_it_reruns(app_data: AppData) -> None:
    started = datetime.now(UTC)
    at = _signed_in("agent")
    at.text_input(key="customer.query").input("C-1001")
    at.run()
    at.run()  # every click reruns the page
    assert "## Emma de Vries" in _texts(at)
    db, _, _ = open_data(app_data.data_dir)
    try:
        admin = _principal(db, "admin@example.com")
        rows = list_audit(db, admin, username="agent@example.com", since=started)
    finally:
        db.engine.dispose()
    assert [(r.action, r.about) for r in reversed(rows) if r.action != "sign_in"] == [
        ("customer_looked_up", "Emma de Vries"),
        ("customer_viewed", "Emma de Vries"),
        ("history_viewed", "Emma de Vries"),
        ("customer_agents_viewed", "Emma de Vries"),
        ("follow_ups_listed", "Emma de Vries"),
    ]


def test_customer_page_shows_who_knows_the_customer(app_data: AppData) -> None:
    at = _signed_in("agent")
    at.text_input(key="customer.query").input("C-1001")
    at.run()
    assert "Who knows this customer" in [t.label for t in at.tabs]
    # The timeline stays the first table; the chats and e-mails no agent took name no one.
    [known] = [d.value for d in at.dataframe if "Contacts" in d.value.columns]
    assert [tuple(row) for row in known[["Agent", "Contacts", "Channels"]].itertuples(index=False)] == [
        ("Alice", 1, "Call 1")
    ]
    assert known["Last contact"].iloc[0] == datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


def test_agent_searches_inside_one_customer(app_data: AppData) -> None:
    at = _signed_in("agent")
    at.text_input(key="customer.query").input("C-1001")
    at.run()
    at.text_input[1].input("refund")
    at.button(key="FormSubmitter:customer-search-1-Search").click()
    at.run()
    assert not at.exception
    assert any(":orange-background[refund]" in m.value for m in at.markdown)


def test_coach_opens_call_pins_comment_and_is_audited(app_data: AppData) -> None:
    at = _signed_in("coach")
    at.session_state["call_request"] = CallRequest(
        app_data.recording_id, 12.0, 1
    )  # as the customer page does
    _open(at, "views/call.py")
    assert "### Emma de Vries" in _texts(at)
    assert "Calls" in [t.value for t in at.title]
    [details] = [c.value for c in at.caption if "Agent talk share" in c.value]
    assert "Silence" in details and "Interruptions: agent" in details
    # The speakers' pane says what each role rests on.
    assert [c.value for c in at.caption].count("Role from the recording's channel") == 2
    [comment] = [t for t in at.text_area if t.label == "Comment"]
    comment.input("Good empathy here")
    [share] = [c for c in at.checkbox if c.label == "Share with the agent of this call"]
    share.check()
    at.button(key="FormSubmitter:comment-Pin comment").click()
    at.run()
    assert not at.exception
    assert "shared with the agent" in _texts(at)
    db, _, _ = open_data(app_data.data_dir)
    try:
        coach = _principal(db, "coach@example.com")
        assert [(c.text, c.visibility) for c in list_call_comments(db, coach, app_data.recording_id)] == [
            ("Good empathy here", "agent")
        ]
        admin = _principal(db, "admin@example.com")
        actions = [r.action for r in list_audit(db, admin, username="coach@example.com")]
        assert {"sign_in", "call_played", "transcript_viewed", "comment_added"} <= set(actions)
    finally:
        db.engine.dispose()
    # The call is kept in the session: more reruns do not play (and log) it again.
    at.run()
    db, _, _ = open_data(app_data.data_dir)
    try:
        again = [
            r.action
            for r in list_audit(db, _principal(db, "admin@example.com"), username="coach@example.com")
        ]
        assert again.count("call_played") == actions.count("call_played")
    finally:
        db.engine.dispose()


def test_a_coach_edits_then_deletes_their_own_comment(app_data: AppData) -> None:
    at = _signed_in("coach")
    at.session_state["call_request"] = CallRequest(app_data.recording_id, 3.0, 1)
    _open(at, "views/call.py")
    at.text_area(key="comment-text").input("Greets the customer by name")
    at.button(key="FormSubmitter:comment-Pin comment").click()
    at.run()
    db, _, _ = open_data(app_data.data_dir)
    try:
        coach = _principal(db, "coach@example.com")
        [pinned] = [
            c
            for c in list_call_comments(db, coach, app_data.recording_id)
            if c.author == coach.username and "by name" in c.text
        ]
    finally:
        db.engine.dispose()
    at.text_area(key=f"edit-text-{pinned.id}").input("Greets the customer by name, twice")
    at.button(key=f"FormSubmitter:edit-{pinned.id}-Save").click()
    at.run()
    assert not at.exception
    assert "Greets the customer by name, twice" in [t.value for t in at.text]
    assert "· edited" in _texts(at)
    at.button(key=f"delete-{pinned.id}").click()
    at.run()
    assert not at.exception
    assert not any("Greets the customer" in t.value for t in at.text)
    db, _, _ = open_data(app_data.data_dir)
    try:
        actions = [
            r.action
            for r in list_audit(db, _principal(db, "admin@example.com"), username="coach@example.com")
        ]
    finally:
        db.engine.dispose()
    assert {"comment_edited", "comment_deleted"} <= set(actions)


def test_agent_sees_own_evaluations_waiting(app_data: AppData) -> None:
    db, _, _ = open_data(app_data.data_dir)
    try:
        evaluations = list_evaluations(db, _principal(db, "agent@example.com"))
    finally:
        db.engine.dispose()
    scores = [e.score for e in evaluations if e.score is not None]
    assert len(scores) == len(evaluations) == 7  # Emma's call and six of the eight weekly calls
    listed_before = _evaluations_listed_by(app_data, "agent@example.com")
    at = _open(_signed_in("agent"), "views/quality.py")
    assert {m.label: m.value for m in at.metric} == {
        "Evaluations": "7",
        "Average score": f"{sum(scores) / len(scores):.0f}",
        "Waiting for your answer": "7",
    }
    at.run()  # a rerun draws the same evaluations: logged once
    listed = _evaluations_listed_by(app_data, "agent@example.com")
    assert len(listed) == len(listed_before) + 1
    assert sorted(listed[0]) == sorted(e.id for e in evaluations)


def _evaluations_listed_by(app_data: AppData, username: str) -> list[list[int]]:
    """The evaluation ids of each ``evaluations_listed`` row of ``username``, newest first."""
    db, _, _ = open_data(app_data.data_dir)
    try:
        rows = list_audit(
            db, _principal(db, "admin@example.com"), action="evaluations_listed", username=username
        )
    finally:
        db.engine.dispose()
    return [row.details["evaluations"] for row in rows]


def test_coach_quality_overview_and_forms(app_data: AppData) -> None:
    at = _open(_signed_in("coach"), "views/quality.py")
    assert [t.label for t in at.tabs] == ["Evaluations", "Disputes", "Agent overview", "Scorecards"]
    assert "Create scorecard" not in [b.label for b in at.button]  # defining forms is for admins
    admin = _open(_signed_in("admin"), "views/quality.py")
    assert "Create scorecard" in [b.label for b in admin.button]
    [create] = [b for b in admin.button if b.label == "Create scorecard"]
    create.click()
    admin.run()
    assert [s.value for s in admin.success] == [
        "Scorecard 'Customer call' v2 created; earlier versions are retired."
    ]


def test_compliance_searches_across_customers_and_saves(app_data: AppData) -> None:
    at = _open(_signed_in("compliance"), "views/search.py")
    at.text_input(key="search.query").input('"double charge"')
    at.selectbox(key="search.role").set_value("agent")
    at.text_input(key="search.customer").input("emma")
    at.button(key="FormSubmitter:search-Search").click()
    at.run()
    assert not at.exception
    hits = [m.value for m in at.markdown if ":orange-background[" in m.value]
    assert hits and all("Emma de Vries" in h and ":orange-background[double charge]" in h for h in hits)
    [name] = [t for t in at.text_input if t.label == "Save this search as"]
    name.input("Double charges")
    at.button(key="FormSubmitter:save-search-Save").click()
    at.run()
    assert "Double charges" in [b.label for b in at.button]
    at.text_input(key="search.query").input('"unclosed')
    at.button(key="FormSubmitter:search-Search").click()
    at.run()
    assert at.error and "quote" in at.error[0].value.lower()


def test_search_date_range_starts_empty_and_narrows_the_hits(app_data: AppData) -> None:
    at = _open(_signed_in("compliance"), "views/search.py")
    dates = at.date_input(key="search.dates")
    assert dates.value == ()  # no range: every date

    def hits(value: tuple[date, ...]) -> list[str]:
        at.date_input(key="search.dates").set_value(value)
        at.text_input(key="search.query").input('"double charge"')
        at.button(key="FormSubmitter:search-Search").click()
        at.run()
        assert not at.exception
        return [m.value for m in at.markdown if ":orange-background[" in m.value]

    assert hits((date(2024, 5, 6), date(2024, 5, 6)))  # the day of Emma's call
    assert not hits((date(2024, 5, 7), date(2024, 5, 31)))


def test_audit_page_verifies_the_chain(app_data: AppData) -> None:
    at = _open(_signed_in("compliance"), "views/audit.py")
    [verify] = [b for b in at.button if b.label == "Verify the chain"]
    verify.click()
    at.run()
    assert at.success and at.success[0].value.startswith("The chain is intact:")
    assert len(at.dataframe[0].value) > 0


def test_admin_adds_a_user_and_role_change_ends_their_session(app_data: AppData) -> None:
    at = _open(_signed_in("admin"), "views/admin.py")
    form = {t.label: t for t in at.text_input}
    form["Username (e-mail for single sign-on)"].input("dora@example.com")
    form["Password"].input("a long enough password")
    agents = at.selectbox(key="new-agent")
    assert agents.options == ["(no agent)", "Alice"]  # the agents calls named: no typing, no typos
    agents.select("Alice")
    at.button(key="FormSubmitter:add-user-Add user").click()
    at.run()
    assert not at.exception
    db, _, _ = open_data(app_data.data_dir)
    try:
        assert ("dora@example.com", "Alice") in [
            (u.username, u.agent) for u in users.list_users(db, actor=None)
        ]
        dora = _signed_in("dora", "a long enough password")  # an agent by default
        users.set_role(db, "dora@example.com", "coach", actor=None)
    finally:
        db.engine.dispose()
    dora.run()
    assert [w.value for w in dora.warning] == [
        "Your session has ended or your account was changed; please sign in again."
    ]


def _principal(db, username: str) -> Principal:  # type: ignore[no-untyped-def]
    [user] = [u for u in users.list_users(db, actor=None) if u.username == username]
    return Principal(user.id, user.username, user.role, user.agent_id)


def test_sign_out_ends_the_server_side_session(app_data: AppData) -> None:
    at = _signed_in("compliance")
    who = at.session_state["principal"]
    db, _, _ = open_data(app_data.data_dir)
    try:
        assert current_principal(db, who.session_id) == who
        at.button(key="sign_out").click()
        at.run()
        assert not at.exception
        assert current_principal(db, who.session_id) is None  # its audio links stop working too
    finally:
        db.engine.dispose()
    assert "Signed in as" not in _texts(at)


def test_sign_in_page_throttles_guessing(app_data: AppData) -> None:
    at = AppTest.from_file(str(APP), default_timeout=_TIMEOUT)
    at.run()
    for _ in range(6):  # the sixth try in 15 minutes is refused before its password is checked
        at.text_input[0].input("guessed@example.com")
        at.text_input[1].input("not the password")
        at.button[0].click()
        at.run()
    assert [e.value for e in at.error] == [  # the reason is outside text: escaped Markdown
        f"Sign-in failed: {md('too many failed sign-ins; try again in 15 minutes')}."
    ]
    assert "principal" not in at.session_state


def test_a_password_change_ends_the_session_at_the_next_click(app_data: AppData) -> None:
    at = _signed_in("compliance")
    db, _, _ = open_data(app_data.data_dir)
    try:
        users.set_password(db, "compliance@example.com", "a changed password", actor=None)
        at.run()
        assert "principal" not in at.session_state
        assert [w.value for w in at.warning] == [
            "Your session has ended or your account was changed; please sign in again."
        ]
    finally:
        users.set_password(db, "compliance@example.com", PASSWORD, actor=None)
        db.engine.dispose()


def test_coach_lists_calls_filters_and_is_audited_once_per_page(app_data: AppData) -> None:
    started = datetime.now(UTC)
    at = _open(_signed_in("coach"), "views/call_list.py")
    assert [t.value for t in at.title] == ["Call list"]
    table = next(m.value for m in at.markdown if m.value.startswith("| Call |"))
    assert f"/call?id={app_data.recording_id})" in table
    assert "Started (" in table  # the column names the time zone the times are in
    at.toggle(key="call_list.unscored").set_value(True)
    at.run()
    assert not at.exception
    unscored = next(m.value for m in at.markdown if m.value.startswith("| Call |"))
    rows = unscored.splitlines()[2:]
    assert rows and all("unscored" in row for row in rows)
    assert at.query_params.get("unscored") == "1"  # the address holds the filters
    at.run()  # a rerun reads (and logs) nothing again
    db, _, _ = open_data(app_data.data_dir)
    try:
        admin = _principal(db, "admin@example.com")
        listed = list_audit(db, admin, username="coach@example.com", since=started)
    finally:
        db.engine.dispose()
    assert [r.action for r in listed].count("calls_listed") == 2

    at.toggle(key="call_list.disputed").set_value(True)
    at.run()
    assert "No calls match these filters." in [c.value for c in at.caption]  # no dispute in this data
    assert at.query_params.get("disputed") == "1"


def test_coach_sees_the_team_sorts_filters_and_is_audited_once_per_choice(app_data: AppData) -> None:
    started = datetime.now(UTC)
    db, _, _ = open_data(app_data.data_dir)
    set_agent_team(db, "Alice", "North", actor=None)
    try:
        at = _open(_signed_in("coach"), "views/team.py")
        assert [t.value for t in at.title] == ["Team"]
        table = next(m.value for m in at.markdown if m.value.startswith("| Agent |"))
        heading, _, alice = table.splitlines()
        assert heading.startswith(
            "| Agent | Team | Calls | Scored calls | Average score | Agent talk share |"
        )
        # The default period is the four weeks up to the latest call: Alice's weekly calls of them.
        first, last = at.query_params["from"], at.query_params["to"]
        link = f"/call_list?agent={_principal(db, 'agent@example.com').agent_id}&from={first}&to={last})"
        assert alice.startswith("| [Alice](") and link in alice and "| North | 4 | 3 |" in alice
        assert all(cell.strip() for cell in alice.split("|")[1:-1])  # every figure shown, "—" when none

        at.selectbox(key="team.sort").set_value("score")
        at.selectbox(key="team.order").set_value("Descending")
        at.selectbox(key="team.team").set_value("North")
        at.run()
        assert not at.exception, at.exception
        assert dict(at.query_params) | {"from": "", "to": ""} == {
            "team": "North", "from": "", "to": "", "sort": "score", "order": "desc"
        }  # fmt: skip
        assert any(m.value.startswith("| Agent |") and "Alice" in m.value for m in at.markdown)
        at.run()  # a rerun reads (and logs) nothing again
        admin = _principal(db, "admin@example.com")
        viewed = [r for r in list_audit(db, admin, username="coach@example.com", since=started)]
    finally:
        set_agent_team(db, "Alice", None, actor=None)
        db.engine.dispose()
    assert [r.details["team"] for r in viewed if r.action == "team_viewed"] == ["North", None]  # newest first


def test_admin_puts_an_agent_in_a_team(app_data: AppData) -> None:
    at = _open(_signed_in("admin"), "views/admin.py")
    assert [t.label for t in at.tabs] == ["Users and roles", "Teams", "Contact reasons", "Settings"]
    assert at.selectbox(key="team-agent").format_func(at.selectbox(key="team-agent").value) == "Alice"
    at.text_input(key="team-name").input("North")
    [save] = [b for b in at.button if b.label == "Save team"]
    save.click()
    at.run()
    assert not at.exception, at.exception
    db, _, _ = open_data(app_data.data_dir)
    try:
        teams = {a.name: a.team for a in list_agents(db, _principal(db, "admin@example.com"))}
        assert teams["Alice"] == "North"
    finally:
        set_agent_team(db, "Alice", None, actor=None)
        db.engine.dispose()


def test_call_list_narrows_to_a_team_and_says_it_in_the_address(app_data: AppData) -> None:
    db, _, _ = open_data(app_data.data_dir)
    set_agent_team(db, "Alice", "North", actor=None)
    try:
        at = _open(_signed_in("coach"), "views/call_list.py")
        assert at.selectbox(key="call_list.team").options == ["Any team", "North"]
        at.selectbox(key="call_list.team").set_value("North")
        at.run()
        assert not at.exception, at.exception
        assert at.query_params.get("team") == "North"
        table = next(m.value for m in at.markdown if m.value.startswith("| Call |"))
        assert all("Alice" in row for row in table.splitlines()[2:])
    finally:
        set_agent_team(db, "Alice", None, actor=None)
        db.engine.dispose()


def test_a_coach_assigns_a_call_and_lists_their_own_and_the_flagged(app_data: AppData) -> None:
    at = _signed_in("coach")
    at.session_state["call_request"] = CallRequest(app_data.recording_id, None, 1)
    _open(at, "views/call.py")
    picker = at.selectbox(key=f"assignee-{app_data.recording_id}")
    # Accounts that may score, never agents (another test of this module adds a user).
    assert picker.options[0] == "Nobody" and "agent@example.com" not in picker.options
    assert {"admin@example.com", "coach@example.com", "compliance@example.com"} <= set(picker.options)
    picker.set_value(at.session_state["principal"].user_id)
    at.button(key=f"assign-{app_data.recording_id}").click()
    at.run()
    assert not at.exception, at.exception
    db, _, _ = open_data(app_data.data_dir)
    try:
        coach = _principal(db, "coach@example.com")
        assert call_assignee(db, coach, app_data.recording_id) == Reviewer(coach.user_id, coach.username)

        _open(at, "views/call_list.py")
        at.toggle(key="call_list.mine").set_value(True)
        at.run()
        assert not at.exception, at.exception
        assert at.query_params.get("mine") == "1"
        table = next(m.value for m in at.markdown if m.value.startswith("| Call |"))
        assert table.splitlines()[0].endswith("| Assigned to |")
        [row] = table.splitlines()[2:]
        assert f"/call?id={app_data.recording_id})" in row and row.endswith(f"| {md('coach@example.com')} |")

        at.toggle(key="call_list.mine").set_value(False)
        at.toggle(key="call_list.flagged").set_value(True)
        at.run()
        assert "No calls match these filters." in [c.value for c in at.caption]  # nothing flagged here
        assert at.query_params.get("flagged") == "1" and "mine" not in at.query_params
        assigned = [
            r.details
            for r in list_audit(db, _principal(db, "admin@example.com"))
            if r.action == "call_assigned"
        ]
        assert assigned[0]["coach"] == "coach@example.com"
    finally:
        assign_call(db, coach, app_data.recording_id, None)
        db.engine.dispose()
