"""The Insights page's tabs, one module each, outside ``views/`` (where every file is a page).

Each module's ``show(tab)`` draws its tab from the user's scope (:class:`.common.Tab`) through the
data access; the page (``streamlit_app/views/insights.py``) keeps the frame: title, sign-in, the
tabs themselves. The tables all go through :func:`.common.table`, the comments behind a chart through
:func:`.common.show_comments`.
"""
