"""Earshot review app: sign-in, then the pages the signed-in user's role allows.

A thin router: each page is its own script under ``views/``. Run it with ``earshot app``, which
starts ``review_app/server.py`` (this app plus the audio route the player streams from).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from review_app import context, stylesheet
from review_app.navigation import PAGES, QUALITY_PAGE, PageSpec, pages_for
from review_app.safe_text import md
from review_app.session_cookie import forget_in_browser, keep_in_browser
from storage.access import Principal
from storage.disputes import count_disputes_waiting_for
from storage.errors import SignInFailed
from storage.users import authenticate, principal_for_oidc

# Shipped with the app: a ":material/..." page icon makes the browser fetch the favicon from a font CDN.
_ICON = Path(__file__).with_name("icon.png")
_WORDMARK = Path(__file__).with_name("wordmark.svg")
_ROLE_LABELS = {
    "agent": "Agent",
    "coach": "Quality coach",
    "compliance": "Compliance",
    "admin": "Administrator",
}


def main() -> None:
    st.set_page_config(page_title="Earshot", page_icon=str(_ICON), layout="wide")
    stylesheet.apply()
    # The brand above the navigation; the icon alone in the header when the sidebar is closed.
    st.logo(str(_WORDMARK), icon_image=str(_ICON), size="large")
    who = context.signed_in()
    if who is None and _oidc_configured() and st.user.is_logged_in:
        who = _oidc_principal()
    if who is None:
        st.navigation(_sign_in_pages(), position="hidden").run()
        return
    pages = [st.Page(spec.script, title=_title(spec, who), icon=spec.icon) for spec in pages_for(who)]
    page = st.navigation(pages)
    _sidebar(who)
    page.run()


def _title(spec: PageSpec, who: Principal) -> str:
    """The page's name in the menu; Quality's with how many disputes wait for this user, seen from
    every page. (The page's address comes from its file, so the count never changes a link.)"""
    if spec.script != QUALITY_PAGE:
        return spec.title
    waiting = count_disputes_waiting_for(context.database(), who)
    return f"{spec.title} ({waiting})" if waiting else spec.title


def _sign_in_pages() -> list[st.Page]:
    """The sign-in form at the app's address and at every page's, so a link (``/call?id=12&t=65``)
    keeps its address through the sign-in and then opens what it names."""
    sign_in = st.Page(_sign_in_page, title="Sign in", icon=":material/login:", default=True)
    return [sign_in] + [
        st.Page(_sign_in_page, title="Sign in", icon=":material/login:", url_path=Path(spec.script).stem)
        for spec in PAGES
    ]


def _sidebar(who: Principal) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{md(who.username)}**  \n{_ROLE_LABELS[who.role]}")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            context.sign_out()
            if _oidc_configured() and st.user.is_logged_in:
                st.logout()
            st.rerun()
        grant = context.session_grant()
        if grant is not None:
            keep_in_browser(grant)


def _sign_in_page() -> None:
    # Whatever cookie this browser holds names no open session (else it would have been resumed).
    forget_in_browser(st.session_state.setdefault("session_cookie.forgotten", context.next_serial()))
    _, middle, _ = st.columns([1, 1.2, 1])
    with middle:
        st.markdown("## :material/graphic_eq: Earshot")
        st.caption("Call recordings and transcripts in one customer history.")
        reason = st.session_state.pop("signed_out_reason", None)
        if reason:
            st.warning(reason)  # Markdown: any outside text in it is escaped where it is written
        with st.form("sign_in", border=True):
            username = st.text_input("Username", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
        if submitted:
            try:
                who = authenticate(context.database(), username, password, client=context.client_address())
                context.sign_in(who)
            except SignInFailed as error:
                st.error(f"Sign-in failed: {md(error)}.")
            else:
                st.rerun()
        if _oidc_configured():
            st.divider()
            if st.button("Sign in with single sign-on", icon=":material/key:", width="stretch"):
                st.login()


def _oidc_configured() -> bool:
    """Single sign-on shows when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's
    ``st.login``: redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _oidc_principal() -> Principal | None:
    """The account linked to the identity the provider signed in; without one, the provider's session
    is ended so the next person at this browser starts clean."""
    try:
        who = principal_for_oidc(context.database(), _claim("sub") or "", _claim("email"), _claim("name"))
    except SignInFailed as error:
        st.session_state["signed_out_reason"] = f"Single sign-on failed: {md(error)}."
        st.logout()
        return None
    context.sign_in(who)
    return who


def _claim(name: str) -> str | None:
    """A text claim of the signed-in identity; the provider may send another type, or none."""
    value = st.user.get(name)
    return value if isinstance(value, str) and value else None


main()
