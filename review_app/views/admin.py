"""Admin: accounts and roles, agents' teams, contact reasons, and the settings this app runs with."""

from __future__ import annotations

import dataclasses

import streamlit as st

from review_app import context
from review_app.config import app_settings
from review_app.formatting import zoned_column
from review_app.reasons_admin import reasons_admin
from review_app.safe_text import md, show_error
from storage.access import USER_ROLES, Permission
from storage.agents_view import list_agents
from storage.errors import InvalidValue, NotFound, PermissionDenied
from storage.limits import TEAM_MAX_CHARS
from storage.teams import set_agent_team
from storage.users import MIN_PASSWORD_LENGTH, create_user, list_users, set_active, set_password, set_role

_ADDED = "admin.added"  # the confirmation of an account just added, shown after the rerun
_AGENT_HELP = (
    "Links the account to the PBX agent whose calls are theirs. Agents appear here once a call names "
    "them; `earshot user add/role --agent NAME --new-agent` links one before their first call."
)


def _agent_label(name: str | None) -> str:
    return "(no agent)" if name is None else name


who = context.require_page(Permission.MANAGE_USERS)
db = context.database()

st.title("Admin")
users_tab, teams_tab, reasons_tab, settings_tab = st.tabs(
    ["Users and roles", "Teams", "Contact reasons", "Settings"]
)

with users_tab:
    people = list_users(db, actor=who)
    agent_choices: list[str | None] = [None, *(agent.name for agent in list_agents(db, who))]
    st.dataframe(
        [
            {
                "Username": u.username,
                "Name": u.display_name or "",
                "Role": u.role,
                "Agent": u.agent or "",
                "Active": u.active,
                "Password": u.has_password,
                "SSO": u.oidc_linked,
                "Created": u.created_at,
            }
            for u in people
        ],
        hide_index=True,
        width="stretch",
        column_config={"Created": zoned_column("Created", "D MMM YYYY")},
    )
    add_column, change_column = st.columns(2, gap="large")
    with add_column, st.form("add-user", clear_on_submit=True):
        st.markdown("**Add a user**")
        username = st.text_input("Username (e-mail for single sign-on)")
        display_name = st.text_input("Name")
        role = st.selectbox("Role", USER_ROLES, key="new-role")
        agent_name = st.selectbox(
            "PBX agent", agent_choices, format_func=_agent_label, help=_AGENT_HELP, key="new-agent"
        )
        password = st.text_input(
            "Password",
            type="password",
            help=f"At least {MIN_PASSWORD_LENGTH} characters; empty: single sign-on only.",
        )
        if st.form_submit_button("Add user", type="primary", icon=":material/person_add:"):
            try:
                created = create_user(
                    db,
                    username,
                    password or None,
                    role,
                    display_name.strip() or None,
                    agent_name,
                    actor=who,
                )
            except (InvalidValue, PermissionDenied) as error:
                show_error(error)
            else:
                # Said after the rerun that lists the new account: a message shown before it is lost.
                st.session_state[_ADDED] = f"Added {md(created.username)} as {created.role}."
                st.rerun()
        added = st.session_state.pop(_ADDED, None)
        if added:
            st.success(added)
    with change_column:
        st.markdown("**Change a user**")
        if people:
            person = st.selectbox(
                "User", people, format_func=lambda u: f"{u.username} ({u.role})", key="change-user"
            )
            with st.form("change-role"):
                new_role = st.selectbox("Role", USER_ROLES, index=USER_ROLES.index(person.role))
                new_agent = st.selectbox(
                    "PBX agent",
                    agent_choices,
                    index=agent_choices.index(person.agent) if person.agent in agent_choices else 0,
                    format_func=_agent_label,
                    help=_AGENT_HELP,
                )
                if st.form_submit_button("Save role", icon=":material/badge:"):
                    try:
                        set_role(db, person.username, new_role, new_agent, actor=who)
                    except (InvalidValue, NotFound, PermissionDenied) as error:
                        show_error(error)
                    else:
                        st.rerun()
            with st.form("change-password", clear_on_submit=True):
                new_password = st.text_input("New password", type="password")
                if st.form_submit_button("Set password", icon=":material/password:"):
                    try:
                        set_password(db, person.username, new_password, actor=who)
                    except (InvalidValue, NotFound, PermissionDenied) as error:
                        show_error(error)
                    else:
                        st.success(f"Password of {md(person.username)} changed.")
            label = "Deactivate account" if person.active else "Reactivate account"
            if st.button(label, icon=":material/block:" if person.active else ":material/check_circle:"):
                try:
                    set_active(db, person.username, not person.active, actor=who)
                except (InvalidValue, NotFound, PermissionDenied) as error:
                    show_error(error)
                else:
                    st.rerun()

with teams_tab:
    agents = list_agents(db, who)
    st.dataframe(
        [{"Agent": a.name, "Team": a.team or "", "Calls": a.calls} for a in agents],
        hide_index=True,
        width="stretch",
    )
    if agents:
        with st.form("set-team"):
            agent = st.selectbox("PBX agent", agents, format_func=lambda a: a.name, key="team-agent")
            team = st.text_input("Team", max_chars=TEAM_MAX_CHARS, help="Empty: in no team.", key="team-name")
            if st.form_submit_button("Save team", icon=":material/groups:"):
                try:
                    set_agent_team(db, agent.name, team, actor=who)
                except (InvalidValue, PermissionDenied) as error:
                    show_error(error)
                else:
                    st.rerun()
    else:
        st.caption("Agents appear here once a call names them.")

with reasons_tab:
    reasons_admin(db, who)

with settings_tab:
    settings = app_settings()
    st.caption(
        "From defaults, the config file (earshot.toml in the data folder, or $EARSHOT_CONFIG) and "
        "EARSHOT_* environment variables. Change them there and restart `earshot app`."
    )
    values = {
        field.name: getattr(settings, field.name)
        for field in dataclasses.fields(settings)
        if field.repr  # the Hugging Face token is kept out of repr, and out of this page
    }
    st.dataframe(
        [{"Setting": name, "Value": "" if value is None else str(value)} for name, value in values.items()],
        hide_index=True,
        width="stretch",
    )
