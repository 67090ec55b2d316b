"""Each role sees exactly its scope's numbers, on every page it opens, whatever the link says.

Hand counts of the conftest's countable NPS answers: S001 20 (10 promoters, 6 detractors), S002 12
(4 / 2), S003 8 (3 / 4). So the S001 store manager sees n = 20, the R01 regional manager n = 32
(NPS 18.8) and every "all" role n = 40 (NPS 12.5); the steward sees no overview at all.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.audit import AuditLog
from cxlake.access.roles import ROLES, Principal, Scope
from cxlake.app_state import AppState
from streamlit_app import data_access, session, widgets
from streamlit_app.data_access import Filters

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
STORE_NAMES = {"S001": "人民广场店", "S002": "徐家汇店", "S003": "福田店"}
# role -> the stores of the conftest's account of that role
STORES_OF = {
    "admin": {"S001", "S002", "S003"},
    "cx_director": {"S001", "S002", "S003"},
    "regional_manager": {"S001", "S002"},
    "store_manager": {"S001"},
    "analyst": {"S001", "S002", "S003"},
    "steward": {"S001", "S002", "S003"},
}
# role -> the conftest's account of that role (name, scope id)
ACCOUNTS = {
    "admin": ("admin", None),
    "cx_director": ("director", None),
    "regional_manager": ("region_r01", "R01"),
    "store_manager": ("store_s001", "S001"),
    "analyst": ("analyst", None),
    "steward": ("steward.li", None),
}
SCOPES = {
    "store_manager": Scope("store", ("S001",)),
    "regional_manager": Scope("region", ("R01",)),
    "cx_director": Scope.everything(),
}
INJECTION = "S001' or 1=1 --"


def app(sign_in_as, role: str, **query: str | list[str]) -> AppTest:
    at = sign_in_as(AppTest.from_file(str(APP), default_timeout=30), role)
    for name, value in query.items():
        at.query_params[name] = value
    return at


def texts(at: AppTest) -> list[str]:
    return [element.value for element in at.markdown]


def overview_n(at: AppTest) -> str:
    """The n of the overview's headline or too-few note, e.g. "n = 20"."""
    (count,) = [found for text in texts(at) for found in re.findall(r"n = [\d,]+", text)]
    return count


@pytest.mark.parametrize(
    ("role", "metric", "n"),
    [
        ("store_manager", "—", "n = 20"),  # below the minimum of 30: no score, only the count
        ("regional_manager", "18.8", "n = 32"),
        ("cx_director", "12.5", "n = 40"),
        ("analyst", "12.5", "n = 40"),
        ("admin", "12.5", "n = 40"),
    ],
)
def test_the_overview_shows_exactly_the_roles_scope(serving_home, sign_in_as, role, metric, n):
    at = app(sign_in_as, role).run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert at.metric[0].value == metric
    assert overview_n(at) == n


def test_the_steward_sees_no_overview(serving_home, sign_in_as):
    at = app(sign_in_as, "steward").run()
    assert at.title[0].value == "Data quality"
    at.switch_page("views/overview.py").run()
    assert [error.value for error in at.error] == ["This page is not available for your role."]
    assert len(at.metric) == 0


