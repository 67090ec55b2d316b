"""Signing in to the explorer: the form, refusals, lockout, ended sessions, sign-out and what each
role may open, under AppTest with a real app-state store (the conftest's one account per role)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.accounts import Accounts
from cxlake.access.audit import AuditLog
from cxlake.access.roles import ROLES, Principal
from cxlake.app_state import AppState
from streamlit_app import session
from streamlit_app.session import KEY_TOKEN

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
VIEWS = APP.parent / "views"
NOT_AVAILABLE = "This page is not available for your role."
# What each role's navigation lists, written out by hand (pages not built yet are left out below).
EXPECTED_PAGES = {
    "admin": (
        "overview",
        "leaderboard",
        "integrity",
        "feedback",
        "loop",
        "journey",
        "voice",
        "insights",
        "sql",
        "data_quality",
        "admin",
    ),  # fmt: skip
    "cx_director": (
        "overview",
        "leaderboard",
        "integrity",
        "feedback",
        "loop",
        "journey",
        "voice",
        "insights",
        "sql",
        "data_quality",
    ),
    "regional_manager": ("overview", "leaderboard", "feedback", "loop", "journey", "voice", "insights"),
    "store_manager": ("overview", "leaderboard", "feedback", "journey", "voice", "insights"),
    "analyst": ("overview", "leaderboard", "feedback", "journey", "voice", "insights", "sql"),
    "steward": ("data_quality",),
}


def existing(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(key for key in keys if (VIEWS / f"{key}.py").is_file())


def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30)


# role -> the conftest's account of that role (name, scope id)
NAMES = {
    "admin": ("admin", None),
    "cx_director": ("director", None),
    "regional_manager": ("region_r01", "R01"),
    "store_manager": ("store_s001", "S001"),
    "analyst": ("analyst", None),
    "steward": ("steward.li", None),
}


def submit(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return at.button[0].click().run()  # the form's submit button


def titles(at: AppTest) -> list[str]:
    return [title.value for title in at.title]


def state(home: Path) -> AppState:
    return AppState(home / "app_state.sqlite")


def test_signed_out_the_explorer_shows_only_the_sign_in_form(serving_home, accounts_home):
    at = app().run()
    assert not at.exception
    assert titles(at) == ["Sign in to cxlake"]
    assert len(at.metric) == 0 and len(at.dataframe) == 0
    assert [field.label for field in at.text_input] == ["User name", "Password"]


def test_signing_in_opens_the_roles_first_page_with_the_account_in_the_sidebar(
    serving_home, accounts_home, account_password
):
    at = submit(app().run(), "director", account_password)
    assert not at.exception
    assert titles(at) == ["Overview"]
    assert at.metric[0].value == "12.5"
    assert "Signed in as **director** · CX director · all stores" in [m.value for m in at.sidebar.markdown]
    assert "sign_in_password" not in at.session_state or not at.session_state["sign_in_password"]
    assert AuditLog(state(accounts_home)).events(action="sign_in")[0].actor == "director"


@pytest.mark.parametrize(
    ("name", "password"),
    [("director", "not the password"), ("nobody", "correct horse battery staple")],
    ids=["wrong-password", "unknown-name"],  # the same words, so names cannot be probed
)
def test_a_refused_sign_in_says_why_without_saying_which_half_was_wrong(
    serving_home, accounts_home, name, password
):
    at = submit(app().run(), name, password)
    assert not at.exception
    assert [error.value for error in at.error] == ["Sign-in refused: wrong name or password."]
    assert titles(at) == ["Sign in to cxlake"]
    assert KEY_TOKEN not in at.session_state


def test_five_failures_lock_the_account_even_for_the_right_password(
    serving_home, accounts_home, account_password
):
    at = app().run()
    for _ in range(5):
        at = submit(at, "store_s001", "a wrong password!")
    at = submit(at, "store_s001", account_password)
    assert not at.exception
    assert [error.value for error in at.error] == ["Sign-in refused: locked, try again in 15 minutes."]
    assert titles(at) == ["Sign in to cxlake"]


def test_an_expired_session_shows_the_form_with_a_note(serving_home, accounts_home, account_password):
    nine_hours_ago = datetime.now(UTC) - timedelta(hours=9)  # sessions last 8 hours
    token = (
        Accounts(state(accounts_home), clock=lambda: nine_hours_ago)
        .sign_in("director", account_password)
        .token
    )
    at = app()
    at.session_state[KEY_TOKEN] = token
    at.run()
    assert not at.exception
    assert titles(at) == ["Sign in to cxlake"]
    assert [info.value for info in at.info] == ["Your session has ended. Please sign in again."]
    assert len(at.metric) == 0


def test_a_disabled_account_is_signed_out_at_its_next_click(serving_home, sign_in_as, accounts_home):
    at = sign_in_as(app(), "analyst").run()
    assert titles(at) == ["Overview"]
    Accounts(state(accounts_home)).disable("analyst", by="admin")
    at.run()
    assert titles(at) == ["Sign in to cxlake"]
    assert [info.value for info in at.info] == ["Your session has ended. Please sign in again."]


def test_signing_out_ends_the_session_in_the_store(serving_home, sign_in_as, accounts_home):
    at = sign_in_as(app(), "analyst").run()
    token = at.session_state[KEY_TOKEN]
    at.button(key="sign_out").click().run()
    assert not at.exception
    assert titles(at) == ["Sign in to cxlake"]
    assert len(at.info) == 0  # a chosen sign-out is not an "ended session"
    assert Accounts(state(accounts_home)).principal(token) is None
    assert AuditLog(state(accounts_home)).events(action="sign_out")[0].actor == "analyst"


def test_the_sign_in_form_speaks_chinese_when_asked(serving_home, accounts_home):
    at = app().run()
    at.selectbox(key="lang").select("zh").run()
    at = submit(at, "director", "not the password")
    assert titles(at) == ["登录 cxlake"]
    assert [error.value for error in at.error] == ["登录失败：wrong name or password。"]


@pytest.mark.parametrize("role", list(ROLES))
def test_the_navigation_lists_exactly_the_roles_pages(role):
    name, scope_id = NAMES[role]
    assert session.open_pages(Principal(name, role, scope_id)) == existing(EXPECTED_PAGES[role])


@pytest.mark.parametrize(
    ("role", "title"),
    [("store_manager", "Overview"), ("steward", "Data quality"), ("admin", "Overview")],
)
def test_the_app_opens_on_the_roles_first_page(serving_home, sign_in_as, role, title):
    at = sign_in_as(app(), role).run()
    assert not at.exception
    assert titles(at) == [title]


@pytest.mark.parametrize(
    ("role", "page"),
    [
        ("store_manager", "admin"),
        ("store_manager", "data_quality"),
        ("steward", "overview"),
        ("analyst", "admin"),
    ],
)
def test_a_deep_link_to_a_page_outside_the_role_stops_with_not_available(
    serving_home, sign_in_as, role, page
):
    at = sign_in_as(app(), role).run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception
    assert [error.value for error in at.error] == [NOT_AVAILABLE]
    assert titles(at) == [] and len(at.dataframe) == 0 and len(at.metric) == 0


@pytest.mark.parametrize(("role", "page"), [("store_manager", "admin"), ("steward", "journey")])
def test_a_page_run_on_its_own_checks_the_role_too(serving_home, sign_in_as, role, page):
    at = sign_in_as(AppTest.from_file(str(VIEWS / f"{page}.py"), default_timeout=30), role).run()
    assert not at.exception
    assert [error.value for error in at.error] == [NOT_AVAILABLE]
    assert len(at.dataframe) == 0


def test_a_page_run_on_its_own_asks_to_sign_in(serving_home, accounts_home):
    at = AppTest.from_file(str(VIEWS / "overview.py"), default_timeout=30).run()
    assert not at.exception
    assert titles(at) == ["Sign in to cxlake"]
    assert len(at.metric) == 0
