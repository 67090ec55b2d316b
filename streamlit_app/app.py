"""Entry point of the explorer: ``streamlit run streamlit_app/app.py``.

Pages live in ``views/``, each a thin script over :mod:`streamlit_app.data_access`. Not in
``pages/``: Streamlit would also register that folder's files, and a deep link to a page would
show them as a second, unnamed navigation.

Signed out, every page's address shows the sign-in form, so a shared link (``/journey?store=S001``)
still leads to its page after signing in. Signed in, the navigation lists the pages the user's role
opens; the other pages stay registered but hidden, so their addresses say "not available".
Every page keeps its own address (``/overview``); ``/`` moves on to the user's first page.
"""

from pathlib import Path

import streamlit as st

from streamlit_app import session, widgets

ICONS = {
    "overview": ":material/speed:",
    "leaderboard": ":material/leaderboard:",
    "integrity": ":material/policy:",
    "feedback": ":material/forum:",
    "loop": ":material/autorenew:",
    "journey": ":material/route:",
    "voice": ":material/record_voice_over:",
    "insights": ":material/insights:",
    "sql": ":material/terminal:",
    "data_quality": ":material/rule:",
    "admin": ":material/manage_accounts:",
}


def sign_in_page() -> None:
    """The only page while nobody is signed in, whatever the address."""
    language = widgets.language_picker()
    text = widgets.COMMON_LABELS[language]
    st.title(text["sign_in_title"])
    session.sign_in_form(text)


# A file shipped with the app (sent inline): a ":material/...:" icon would be fetched from Google's
# font host, which fails offline and is blocked in mainland China.
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.svg"

st.set_page_config(page_title="cxlake", page_icon=FAVICON, layout="wide", initial_sidebar_state="auto")
text = widgets.COMMON_LABELS[widgets.current_language()]
principal = session.current_principal()
session.sync_cookie()
if principal is None:
    pages = [
        st.Page(
            sign_in_page, title=text["sign_in"], icon=":material/login:", url_path="sign_in", default=True
        )
    ]
    pages += [
        st.Page(sign_in_page, title=text["sign_in"], url_path=key, visibility="hidden")
        for key in session.existing_pages()
    ]
    st.navigation(pages, position="hidden").run()
else:
    allowed = session.open_pages(principal)
    pages = {
        key: st.Page(
            f"views/{key}.py",
            title=text[f"page_{key}"],
            icon=ICONS[key],
            url_path=key,
            visibility="visible" if key in allowed else "hidden",
        )
        for key in session.existing_pages()
    }

    def home() -> None:
        """``/``: on to the first page the role opens. Streamlit gives the default page the address
        ``/`` instead of its own, so a real page as default would make its shared link
        (``/overview``) "not found"; this hidden page is the default instead. The link's filters
        (``/?store=S001``) go along."""
        if not allowed:
            st.error(text["not_available"])
            st.stop()
        st.switch_page(
            pages[allowed[0]], query_params={k: st.query_params.get_all(k) for k in st.query_params}
        )

    page = st.navigation(
        [st.Page(home, title="cxlake", url_path="home", default=True, visibility="hidden"), *pages.values()]
    )
    widgets.account_box(principal)
    if page.visibility == "hidden" and page.url_path in pages:  # a page outside the role, by its address
        st.error(text["not_available"])
        st.stop()
    page.run()
    session.cookie_sent()  # only now: a switch of page drops the run's elements, the cookie's script too
