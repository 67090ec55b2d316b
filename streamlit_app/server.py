"""The explorer as served (``cxlake serve``): :mod:`streamlit_app.app` behind the media guard.

``streamlit run streamlit_app/server.py`` finds ``app`` and serves the same pages as ``app.py``, with
:class:`streamlit_app.media_guard.SignedInMediaOnly` in front of Streamlit's own routes.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from streamlit_app.media_guard import SignedInMediaOnly

app = st.App(Path(__file__).with_name("app.py"), middleware=[Middleware(SignedInMediaOnly)])
