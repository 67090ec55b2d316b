"""The Insights page: key drivers, Kano, the churn watch list and the money of experience.

The conftest's serving copy (stores S001, S002 in R01, S003 in R02; members of S001 and S002 in
marts.dim_customer) gets the four insight marts with hand-made rows:
  key drivers, chain: speed 0.20 (share 50%, CSAT 3.2), staff 0.12 (4.5), value 0.06 (3.0), app 0.02
    (4.6): means 0.10 and 3.825 put one driver in each quadrant, in that order;
  region R01: staff first; region R02 and store S001: not enough responses; S002: estimated; S003:
    not enough;
  Kano: mobile ordering attractive, oat milk must-be, lockers below the minimum n;
  churn: two watch-listed S001 members (value at risk 80 and 120), one S002 member (200), one S001
    member scored but not listed;
  money per category: the chain's promoters and detractors (the Money tab's own tests are
    test_money_tab.py).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.audit import AuditLog
from cxlake.app_state import AppState

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "insights.py"
TIMEOUT_SECONDS = 30
NOT_AVAILABLE = "This page is not available for your role."

INSIGHT_MARTS_DDL = """
create table marts.mart_key_drivers (
    scope_level varchar, scope_id varchar, driver varchar, relative_weight double,
    relative_weight_share double, ci_low double, ci_high double, satisfaction double, quadrant varchar,
    n bigint
);
create table marts.mart_kano (
    feature varchar, feature_label varchar, category varchar, n bigint, count_a bigint, count_o bigint,
    count_m bigint, count_i bigint, count_r bigint, count_q bigint, better double, worse double,
    is_reportable boolean
);
create table marts.mart_churn_risk (
    customer_id varchar, store_id varchar, region_id varchar, member_tier varchar, as_of_date date,
    horizon_days bigint, churn_probability double, days_since_last_purchase double,
    purchases_per_week double, last_nps_score double, last_nps_category varchar, open_cases bigint,
    expected_spend_horizon double, value_at_risk double, reason_1 varchar, reason_2 varchar,
    reason_3 varchar, is_watch_listed boolean, watch_list_rank bigint, model varchar,
    reason_1_zh varchar, reason_2_zh varchar, reason_3_zh varchar
);
create table marts.mart_experience_value (
    scope_level varchar, scope_id varchar, nps_category varchar, window_days integer,
    last_transaction_date date, count_members bigint, is_reportable boolean, avg_spend double,
    avg_spend_ci_low double, avg_spend_ci_high double, avg_visits double, avg_visits_ci_low double,
    avg_visits_ci_high double, repeat_rate double, repeat_rate_ci_low double, repeat_rate_ci_high double
);
"""
NOT_ENOUGH = "not_enough_responses"
# (scope level, scope id, driver, weight, share, ci low, ci high, satisfaction, quadrant, n)
DRIVERS = [
    ("chain", "chain", "speed", 0.20, 0.50, 0.15, 0.25, 3.2, "concentrate_here", 60),
    ("chain", "chain", "staff", 0.12, 0.30, 0.08, 0.16, 4.5, "keep_up_the_good_work", 50),
    ("chain", "chain", "value", 0.06, 0.15, 0.03, 0.09, 3.0, "low_priority", 60),
    ("chain", "chain", "app", 0.02, 0.05, 0.00, 0.04, 4.6, "possible_overkill", 40),
    ("region", "R01", "staff", 0.18, 0.60, 0.10, 0.25, 3.4, "concentrate_here", 45),
    ("region", "R01", "speed", 0.12, 0.40, 0.05, 0.20, 4.4, "keep_up_the_good_work", 45),
    ("region", "R02", "value", None, None, None, None, 2.5, NOT_ENOUGH, 8),
    ("store", "S001", "speed", None, None, None, None, 3.5, NOT_ENOUGH, 4),
    ("store", "S001", "staff", None, None, None, None, 4.7, NOT_ENOUGH, 3),
    ("store", "S002", "app", 0.30, 0.75, 0.20, 0.40, 3.0, "concentrate_here", 35),
    ("store", "S002", "value", 0.10, 0.25, 0.02, 0.15, 4.0, "possible_overkill", 12),
    ("store", "S003", "value", None, None, None, None, 2.0, NOT_ENOUGH, 8),
]  # fmt: skip
# (feature, label, category, n, A, O, M, I, R, Q, better, worse, reportable)
KANO = [
    ("oat_milk", "燕麦奶", "M", 40, 4, 8, 24, 4, 0, 0, 0.3, -0.8, True),
    ("mobile_ordering", "手机点单", "A", 40, 24, 6, 2, 8, 0, 0, 0.75, -0.2, True),
    ("pickup_lockers", "自提柜", NOT_ENOUGH, 3, 1, 1, 0, 1, 0, 0, None, None, False),
]  # fmt: skip
# (customer, store, region, probability, value at risk, watch-listed, rank)
CHURN = [
    ("CS001-000", "S001", "R01", 0.40, 80.0, True, 2),
    ("CS001-001", "S001", "R01", 0.55, 120.0, True, 1),
    ("CS001-002", "S001", "R01", 0.05, 1.0, False, None),
    ("CS002-000", "S002", "R01", 0.60, 200.0, True, 1),
]
# (level, id, category, members, reportable, avg spend, repeat rate)
VALUE = [
    ("chain", "chain", "promoter", 30, True, 40.0, 0.8),
    ("chain", "chain", "detractor", 12, True, 25.0, 0.5),
    ("region", "R01", "promoter", 30, True, 40.0, 0.8),
    ("store", "S001", "promoter", 20, True, 42.0, 0.85),
    ("store", "S001", "detractor", 8, False, 20.0, 0.5),
]  # fmt: skip


def _churn_rows() -> list[tuple]:
    return [
        (
            customer, store, region, "basic", "2026-01-14", 10, probability, 6.0, 1.5, 3.0, "detractor", 0,
            value / probability, value, "no purchase for 6 days", "last NPS answer 3", None, listed, rank,
            "logistic", "6 天未消费", "最近一次 NPS 评分 3", None,
        )
        for customer, store, region, probability, value, listed, rank in CHURN
    ]  # fmt: skip


def _value_rows() -> list[tuple]:
    return [
        (
            level, scope_id, category, 90, "2026-06-30", members, reportable, spend, spend - 5, spend + 5,
            2.0, 1.8, 2.2, rate, rate - 0.1, rate + 0.1,
        )
        for level, scope_id, category, members, reportable, spend, rate in VALUE
    ]  # fmt: skip


def add_insight_marts(home: Path) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        connection.execute(INSIGHT_MARTS_DDL)
        connection.executemany(
            f"insert into marts.mart_key_drivers values ({', '.join(['?'] * 10)})", DRIVERS
        )
        connection.executemany(f"insert into marts.mart_kano values ({', '.join(['?'] * 13)})", KANO)
        connection.executemany(
            f"insert into marts.mart_churn_risk values ({', '.join(['?'] * 23)})", _churn_rows()
        )
        connection.executemany(
            f"insert into marts.mart_experience_value values ({', '.join(['?'] * 16)})", _value_rows()
        )


@pytest.fixture
def insights_home(serving_home: Path) -> Path:
    add_insight_marts(serving_home)
    return serving_home


@pytest.fixture
def open_as(sign_in_as):
    def run(role: str) -> AppTest:
        at = sign_in_as(AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_SECONDS), role).run()
        assert not at.exception, at.exception
        return at

    return run


def table(at: AppTest, index: int) -> list[dict[str, object]]:
    return at.dataframe[index].value.to_dict("records")


def driver_table(at: AppTest) -> list[dict[str, object]]:
    return table(at, 0)


def texts(at: AppTest) -> list[str]:
    return [element.value for element in (*at.markdown, *at.caption, *at.info)]


def test_the_chain_matrix_puts_one_touchpoint_in_each_quadrant_most_important_first(insights_home, open_as):
    at = open_as("cx_director")
    assert at.selectbox(key="insights_driver_scope").value == "chain:chain"
    rows = driver_table(at)
    assert [(row["Touchpoint"], row["Quadrant"]) for row in rows] == [
        ("Speed", "Concentrate here"),
        ("Staff", "Keep up the good work"),
        ("Value", "Low priority"),
        ("App", "Possible overkill"),
    ]
    assert rows[0]["Share of explained variance (%)"] == 50.0
    assert (rows[0]["Weight 95% CI low"], rows[0]["Weight 95% CI high"]) == (0.15, 0.25)
    assert len(at.get("vega_lite_chart")) >= 2  # the matrix and the ranked importance


def test_picking_a_region_ranks_its_own_drivers(insights_home, open_as):
    at = open_as("cx_director")
    at.selectbox(key="insights_driver_scope").select("region:R01").run()
    assert not at.exception
    assert [row["Touchpoint"] for row in driver_table(at)] == ["Staff", "Speed"]


def test_a_scope_without_enough_responses_says_so_instead_of_drawing(insights_home, open_as):
    at = open_as("store_manager")
    # A store manager starts on their store and may pick only the chain, their region and their store.
    picker = at.selectbox(key="insights_driver_scope")
    assert picker.value == "store:S001"
    assert picker.options == ["Chain", "Region 华东 (R01)", "Store 人民广场店 (S001)"]
    assert any(
        "Not enough responses in Store 人民广场店 (S001)" in text and "at most 4 ratings" in text
        for text in texts(at)
    )
    tabs_before_kano = at.tabs[0]
    assert len(tabs_before_kano.get("vega_lite_chart")) == 0


def test_kano_shows_each_features_category_and_marks_the_one_with_too_few_answers(insights_home, open_as):
    at = open_as("analyst")
    kano = at.tabs[1]
    rows = kano.dataframe[0].value.to_dict("records")
    assert [(row["Feature"], row["Kano category"], row["Reportable"]) for row in rows] == [
        ("手机点单", "Attractive", "Yes"),
        ("燕麦奶", "Must-be", "Yes"),
        ("自提柜", "Not enough responses", "No"),
    ]
    assert rows[0]["Better"] == 0.75 and rows[1]["Worse"] == -0.8
    assert any("自提柜 (n = 3, too few)" in text for text in texts(at))


def test_a_store_manager_sees_only_their_stores_watch_list_with_names(insights_home, open_as):
    at = open_as("store_manager")
    rows = at.tabs[2].dataframe[0].value.to_dict("records")
    assert [row["Customer id"] for row in rows] == ["CS001-001", "CS001-000"]  # most value at risk first
    assert [row["Value at risk"] for row in rows] == [120.0, 80.0]
    assert [row["Customer"] for row in rows] == ["顾客01001", "顾客01000"]
    assert rows[0]["Phone"] == "13800001001"
    assert rows[0]["Reason 1"] == "no purchase for 6 days"


def test_the_watch_list_download_holds_the_store_managers_rows_and_is_audited(
    insights_home, accounts_home, open_as, deferred_downloads
):
    open_as("store_manager")
    csv = deferred_downloads["insights_churn_watch_list.csv"]().decode("utf-8-sig")
    assert "CS001-001" in csv and "CS001-000" in csv and "顾客01001" in csv
    assert "CS002-000" not in csv and "CS001-002" not in csv  # another store's; not watch-listed
    (export,) = AuditLog(AppState(accounts_home / "app_state.sqlite")).events(action="export")
    assert export.actor == "store_s001"
    assert export.detail == {
        "page": "insights", "table": "insights_churn_watch_list", "rows": 2, "format": "csv",
    }  # fmt: skip


def test_the_director_sees_every_stores_watch_list_with_names_masked(insights_home, open_as):
    at = open_as("cx_director")
    rows = at.tabs[2].dataframe[0].value.to_dict("records")
    assert [row["Customer id"] for row in rows] == ["CS002-000", "CS001-001", "CS001-000"]
    assert [row["Customer"] for row in rows] == ["顾**", "顾**", "顾**"]
    assert rows[0]["Phone"] == "*******2000"
    at.selectbox(key="insights_watch_store").select("S002").run()
    assert [row["Customer id"] for row in at.tabs[2].dataframe[0].value.to_dict("records")] == ["CS002-000"]


def test_an_older_serving_copy_says_each_mart_is_missing(serving_home, open_as):
    at = open_as("admin")
    infos = [info.value for info in at.info]
    for mart in ("mart_key_drivers", "mart_kano", "mart_churn_risk", "mart_experience_value"):
        assert any(f"marts.{mart}" in info for info in infos), mart


def test_the_steward_may_not_open_the_page(insights_home, open_as):
    at = open_as("steward")
    assert [error.value for error in at.error] == [NOT_AVAILABLE]


def test_the_watch_list_gives_its_reasons_in_the_readers_language(insights_home):
    from streamlit_app import data_access
    from streamlit_app.data_access import Scope

    english = data_access.churn_watch_list(Scope.everything(), False, None, "en")
    chinese = data_access.churn_watch_list(Scope.everything(), False, None, "zh")
    assert set(english["reason_1"]) == {"no purchase for 6 days"}
    assert set(chinese["reason_1"]) == {"6 天未消费"} and set(chinese["reason_2"]) == {"最近一次 NPS 评分 3"}
    assert chinese.drop(columns=["reason_1", "reason_2"]).equals(
        english.drop(columns=["reason_1", "reason_2"])
    )
