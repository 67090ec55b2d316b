"""The comments behind the Insights page's charts: the right responses' comments, only the user's
stores', contact details masked for roles without PII rights, downloads audited.

The conftest's serving copy (S001, S002 in R01; S003 in R02) with every response's comment rewritten
to ``评论<response key>``, except these (COMMENTS):
  S001-002 (speed 3, staff 4) names a phone; S001-003 (speed 2) wrote nothing (blank);
  S002-000 (app 2) names a phone; S001-005 and S003-001 name 燕麦奶 (oat milk, a Kano feature).
Countable CSAT ratings (conftest RATINGS): S001-000 speed 5 staff 5, S001-001 speed 4 staff 5,
S001-002 speed 3 staff 4, S001-003 speed 2, S002-000 app 2, S002-001 app 4, S003-000 value 1.
Below the top-2 box (1-3): speed S001-002 and S001-003, app S002-000, value S003-000.
Worst moments: Fulfil (speed, staff) for S001-000..003, Order (app, value) for S002-000, S002-001
and S003-000.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from test_insights_page import add_insight_marts
from test_money_tab import add_money_marts
from test_peak_end_tab import peak_end_home  # noqa: F401  (a fixture, used by name)

from cxlake.access.audit import AuditLog
from cxlake.app_state import AppState
from streamlit_app import widgets

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "insights.py"
TIMEOUT_SECONDS = 30
COMMENTS = {
    "S001-002": "出餐慢，电话 13800002222",
    "S001-003": "  ",
    "S002-000": "App 闪退，打 13800001234 找我",
    "S001-005": "想要燕麦奶",
    "S003-001": "没有燕麦奶吗",
}
NO_COMMENTS = "No comment behind this chart in your stores."
OWN_STORES = "Only your own stores' comments, whatever scope the chart shows."
MASKED = (
    "Phone numbers and e-mails in the comments are masked here: they show only where customers are "
    "called back (the Feedback page, the churn watch list), to those who call them."
)


def write_comments(home: Path) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        connection.execute("update marts.fct_survey_responses set comment = '评论' || response_key")
        connection.executemany(
            "update marts.fct_survey_responses set comment = ? where response_key = ?",
            [(comment, key) for key, comment in COMMENTS.items()],
        )


@pytest.fixture
def insights_home(serving_home: Path) -> Path:
    add_insight_marts(serving_home)
    write_comments(serving_home)
    return serving_home


@pytest.fixture
def journeys_home(peak_end_home: Path) -> Path:  # noqa: F811  (the imported fixture)
    """The peak-end fixture with every survey response tied to a purchase: a journey row each (the
    conftest's journeys are hand-made apart from the responses)."""
    write_comments(peak_end_home)
    with duckdb.connect(str(peak_end_home / "serving.duckdb")) as connection:
        connection.execute(
            "insert into marts.fct_journeys (journey_id, transaction_id, store_id, region_id, response_key)"
            " select 'J' || response_key, 'T' || response_key, store_id, region_id, response_key"
            " from marts.fct_survey_responses"
        )
    return peak_end_home


@pytest.fixture
def money_home(serving_home: Path) -> Path:
    add_money_marts(serving_home)
    write_comments(serving_home)
    return serving_home


@pytest.fixture
def open_tab(sign_in_as) -> Callable[[str, str], tuple[AppTest, object]]:
    def run(role: str, label: str) -> tuple[AppTest, object]:
        at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_SECONDS)
        at.session_state[widgets.KEY_LANGUAGE] = "en"
        at = sign_in_as(at, role).run()
        assert not at.exception, at.exception
        return at, tab_of(at, label)

    return run


def tab_of(at: AppTest, label: str):
    (tab,) = [tab for tab in at.tabs if tab.label == label]
    return tab


def comments_of(tab) -> list[dict[str, object]]:
    """The rows of the tab's comments table ([] when it says there are none)."""
    (expander,) = tab.expander
    if NO_COMMENTS in [caption.value for caption in expander.caption]:
        assert not expander.dataframe
        return []
    return expander.dataframe[0].value.to_dict("records")


def captions(tab) -> list[str]:
    (expander,) = tab.expander
    return [caption.value for caption in expander.caption]


def keys(rows: list[dict[str, object]]) -> list[str]:
    return [row["Response key"] for row in rows]


def pick(at: AppTest, key: str, value: str) -> AppTest:
    at.selectbox(key=key).select(value).run()
    assert not at.exception, at.exception
    return at


def test_a_drivers_comments_are_the_scopes_low_ratings_of_it_with_a_comment(insights_home, open_tab):
    at, tab = open_tab("cx_director", "Key drivers")
    assert at.selectbox(key="insights_driver_comments").options == ["Speed", "Staff", "Value", "App"]
    # Speed rated 3 (S001-002) and 2 (S001-003, a blank comment); 5 and 4 are in the top-2 box.
    rows = comments_of(tab)
    assert keys(rows) == ["S001-002"]
    assert rows[0]["Rating (1-5)"] == 3
    assert rows[0]["Comment"] == "出餐慢，电话 [phone]"  # the director does not call customers back
    assert MASKED in captions(tab) and OWN_STORES not in captions(tab)
    assert rows[0]["Store"] == "人民广场店"
    at = pick(at, "insights_driver_comments", "app")
    assert keys(comments_of(tab_of(at, "Key drivers"))) == ["S002-000"]
    at = pick(at, "insights_driver_comments", "value")
    assert keys(comments_of(tab_of(at, "Key drivers"))) == ["S003-000"]


