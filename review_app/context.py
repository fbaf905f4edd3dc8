"""What every page shares: the database, the signed-in principal, and moving between pages.

Only plain values and frozen dataclasses from ``storage`` go into ``st.session_state``, never ORM
rows, so nothing a page keeps can lazy-load or write behind the services' back.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from pathlib import Path

import streamlit as st

from review_app.config import app_settings
from storage.access import Permission, Principal, allows
from storage.app_sessions import EndReason, end_session
from storage.blobs import BlobStore
from storage.db import Database, open_database
from storage.users import principal_is_current

__all__ = [
    "CALL_PAGE",
    "CUSTOMER_PAGE",
    "CallRequest",
    "CustomerRequest",
    "blob_store",
    "client_address",
    "database",
    "next_serial",
    "open_call",
    "open_customer",
    "principal",
    "require_page",
    "sign_in",
    "sign_out",
    "signed_in",
    "take_call_request",
    "take_customer_request",
]

CALL_PAGE = "views/call.py"
CUSTOMER_PAGE = "views/customer.py"
_PRINCIPAL = "principal"
_CALL_REQUEST = "call_request"
_CUSTOMER_REQUEST = "customer_request"
_serials = count(1)


@dataclass(frozen=True)
class CallRequest:
    """Another page asked the call page to open a call, at a moment when ``at`` is given."""

    recording_id: int
    at: float | None
    serial: int  # tells one request from the next, so the player seeks again for the same moment


def database() -> Database:
    settings = app_settings()
    return _open(settings.database_url, settings.secrets_dir)


@st.cache_resource(show_spinner=False)
def _open(url: str, secrets_dir: Path) -> Database:
    # One engine per process and URL, shared by every session: opening also migrates the schema.
    return open_database(url, secrets_dir=secrets_dir)


def blob_store() -> BlobStore:
    settings = app_settings()
    return BlobStore(settings.blobs_dir, copies=(settings.playback_dir,))


def client_address() -> str | None:
    """The address a sign-in comes from, for throttling: the browser's, or the last proxy's. Streamlit
    may not know it, and AppTest stands in an object that is no address at all."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else None


def sign_in(who: Principal) -> None:
    st.session_state[_PRINCIPAL] = who


def sign_out(reason: EndReason = "signed_out") -> None:
    """End the server-side session too, so the audio links issued in it stop working at once."""
    who = st.session_state.get(_PRINCIPAL)
    if who is not None:
        end_session(database(), who, reason)
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def signed_in() -> Principal | None:
    """The signed-in principal, if its session is open and the account unchanged: a sign-out
    elsewhere, a password change, a deactivation or a role change ends the session at its next click."""
    who = st.session_state.get(_PRINCIPAL)
    if who is None:
        return None
    if not principal_is_current(database(), who):
        sign_out("account_changed")
        st.session_state["signed_out_reason"] = (
            "Your session has ended or your account was changed; please sign in again."
        )
        return None
    return who


def principal() -> Principal:
    """The signed-in principal inside a page (the router shows no page to anyone signed out)."""
    who = st.session_state.get(_PRINCIPAL)
    if who is None:
        st.stop()
    return who


def require_page(permission: Permission) -> Principal:
    """Stop the page for a principal without ``permission``. The router hides such pages already;
    this covers a page reached by its URL, and the services check again underneath."""
    who = principal()
    if not allows(who, permission):
        st.error(f"Your role ({who.role}) does not give access to this page.")
        st.stop()
    return who


def next_serial() -> int:
    """A number never handed out before in this process: a request the player must not skip as seen."""
    return next(_serials)


def open_call(recording_id: int, at: float | None = None) -> None:
    st.session_state[_CALL_REQUEST] = CallRequest(recording_id, at, next_serial())
    st.switch_page(CALL_PAGE)


def take_call_request() -> CallRequest | None:
    return st.session_state.pop(_CALL_REQUEST, None)


@dataclass(frozen=True)
class CustomerRequest:
    """Another page asked the customer page to show a customer, and one conversation of theirs."""

    customer_id: int
    thread_id: int | None


def open_customer(customer_id: int, thread_id: int | None = None) -> None:
    st.session_state[_CUSTOMER_REQUEST] = CustomerRequest(customer_id, thread_id)
    st.switch_page(CUSTOMER_PAGE)


def take_customer_request() -> CustomerRequest | None:
    return st.session_state.pop(_CUSTOMER_REQUEST, None)
