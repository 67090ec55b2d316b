"""Sign-in glue between Streamlit's session and :mod:`cxlake.access.accounts`.

The browser session keeps only the token; who it belongs to is asked of the app-state store on
every run, so an expired, idle or disabled session ends at the next click, not at the next sign-in.

The token also goes into a cookie (for the session's lifetime), because a Streamlit session ends
with the browser tab: without it a reload, a second tab or a shared link would ask the user to sign
in again. Streamlit can read cookies but not set them, so a small script posts the token once to the
server, which answers with the cookie (HttpOnly, SameSite=Strict, Secure over TLS:
:mod:`streamlit_app.session_cookie`); an empty post clears it. Signing out ends the session in the
store, so a copied cookie is dead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from cxlake.access.accounts import Accounts, SignInError
from cxlake.access.roles import PAGES, Principal

KEY_TOKEN = "auth_token"
KEY_ENDED = "auth_ended"  # set when a token stopped working, so the form can say why it is back
KEY_ERROR = "auth_error"
KEY_NAME = "sign_in_name"
KEY_PASSWORD = "sign_in_password"
KEY_COOKIE_PENDING = "auth_cookie_pending"  # "set" after a sign-in, "clear" after a sign-out
COOKIE = "cxlake_session"
COOKIE_PATH = "/"
VIEWS = Path(__file__).resolve().parent / "views"


def _cookie_token() -> str | None:
    """The token of an earlier tab of this browser, unless this tab has just signed out."""
    if st.session_state.get(KEY_COOKIE_PENDING) == "clear":
        return None
    token = st.context.cookies.get(COOKIE)
    return token if isinstance(token, str) and token else None  # AppTest has no real cookies


def current_principal() -> Principal | None:
    """The signed-in user, or None; a token that stopped working is dropped and remembered as ended."""
    token = st.session_state.get(KEY_TOKEN) or _cookie_token()
    if not token:
        return None
    principal = Accounts().principal(token)
    if principal is None:
        st.session_state.pop(KEY_TOKEN, None)
        st.session_state[KEY_ENDED] = True
        st.session_state[KEY_COOKIE_PENDING] = "clear"
        return None
    st.session_state[KEY_TOKEN] = token
    return principal


def sync_cookie() -> None:
    """Have the server set the cookie after a sign-in (on every run until :func:`cookie_sent`),
    clear it after a sign-out or an ended session."""
    pending = st.session_state.get(KEY_COOKIE_PENDING)
    if pending == "set" and st.session_state.get(KEY_TOKEN):
        _post_to_cookie_endpoint(st.session_state[KEY_TOKEN])
    elif pending == "clear" and isinstance(st.context.cookies.get(COOKIE), str):
        _post_to_cookie_endpoint("")


def cookie_sent() -> None:
    """The run that wrote the cookie has reached the browser whole: stop writing it. A run cut short
    (``st.switch_page``, ``st.rerun``) drops its elements, the cookie's script among them, so the
    next run writes it again."""
    if st.session_state.get(KEY_COOKIE_PENDING) == "set":
        del st.session_state[KEY_COOKIE_PENDING]


def _post_to_cookie_endpoint(token: str) -> None:
    """A script that posts ``token`` ("" to clear) to the page's ``_cxlake/session``, beside the page
    under any ``server.baseUrlPath``. The token is URL-safe base64 (no quotes or backslashes), so it
    needs no escaping inside the string."""
    st.html(
        "<script>fetch(new URL('_cxlake/session', location.href), {method: 'POST', "
        "credentials: 'same-origin', headers: {'Content-Type': 'text/plain'}, body: '"
        + token
        + "'});</script>",
        unsafe_allow_javascript=True,
    )


def acting_as(page_key: str) -> Principal | None:
    """Who is acting in a widget callback, checked again at the click: the session may have ended,
    or the account been disabled, since the page was drawn."""
    principal = current_principal()
    return principal if principal is not None and principal.may_open(page_key) else None


def existing_pages() -> tuple[str, ...]:
    """Page keys in ROLES order whose ``views/<key>.py`` exists (pages still being written are left out)."""
    return tuple(key for key in PAGES if (VIEWS / f"{key}.py").is_file())


def open_pages(principal: Principal) -> tuple[str, ...]:
    """The pages the navigation lists for ``principal``, in ROLES order."""
    return tuple(key for key in existing_pages() if principal.may_open(key))


def _submit(text: Mapping[str, str]) -> None:
    """Form callback: runs before the rerun, so that rerun already shows the user's pages."""
    name = st.session_state.get(KEY_NAME, "")
    password = st.session_state.get(KEY_PASSWORD, "")
    st.session_state[KEY_PASSWORD] = ""  # never kept past this call, nor left in the field
    try:
        session = Accounts().sign_in(name, password)
    except SignInError as error:
        st.session_state[KEY_ERROR] = text["sign_in_failed"].format(error=error)
        return
    st.session_state[KEY_TOKEN] = session.token
    st.session_state[KEY_COOKIE_PENDING] = "set"
    st.session_state.pop(KEY_ENDED, None)
    st.session_state.pop(KEY_ERROR, None)


def sign_in_form(text: Mapping[str, str]) -> None:
    """Name and password; a note when the previous session ended, the refusal when one failed.

    Accounts.sign_in audits every attempt, so nothing is recorded here.
    """
    if st.session_state.get(KEY_ENDED):
        st.info(text["session_expired"])
    error = st.session_state.pop(KEY_ERROR, None)
    if error:
        st.error(error)
    with st.form("sign_in"):
        st.text_input(text["user_name"], key=KEY_NAME, autocomplete="username")
        st.text_input(text["password"], type="password", key=KEY_PASSWORD, autocomplete="current-password")
        st.form_submit_button(text["sign_in"], type="primary", on_click=_submit, args=(text,))


def sign_out() -> None:
    """Button callback: ends the session in the store too, so the token is dead even if copied."""
    token = st.session_state.pop(KEY_TOKEN, None)
    st.session_state.pop(KEY_ENDED, None)
    st.session_state[KEY_COOKIE_PENDING] = "clear"
    if token:
        Accounts().sign_out(token)