def test_a_regions_driver_comments_leave_the_other_regions_out(insights_home, open_tab):
    at, _ = open_tab("cx_director", "Key drivers")
    at = pick(at, "insights_driver_scope", "store:S002")
    at = pick(at, "insights_driver_comments", "app")
    assert keys(comments_of(tab_of(at, "Key drivers"))) == ["S002-000"]
    at = pick(at, "insights_driver_comments", "value")
    # S003-000 rated value 1, but in another store than the chart's.
    assert keys(comments_of(tab_of(at, "Key drivers"))) == []


def test_a_store_manager_reads_only_their_stores_comments_behind_the_chains_chart(
    insights_home, accounts_home, open_tab, deferred_downloads
):
    at, _ = open_tab("store_manager", "Key drivers")
    at = pick(at, "insights_driver_scope", "chain:chain")
    tab = tab_of(at, "Key drivers")
    rows = comments_of(tab)
    assert keys(rows) == ["S001-002"]
    # a store manager calls customers back from the Feedback page, not from a chart's comments
    assert rows[0]["Comment"] == "出餐慢，电话 [phone]"
    assert OWN_STORES in captions(tab) and MASKED in captions(tab)
    at = pick(at, "insights_driver_comments", "app")
    assert comments_of(tab_of(at, "Key drivers")) == []  # S002's low app rating is another store's
    at = pick(at, "insights_driver_comments", "speed")
    csv = deferred_downloads["insights_driver_comments_chain_chain_speed.csv"]().decode("utf-8-sig")
    assert "S001-002" in csv and "[phone]" in csv and "1380000" not in csv and "S002-000" not in csv
    (export,) = AuditLog(AppState(accounts_home / "app_state.sqlite")).events(action="export")
    assert (export.actor, export.detail["table"], export.detail["rows"]) == (
        "store_s001",
        "insights_driver_comments_chain_chain_speed",
        1,
    )


def test_a_kano_features_comments_are_those_naming_it_in_the_users_stores(insights_home, open_tab):
    at, tab = open_tab("analyst", "Kano")
    assert at.selectbox(key="insights_kano_comments").options == ["手机点单", "燕麦奶"]
    assert comments_of(tab) == []  # nobody wrote 手机点单
    at = pick(at, "insights_kano_comments", "oat_milk")
    rows = comments_of(tab_of(at, "Kano"))
    assert [(row["Response key"], row["Comment"]) for row in rows] == [
        ("S001-005", "想要燕麦奶"),
        ("S003-001", "没有燕麦奶吗"),
    ]
    at, _ = open_tab("store_manager", "Kano")
    at = pick(at, "insights_kano_comments", "oat_milk")
    assert keys(comments_of(tab_of(at, "Kano"))) == ["S001-005"]


def test_a_stages_comments_are_those_of_journeys_whose_worst_moment_was_in_it(journeys_home, open_tab):
    at, tab = open_tab("cx_director", "Peak and end")
    # Only the stages drawn: the whole journey and Order (Fulfil has too few respondents).
    assert at.selectbox(key="insights_peak_end_comments").options == ["Whole journey", "Order"]
    rows = comments_of(tab)
    assert [(row["Response key"], row["Worst rating (1-5)"], row["Worst moment"]) for row in rows] == [
        ("S001-002", 3, "Speed"),
        ("S001-001", 4, "Speed"),
        ("S002-001", 4, "App"),
        ("S001-000", 5, "Speed, Staff"),
        ("S002-000", 2, "App"),
        ("S003-000", 1, "Value"),
    ]
    at = pick(at, "insights_peak_end_comments", "order")
    assert keys(comments_of(tab_of(at, "Peak and end"))) == ["S002-001", "S002-000", "S003-000"]


def test_a_response_tied_to_no_purchase_is_not_a_journeys_comment(journeys_home, open_tab):
    """The peak-end model reads marts.fct_journeys: a rated response without a purchase is no
    journey of its chart, so its comment is not behind it."""
    with duckdb.connect(str(journeys_home / "serving.duckdb")) as connection:
        connection.execute("delete from marts.fct_journeys where response_key = 'S001-002'")
    at, tab = open_tab("cx_director", "Peak and end")
    assert keys(comments_of(tab)) == ["S001-001", "S002-001", "S001-000", "S002-000", "S003-000"]


def test_a_store_manager_reads_only_their_stores_journeys_behind_the_chains_chart(journeys_home, open_tab):
    at, tab = open_tab("store_manager", "Peak and end")
    assert not tab.expander  # their store has too few respondents: no chart, so no comments behind one
    at = pick(at, "insights_peak_end_scope", "chain:chain")
    assert keys(comments_of(tab_of(at, "Peak and end"))) == ["S001-002", "S001-001", "S001-000"]
    at = pick(at, "insights_peak_end_comments", "order")
    assert comments_of(tab_of(at, "Peak and end")) == []


def test_the_money_tabs_comments_are_the_scopes_detractors(money_home, open_tab):
    at, tab = open_tab("cx_director", "Money")
    rows = comments_of(tab)
    # Countable detractors (0-6): S001 answers 7, 8, 9, 17, 18, 19; S002 5, 11; S003 2, 3, 4, 7.
    assert len(rows) == 12 and {row["Score (0-10)"] for row in rows} <= set(range(7))
    assert {key.split("-")[0] for key in keys(rows)} == {"S001", "S002", "S003"}
    assert "12 comments, newest first (at most 200 shown)." in captions(tab)
    at = pick(at, "insights_money_scope", "region:R01")
    assert sorted(keys(comments_of(tab_of(at, "Money")))) == [
        "S001-007", "S001-008", "S001-009", "S001-017", "S001-018", "S001-019", "S002-005", "S002-011",
    ]  # fmt: skip
    at, _ = open_tab("store_manager", "Money")
    at = pick(at, "insights_money_scope", "chain:chain")
    assert {key.split("-")[0] for key in keys(comments_of(tab_of(at, "Money")))} == {"S001"}