@pytest.mark.parametrize(
    ("role", "query", "n"),
    [
        # Another store in the link is dropped silently: the manager still sees S001's 20.
        ("store_manager", {"store": "S003"}, "n = 20"),
        ("store_manager", {"store": INJECTION}, "n = 20"),
        ("store_manager", {"store": ["S003", INJECTION], "region": "R02"}, "n = 20"),
        ("regional_manager", {"store": "S003"}, "n = 32"),
        ("regional_manager", {"region": "R02"}, "n = 32"),
        # Values inside the scope are honoured, so a shared link opens on its selection.
        ("regional_manager", {"store": "S002"}, "n = 12"),
        ("cx_director", {"store": "S003", "channel": "delivery"}, "n = 8"),
        ("cx_director", {"store": "S003,S002"}, "n = 20"),
        ("cx_director", {"from": "2026-01-05", "to": "2026-01-05"}, "n = 5"),  # each store's answers 0, 10
        ("cx_director", {"from": "not a date", "channel": "'; drop table x; --"}, "n = 40"),
    ],
    ids=[
        "other-store",
        "injection",
        "both-and-other-region",
        "region-other-store",
        "other-region",
        "own-store",
        "store-and-channel",
        "comma-joined",
        "one-day",
        "garbage",
    ],
)
def test_filters_from_the_link_keep_only_values_inside_the_scope(serving_home, sign_in_as, role, query, n):
    at = app(sign_in_as, role, **query).run()
    assert not at.exception
    assert overview_n(at) == n
    assert set(at.multiselect(key="filter_stores").value) <= STORES_OF[role]


def test_the_link_presets_the_sidebar_filters(serving_home, sign_in_as):
    at = app(sign_in_as, "regional_manager", store=["S002", "S003"], channel="app").run()
    assert at.multiselect(key="filter_stores").value == ["S002"]
    assert at.multiselect(key="filter_channels").value == ["app"]


def shown_cells(at: AppTest) -> list[str]:
    """Every text cell and column name of every table the page shows."""
    cells = []
    for frame in at.dataframe:
        value = frame.value
        cells += [str(column) for column in value.columns]
        cells += [str(cell) for cell in value.to_numpy().ravel() if isinstance(cell, str)]
    return cells


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_a_role_opens_shows_another_stores_rows(serving_home, sign_in_as, role):
    """Every page of the role, opened from a link that asks for the other stores."""
    others = set(STORE_NAMES) - STORES_OF[role]
    forbidden = others | {STORE_NAMES[store] for store in others}
    name, scope_id = ACCOUNTS[role]
    at = app(sign_in_as, role, store=["S003", INJECTION]).run()
    for page in session.open_pages(Principal(name, role, scope_id)):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page
        assert not at.error, page
        leaks = [cell for cell in shown_cells(at) if any(other in cell for other in forbidden)]
        assert leaks == [], page


@pytest.mark.parametrize("role", list(SCOPES))
def test_exported_files_hold_only_the_scopes_stores(serving_home, role):
    # Even a crafted store filter that reached the data layer cannot widen what is exported.
    for filters in (Filters(), Filters(store_ids=("S003",)), Filters(store_ids=(INJECTION,))):
        table = data_access.experience_vs_operations(SCOPES[role], filters, "value", "amount")
        csv = pd.read_csv(io.BytesIO(widgets.export_bytes(table, "csv")), encoding="utf-8-sig")
        xlsx = pd.read_excel(io.BytesIO(widgets.export_bytes(table, "xlsx")))
        assert set(csv["store_id"]) <= STORES_OF[role]
        assert set(xlsx["store_id"]) == set(csv["store_id"])
    everything = data_access.experience_vs_operations(SCOPES[role], Filters(), "value", "amount")
    assert set(everything["store_id"]) == STORES_OF[role]


def test_the_store_managers_download_is_audited_with_only_their_row(
    serving_home, sign_in_as, accounts_home, deferred_downloads
):
    at = app(sign_in_as, "store_manager", store="S003").run()
    at.switch_page("views/journey.py").run()
    assert at.dataframe[0].value[["Store id", "Store"]].values.tolist() == [["S001", "人民广场店"]]
    log = AuditLog(AppState(accounts_home / "app_state.sqlite"))
    assert log.events(action="export") == []  # drawing the buttons builds and exports nothing
    csv = deferred_downloads["experience_vs_operations_value_amount.csv"]()  # the click
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str)
    assert rows[["Store id", "Store"]].values.tolist() == [["S001", "人民广场店"]]
    (export,) = log.events(action="export")
    assert export.actor == "store_s001"
    assert export.detail == {
        "page": "journey",
        "table": "experience_vs_operations_value_amount",
        "rows": 1,
        "format": "csv",
    }
