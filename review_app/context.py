"""What every page shares: the database, the signed-in principal, and moving between pages.

Only plain values and frozen dataclasses from ``storage`` go into ``st.session_state``, never ORM
rows, so nothing a page keeps can lazy-load or write behind the services' back.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from review_app.audio_links import signing_key
from review_app.config import app_settings
from review_app.session_cookie import COOKIE, grant_for, resumed_principal
from storage.access import Permission, Principal, allows
from storage.app_sessions import EndReason, end_session
from storage.blobs import BlobStore
from storage.db import Database, open_database
from storage.users import principal_is_current

__all__ = [
    "CALL_LIST_PAGE",
    "CALL_PAGE",
    "CUSTOMER_PAGE",
    "CallRequest",
    "CustomerRequest",
    "address_of",
    "blob_store",
    "client_address",
    "database",
    "link_request",
    "next_serial",
    "open_call",
    "open_customer",
    "principal",
    "require_page",
    "session_grant",
    "show_in_address",
    "sign_in",
    "sign_out",
    "signed_in",
    "take_call_request",
    "take_customer_request",
]

CALL_PAGE = "views/call.py"
CALL_LIST_PAGE = "views/call_list.py"
CUSTOMER_PAGE = "views/customer.py"
_PRINCIPAL = "principal"
_CALL_REQUEST = "call_request"
_CUSTOMER_REQUEST = "customer_request"
_GRANT = "session_grant"  # what the browser trades for the session cookie (review_app.session_cookie)
_ADDRESSES = "addresses"  # page -> the query its address holds, as the page wrote or took it
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
    return settings.blob_store()


def client_address() -> str | None:
    """The address a sign-in comes from, for throttling: the browser's, or the last proxy's. Streamlit
    may not know it, and AppTest stands in an object that is no address at all."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else None


def sign_in(who: Principal) -> None:
    """Keep ``who`` for this browser tab, and have the browser keep the session for reloads and links."""
    st.session_state[_PRINCIPAL] = who
    st.session_state[_GRANT] = grant_for(signing_key(app_settings()), who)


def session_grant() -> str | None:
    """The grant for the session cookie issued at this tab's sign-in (none for a resumed session)."""
    return st.session_state.get(_GRANT)


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
        who = resumed_principal(database(), signing_key(app_settings()), _session_cookie())
        if who is not None:
            st.session_state[_PRINCIPAL] = who  # a reload, or a link opened in another tab
        return who
    if not principal_is_current(database(), who):
        sign_out("account_changed")
        st.session_state["signed_out_reason"] = (
            "Your session has ended or your account was changed; please sign in again."
        )
        return None
    return who


def _session_cookie() -> str | None:
    """The session cookie the browser sent when this tab connected (AppTest stands in no cookies)."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) else None


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


def audited_reads(action: str) -> set[int]:
    """The ids this session has read and the service audited as ``action``: a rerun that draws them
    again logs nothing (as the player's audio route logs once per link)."""
    seen: set[int] = st.session_state.setdefault(f"audited.{action}", set())
    return seen


def next_serial() -> int:
    """A number never handed out before in this process: a request the player must not skip as seen."""
    return next(_serials)


def link_request(page: str) -> dict[str, str] | None:
    """The query of the link that opened ``page``, once: None when the address holds what the page
    wrote there itself, or what it already took."""
    query = st.query_params.to_dict()
    addresses = st.session_state.setdefault(_ADDRESSES, {})
    if not query or addresses.get(page) == query:
        return None
    addresses[page] = query
    return query


def show_in_address(page: str, /, **query: int | float | str | None) -> None:
    """Put what ``page`` shows into the address bar (``/call?id=12&t=65``), so that a reload, a
    bookmark or a copied link opens the same place; None leaves a parameter out."""
    wanted = {name: _address_value(value) for name, value in query.items() if value is not None}
    st.session_state.setdefault(_ADDRESSES, {})[page] = wanted
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def address_of(page: str, **query: int | float | str | None) -> str:
    """The full link to ``page`` showing ``query``, as the browser reached this app."""
    scheme, host, *_ = urlsplit(st.context.url or "")
    wanted = {name: _address_value(value) for name, value in query.items() if value is not None}
    return urlunsplit((scheme, host, f"/{Path(page).stem}", urlencode(wanted), ""))


def _address_value(value: int | float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def open_call(recording_id: int, at: float | None = None) -> None:
    st.session_state[_CALL_REQUEST] = CallRequest(recording_id, at, next_serial())
    st.switch_page(CALL_PAGE, query_params=_call_query(recording_id, at))


def _call_query(recording_id: int, at: float | None) -> dict[str, str]:
    return {"id": str(recording_id)} | ({"t": _address_value(round(at, 1))} if at else {})


def take_call_request() -> CallRequest | None:
    """A call another page opened, else the call (and moment) of a link: ``?id=12&t=65``."""
    request = st.session_state.pop(_CALL_REQUEST, None)
    if request is not None:
        st.session_state.setdefault(_ADDRESSES, {})[CALL_PAGE] = _call_query(request.recording_id, request.at)
        return request
    query = link_request(CALL_PAGE)
    recording_id = _int(query, "id")
    if query is None or recording_id is None:
        return None
    try:
        at = max(0.0, float(query.get("t", "")))
    except ValueError:
        at = None
    return CallRequest(recording_id, at, next_serial())


def _int(query: dict[str, str] | None, name: str) -> int | None:
    value = (query or {}).get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@dataclass(frozen=True)
class CustomerRequest:
    """Another page asked the customer page to show a customer, and one conversation of theirs."""

    customer_id: int
    thread_id: int | None


def open_customer(customer_id: int, thread_id: int | None = None) -> None:
    st.session_state[_CUSTOMER_REQUEST] = CustomerRequest(customer_id, thread_id)
    st.switch_page(CUSTOMER_PAGE, query_params=_customer_query(customer_id, thread_id))


def _customer_query(customer_id: int, thread_id: int | None) -> dict[str, str]:
    return {"id": str(customer_id)} | ({"thread": str(thread_id)} if thread_id is not None else {})


def take_customer_request() -> CustomerRequest | None:
    """A customer another page opened, else the customer (and conversation) of a link:
    ``?id=5&thread=9``."""
    request = st.session_state.pop(_CUSTOMER_REQUEST, None)
    if request is not None:
        addresses = st.session_state.setdefault(_ADDRESSES, {})
        addresses[CUSTOMER_PAGE] = _customer_query(request.customer_id, request.thread_id)
        return request
    query = link_request(CUSTOMER_PAGE)
    customer_id = _int(query, "id")
    return CustomerRequest(customer_id, _int(query, "thread")) if customer_id is not None else None
