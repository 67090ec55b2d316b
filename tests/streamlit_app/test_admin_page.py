"""The admin page: accounts without hashes, adding, disabling, new passwords, and the audit log,
each change written by the real Accounts to the real app-state store under the admin's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.accounts import Accounts
from cxlake.access.audit import AuditLog
from cxlake.app_state import AppState
from streamlit_app.session import KEY_TOKEN

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "admin.py"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def admin_page(serving_home, sign_in_as):
    """The page signed in as the conftest's admin."""
    return lambda: sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "admin").run()


def state(home: Path) -> AppState:
    return AppState(home / "app_state.sqlite")


def messages(at: AppTest) -> list[str]:
    return [element.value for element in [*at.success, *at.error]]


def button(at: AppTest, label: str):
    """A button by its label (a form's submit button has no key of ours)."""
    return next(found for found in at.button if found.label == label)


def add_account(at: AppTest, name: str, role: str, scope_id: str, password: str) -> AppTest:
    at.text_input(key="admin_new_name").input(name)
    at.selectbox(key="admin_new_role").select(role)
    at.text_input(key="admin_new_scope").input(scope_id)
    at.text_input(key="admin_new_password").input(password)
    return button(at, "Add account").click().run()


def test_the_account_list_shows_every_account_and_never_a_hash(admin_page):
    at = admin_page()
    assert not at.exception
    assert at.title[0].value == "Admin"
    accounts = at.dataframe[0].value
    assert list(accounts.columns) == ["Name", "Role", "Scope", "Disabled", "Created"]
    assert accounts.set_index("Name")["Role"].to_dict() == {
        "admin": "Administrator",
        "analyst": "Analyst",
        "director": "CX director",
        "region_r01": "Regional manager",
        "steward.li": "Data steward",
        "store_s001": "Store manager",
    }
    assert accounts.set_index("Name").loc["store_s001", "Scope"] == "S001"
    assert not any("argon2" in str(value) for value in accounts.to_numpy().ravel())


def test_an_admin_adds_a_store_manager_who_can_then_sign_in(admin_page, accounts_home):
    at = add_account(admin_page(), "store_s003", "store_manager", "S003", NEW_PASSWORD)
    assert not at.exception
    assert messages(at) == ["Added store_s003."]
    assert "store_s003" in at.dataframe[0].value["Name"].tolist()
    assert at.text_input(key="admin_new_password").value == ""  # the password does not linger
    session = Accounts(state(accounts_home)).sign_in("store_s003", NEW_PASSWORD)
    assert session.principal.scope.ids == ("S003",)
    (added,) = AuditLog(state(accounts_home)).events(action="user_added", actor="admin")
    assert added.detail == {"name": "store_s003", "role": "store_manager", "scope_id": "S003"}


@pytest.mark.parametrize(
    ("role", "scope_id", "password", "error"),
    [
        # A typo in the store id would give the manager an empty explorer.
        ("store_manager", "S999", NEW_PASSWORD, "There is no store 'S999' in the published data"),
        ("regional_manager", "", NEW_PASSWORD, "role regional_manager needs a scope id"),
        ("analyst", "", "short", "a password needs at least 12 characters"),
    ],
    ids=["unknown-store", "missing-region", "weak-password"],
)
def test_a_refused_account_is_not_created_and_the_page_says_why(
    admin_page, accounts_home, role, scope_id, password, error
):
    at = add_account(admin_page(), "newcomer", role, scope_id, password)
    assert not at.exception
    (message,) = messages(at)
    assert message.startswith("Not done: ") and error in message
    assert Accounts(state(accounts_home)).get("newcomer") is None


def test_disabling_an_account_ends_its_session(admin_page, sign_in_as, accounts_home):
    analyst = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "analyst")
    token = analyst.session_state[KEY_TOKEN]
    at = admin_page()
    at.selectbox(key="admin_disable_name").select("analyst")
    at.button(key="admin_disable").click().run()
    assert not at.exception
    assert messages(at) == ["Disabled analyst; their sessions have ended."]
    assert at.dataframe[0].value.set_index("Name").loc["analyst", "Disabled"] == "Yes"
    assert Accounts(state(accounts_home)).principal(token) is None
    assert "analyst" not in at.selectbox(key="admin_disable_name").options


def test_an_admin_cannot_disable_their_own_account(admin_page, accounts_home):
    at = admin_page()
    at.selectbox(key="admin_disable_name").select("admin")
    at.button(key="admin_disable").click().run()
    assert messages(at) == ["You cannot disable your own account."]
    assert not Accounts(state(accounts_home)).get("admin").disabled


def test_a_new_password_replaces_the_old_one(admin_page, accounts_home):
    at = admin_page()
    at.selectbox(key="admin_password_name").select("store_s001")
    at.text_input(key="admin_password").input(NEW_PASSWORD)
    button(at, "Set password").click().run()
    assert not at.exception
    assert messages(at) == ["New password set for store_s001; their sessions have ended."]
    accounts = Accounts(state(accounts_home))
    assert accounts.sign_in("store_s001", NEW_PASSWORD).principal.name == "store_s001"
    assert AuditLog(state(accounts_home)).events(action="password_set")[0].actor == "admin"


def test_the_audit_log_is_newest_first_and_filters_by_action(admin_page, accounts_home):
    log = AuditLog(state(accounts_home))
    log.record("store_s001", "export", {"page": "overview", "table": "score_distribution", "rows": 11})
    at = admin_page()
    events = at.dataframe[-1].value
    assert events["Action"].tolist()[:2] == ["sign_in", "export"]  # the admin's own sign-in came last
    at.selectbox(key="admin_action").select("export").run()
    events = at.dataframe[-1].value
    assert events[["Who", "Action"]].values.tolist() == [["store_s001", "export"]]
    assert '"rows": 11' in events["Detail"].iloc[0]


def test_downloading_the_audit_log_is_itself_audited(admin_page, accounts_home, deferred_downloads):
    at = admin_page()
    at.selectbox(key="admin_action").select("user_added").run()  # the conftest's six accounts
    assert not at.exception
    deferred_downloads["audit_log_user_added.csv"]()  # the click on the CSV of the audit log
    (export,) = AuditLog(state(accounts_home)).events(action="export")
    assert export.actor == "admin"
    assert export.detail == {"page": "admin", "table": "audit_log_user_added", "rows": 6, "format": "csv"}


def test_other_roles_cannot_open_the_admin_page(serving_home, sign_in_as):
    at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "cx_director").run()
    assert not at.exception
    assert [error.value for error in at.error] == ["This page is not available for your role."]
    assert len(at.dataframe) == 0
