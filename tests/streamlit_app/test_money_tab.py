"""The Insights page's Money tab on hand-made marts.mart_experience_value, mart_experience_money and
mart_csat_revenue_effect rows.

The conftest's serving copy (stores S001, S002 in R01, S003 in R02; touchpoints staff, app, speed,
value in marts.dim_touchpoint; transactions 2026-01-05 to 2026-01-14) gets these rows, window 14 days:
  per category: the chain's promoters spend 40 (35-45) and 80% come back, detractors 25 (20-30) and
    50%; R01 alike; S001's 20 promoters and 8 detractors are too few (min_responses 30);
  money: the chain's detractor made promoter 15 (5-25), excess churn 30 points (10-50), 10 recent
    detractors at risk 150 (50-250), 4 open-case members spending 200 at risk 60 (20-100); S001 too few;
  CSAT: speed 2.83 per member (1.83-3.77), 3.80 per rater, rated by 74.5%; value 1.64; app n = 12,
    too few.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.insights.money import EFFECT_COLUMNS, MONEY_COLUMNS
from streamlit_app import widgets
from streamlit_app.data_access.insights import EXPERIENCE_VALUE_COLUMNS

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "insights.py"
TIMEOUT_SECONDS = 30
WINDOW = 14
LAST_DAY = "2026-01-14"
TYPES = {
    "scope_level": "varchar", "scope_id": "varchar", "nps_category": "varchar", "touchpoint": "varchar",
    "window_days": "integer", "last_transaction_date": "date", "is_reportable": "boolean",
}  # fmt: skip
# (level, id, category, members, reportable, spend, visits, repeat rate)
VALUE = [
    ("chain", "chain", "promoter", 40, True, 40.0, 2.0, 0.8),
    ("chain", "chain", "passive", 35, True, 38.0, 1.9, 0.75),
    ("chain", "chain", "detractor", 32, True, 25.0, 1.0, 0.5),
    ("region", "R01", "promoter", 30, True, 41.0, 2.1, 0.8),
    ("region", "R01", "detractor", 30, True, 24.0, 1.1, 0.5),
    ("store", "S001", "promoter", 20, False, 42.0, 2.2, 0.85),
    ("store", "S001", "detractor", 8, False, 20.0, 0.9, 0.5),
]  # fmt: skip
MONEY = [
    # level, id, promoters, detractors, reportable, value (ci), excess churn (ci), retained spend,
    # recent detractors, risk (ci), open-case members, their spend, risk (ci)
    ("chain", "chain", 40, 32, True, (15.0, 5.0, 25.0), (0.3, 0.1, 0.5), 50.0, 10, (150.0, 50.0, 250.0),
     4, 200.0, (60.0, 20.0, 100.0)),
    ("region", "R01", 30, 30, True, (17.0, 6.0, 28.0), (0.3, 0.05, 0.55), 48.0, 6, (86.4, 14.4, 158.4),
     0, 0.0, (0.0, 0.0, 0.0)),
    ("store", "S001", 20, 8, False, (22.0, 1.0, 43.0), (0.35, -0.1, 0.8), 40.0, 2, (28.0, -8.0, 64.0),
     1, 30.0, (10.5, -3.0, 24.0)),
]  # fmt: skip
# touchpoint, n, rated share, promoter / detractor change, per rater (ci), per member (ci), reportable
EFFECT = [
    ("speed", 2718, 0.745, 0.128, -0.086, (3.80, 2.46, 5.01), (2.83, 1.83, 3.77), True),
    ("value", 3649, 1.0, 0.056, -0.037, (1.64, 0.92, 2.46), (1.64, 0.92, 2.46), True),
    ("app", 12, 0.003, 0.2, -0.1, (9.0, -20.0, 30.0), (0.03, -0.06, 0.09), False),
]  # fmt: skip


def _create(connection: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> None:
    typed = ", ".join(f"{column} {TYPES.get(column, 'double')}" for column in columns)
    connection.execute(f"create table marts.{table} ({typed})")


def _insert(connection: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        columns = list(row)
        connection.execute(
            f"insert into marts.{table} ({', '.join(columns)}) values ({', '.join(['?'] * len(columns))})",
            list(row.values()),
        )


def _value_rows() -> list[dict]:
    return [
        {
            "scope_level": level, "scope_id": scope_id, "nps_category": category, "window_days": WINDOW,
            "last_transaction_date": LAST_DAY, "count_members": members, "is_reportable": reportable,
            "avg_spend": spend, "avg_spend_ci_low": spend - 5, "avg_spend_ci_high": spend + 5,
            "avg_visits": visits, "avg_visits_ci_low": visits - 0.2, "avg_visits_ci_high": visits + 0.2,
            "repeat_rate": rate, "repeat_rate_ci_low": rate - 0.1, "repeat_rate_ci_high": rate + 0.1,
        }
        for level, scope_id, category, members, reportable, spend, visits, rate in VALUE
    ]  # fmt: skip


def _money_rows() -> list[dict]:
    rows = []
    for level, scope_id, promoters, detractors, reportable, *figures in MONEY:
        value, excess, retained, recent, risk, cases, spend, case_risk = figures
        row = {
            "scope_level": level, "scope_id": scope_id, "window_days": WINDOW,
            "last_transaction_date": LAST_DAY, "count_promoter_members": promoters,
            "count_detractor_members": detractors, "is_reportable": reportable,
            "detractor_spend_if_retained": retained, "count_recent_detractors": recent,
            "count_open_case_members": cases, "open_case_spend_per_window": spend,
        }  # fmt: skip
        for name, figures in (
            ("detractor_to_promoter_value", value),
            ("excess_churn_rate", excess),
            ("detractor_revenue_at_risk", risk),
            ("open_case_revenue_at_risk", case_risk),
        ):
            row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = figures
        rows.append(row)
    return rows


def _effect_rows() -> list[dict]:
    return [
        {
            "scope_level": "chain", "scope_id": "chain", "touchpoint": touchpoint, "window_days": WINDOW,
            "n": n, "respondents": 3649, "rated_share": share, "promoter_probability_change": up,
            "detractor_probability_change": down, "effect_per_rater": rater[0],
            "effect_per_rater_ci_low": rater[1], "effect_per_rater_ci_high": rater[2],
            "effect_per_member": member[0], "ci_low": member[1], "ci_high": member[2],
            "is_reportable": reportable,
        }
        for touchpoint, n, share, up, down, rater, member, reportable in EFFECT
    ]  # fmt: skip


def add_money_marts(home: Path, *, value_rows: bool = True, money_marts: bool = True) -> None:
    with duckdb.connect(str(home / "serving.duckdb")) as connection:
        _create(connection, "mart_experience_value", EXPERIENCE_VALUE_COLUMNS)
        if value_rows:
            _insert(connection, "mart_experience_value", _value_rows())
        if money_marts:
            _create(connection, "mart_experience_money", MONEY_COLUMNS)
            _insert(connection, "mart_experience_money", _money_rows())
            _create(connection, "mart_csat_revenue_effect", EFFECT_COLUMNS)
            _insert(connection, "mart_csat_revenue_effect", _effect_rows())


@pytest.fixture
def open_money(sign_in_as):
    def run(role: str, language: str = "en"):
        at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_SECONDS)
        at.session_state[widgets.KEY_LANGUAGE] = language
        at = sign_in_as(at, role).run()
        assert not at.exception, at.exception
        (tab,) = [tab for tab in at.tabs if tab.label in ("Money", "体验价值")]
        return at, tab

    return run


def markdowns(tab) -> list[str]:
    return [m.value for m in tab.markdown]


def test_the_director_reads_the_chains_money_in_sentences_with_intervals(serving_home, open_money):
    add_money_marts(serving_home)
    at, tab = open_money("cx_director")
    assert at.selectbox(key="insights_money_scope").value == "chain:chain"
    value, churn, risk, cases, csat = markdowns(tab)
    assert value == (
        "**A detractor made promoter is worth ¥15.00** per member over 14 days (95% CI ¥5.00 – ¥25.00):"
        " what promoters spent in the window beyond detractors."
    )
    assert (
        "50.0% of detractors bought again within 14 days against 80.0% of promoters, 30.0 points fewer"
        " (95% CI 10.0 – 50.0)" in churn
    )
    assert risk.startswith("**Revenue at risk from detractors: ¥150.00** over the next 14 days")
    assert "(95% CI ¥50.00 – ¥250.00): 10 members" in risk and "the ¥50.00 a detractor who stays" in risk
    assert cases.startswith("**Revenue at risk from unresolved cases: ¥60.00** (95% CI ¥20.00 – ¥100.00)")
    assert "4 members" in cases and "spending ¥200.00 per 14 days" in cases and "do not add" in cases
    assert csat.startswith("**One more CSAT point at Speed is worth ¥2.83 per member** over 14 days")
    assert "(95% CI ¥1.83 – ¥3.77); ¥3.80 per customer who rates it (74.5% of respondents do)" in csat
    assert "rises 12.8 points, that of a detractor's falls 8.6" in csat
    categories = tab.dataframe[0].value.to_dict("records")
    assert [(r["Category"], r["Members"], r["Mean spend"], r["Repeat rate (%)"]) for r in categories] == [
        ("Promoter", 40, 40.0, 80.0),
        ("Passive", 35, 38.0, 75.0),
        ("Detractor", 32, 25.0, 50.0),
    ]
    assert (categories[0]["Mean visits 95% CI low"], categories[0]["Mean visits 95% CI high"]) == (1.8, 2.2)
    assert (categories[2]["Repeat rate 95% CI low (%)"], categories[2]["Repeat rate 95% CI high (%)"]) == (
        40.0,
        60.0,
    )


def test_the_csat_table_hides_a_touchpoint_rated_too_few_times(serving_home, open_money):
    add_money_marts(serving_home)
    _, tab = open_money("analyst")
    effects = tab.dataframe[1].value.to_dict("records")
    assert [(r["Touchpoint"], r["Ratings"], r["Note"]) for r in effects] == [
        ("Speed", 2718, ""),
        ("Value", 3649, ""),
        ("App", 12, "n = 12, too few"),
    ]
    assert (effects[0]["Per member"], effects[0]["Per member 95% CI low"], effects[0]["Per rater"]) == (
        2.83,
        1.83,
        3.8,
    )
    assert effects[0]["Rated by (%)"] == 74.5 and effects[0]["Promoter chance (points)"] == 12.8
    assert all(_empty(effects[2][column]) for column in ("Per member", "Per rater", "Per member 95% CI high"))


def _empty(cell: object) -> bool:
    return cell is None or cell == "" or (isinstance(cell, float) and math.isnan(cell))


def test_a_store_manager_starts_on_their_store_where_too_few_members_show_only_n(serving_home, open_money):
    add_money_marts(serving_home)
    at, tab = open_money("store_manager")
    picker = at.selectbox(key="insights_money_scope")
    assert picker.value == "store:S001"
    assert picker.options == ["Chain", "Region 华东 (R01)", "Store 人民广场店 (S001)"]
    assert markdowns(tab)[0] == (
        "Too few members with a whole window to put a money figure on: promoters n = 20, too few,"
        " detractors n = 8, too few (at least 30 of each)."
    )
    categories = tab.dataframe[0].value.to_dict("records")
    assert [(r["Category"], r["Members"], r["Note"]) for r in categories] == [
        ("Promoter", 20, "n = 20, too few"),
        ("Detractor", 8, "n = 8, too few"),
    ]
    assert all(_empty(r[c]) for r in categories for c in ("Mean spend", "Mean visits", "Repeat rate (%)"))
    picker.select("region:R01").run()
    assert not at.exception
    assert markdowns(at.tabs[3])[0].startswith("**A detractor made promoter is worth ¥17.00**")
    # R01's open cases are none: no sentence about them
    assert not any("unresolved cases" in m for m in markdowns(at.tabs[3]))


def test_the_tab_speaks_chinese(serving_home, open_money):
    add_money_marts(serving_home)
    _, tab = open_money("cx_director", "zh")
    texts = markdowns(tab)
    assert texts[0].startswith(
        "**一位贬损者转为推荐者，价值 ¥15.00**（每位会员，14 天内；95% 区间 ¥5.00 – ¥25.00）"
    )
    assert "14 天内再次消费的贬损者占 50.0%，推荐者占 80.0%，少 30.0 个百分点" in texts[1]
    assert texts[2].startswith("**贬损者带来的风险收入：¥150.00**")
    assert texts[3].startswith("**未解决工单带来的风险收入：¥60.00**")
    assert texts[4].startswith("**出餐速度满意度每提升一分，每位会员价值 ¥2.83**")
    assert tab.dataframe[1].value.to_dict("records")[2]["说明"] == "n = 12，样本过少"


def test_an_empty_mart_says_which_window_did_not_fit(serving_home, open_money):
    add_money_marts(serving_home, value_rows=False)
    _, tab = open_money("cx_director")
    (info,) = tab.info
    assert "transactions 2026-01-05 to 2026-01-14" in info.value
    assert "half the days from the first to the last transaction" in info.value


def test_an_older_serving_copy_still_shows_the_categories(serving_home, open_money):
    add_money_marts(serving_home, money_marts=False)
    at, tab = open_money("cx_director")
    assert any("marts.mart_experience_money" in info.value for info in tab.info)
    assert [r["Category"] for r in tab.dataframe[0].value.to_dict("records")] == [
        "Promoter",
        "Passive",
        "Detractor",
    ]
    # without the money mart's names, the picker names the scopes by id
    assert at.selectbox(key="insights_money_scope").options == [
        "Chain",
        "Region R01 (R01)",
        "Store S001 (S001)",
    ]
