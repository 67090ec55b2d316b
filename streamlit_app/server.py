"""The explorer as served (``cxlake serve``): :mod:`streamlit_app.app` behind its middleware.

``streamlit run streamlit_app/server.py`` finds ``app`` and serves the same pages as ``app.py``, with
:class:`streamlit_app.session_cookie.SessionCookie` (the server sets the HttpOnly sign-in cookie)
and :class:`streamlit_app.media_guard.SignedInMediaOnly` in front of Streamlit's own routes. The
process creates its files owner-only and warns at start-up about a home other users can read.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from cxlake.paths import owner_only_process
from streamlit_app.media_guard import SignedInMediaOnly
from streamlit_app.session_cookie import SessionCookie

owner_only_process()
app = st.App(
    Path(__file__).with_name("app.py"), middleware=[Middleware(SessionCookie), Middleware(SignedInMediaOnly)]
)
