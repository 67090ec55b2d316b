"""The Insights page's Peak and end tab on hand-made marts.mart_peak_end rows.

The conftest's serving copy (stores S001, S002 in R01, S003 in R02; stages Order: app, value and
Fulfil: speed, staff in marts.dim_touchpoint) gets these rows:
  chain: whole journey fix_worst_moment (R² 51.4% -> 54.6% with the worst moment, worst most often
    Value), Order average_is_enough, Fulfil too few (n = 40);
  region R01: whole journey fix_last_moment (last most often Staff);
  stores: S001 too few (n = 12), S002 average_is_enough, S003 too few (n = 9).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.insights.peak_end import MART_COLUMNS
from streamlit_app import widgets

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "insights.py"
TIMEOUT_SECONDS = 30
NaN = None
# r2_mean, r2_mean_lowest, r2_mean_last, r2_mean_lowest_last, lowest gain, lowest p, last gain, last p,
# both gain, both p, lowest beta, last beta
FIT_WORST = (0.514, 0.546, 0.516, 0.547, 0.032, 2e-10, 0.002, 0.08, 0.033, 1e-9, 0.31, 0.04)
FIT_FLAT = (0.30, 0.302, 0.303, 0.304, 0.002, 0.21, 0.003, 0.04, 0.004, 0.1, 0.05, 0.06)
FIT_LAST = (0.40, 0.401, 0.43, 0.431, 0.001, 0.5, 0.03, 0.004, 0.031, 0.006, 0.02, 0.2)
NO_FIT = (NaN,) * 12
# scope level, scope id, stage, n, fit, lowest touchpoint, last touchpoint, reportable, verdict
ROWS = [
    ("chain", "chain", "journey", 820, FIT_WORST, "value", "staff", True, "fix_worst_moment"),
    ("chain", "chain", "order", 700, FIT_FLAT, "value", "value", True, "average_is_enough"),
    ("chain", "chain", "fulfil", 40, NO_FIT, "speed", "staff", False, "too_few"),
    ("region", "R01", "journey", 300, FIT_LAST, "value", "staff", True, "fix_last_moment"),
    ("store", "S001", "journey", 12, NO_FIT, "value", "staff", False, "too_few"),
    ("store", "S002", "journey", 150, FIT_FLAT, "value", "staff", True, "average_is_enough"),
    ("store", "S003", "journey", 9, NO_FIT, "speed", "staff", False, "too_few"),
]  # fmt: skip


def _mart_rows() -> list[tuple]:
    return [
        (level, scope_id, stage, n, *fit, 3.9, 3.1, 3.8, lowest, last, reportable, verdict)
        for level, scope_id, stage, n, fit, lowest, last, reportable, verdict in ROWS
    ]


@pytest.fixture
def peak_end_home(serving_home: Path) -> Path:
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        types = {"scope_level": "varchar", "scope_id": "varchar", "stage": "varchar", "n": "bigint",
                 "lowest_touchpoint": "varchar", "last_touchpoint": "varchar",
                 "is_reportable": "boolean", "verdict": "varchar"}  # fmt: skip
        columns = ", ".join(f"{column} {types.get(column, 'double')}" for column in MART_COLUMNS)
        connection.execute(f"create table marts.mart_peak_end ({columns})")
        connection.executemany(
            f"insert into marts.mart_peak_end values ({', '.join(['?'] * len(MART_COLUMNS))})", _mart_rows()
        )
    return serving_home


@pytest.fixture
def open_tab(sign_in_as):
    def run(role: str, language: str = "en"):
        at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT_SECONDS)
        at.session_state[widgets.KEY_LANGUAGE] = language
        at = sign_in_as(at, role).run()
        assert not at.exception, at.exception
        (tab,) = [tab for tab in at.tabs if tab.label in ("Peak and end", "峰终体验")]
        return at, tab

    return run


def test_the_chain_tab_says_fix_the_worst_moment_and_draws_only_the_reportable_stages(
    peak_end_home, open_tab
):
    at, tab = open_tab("cx_director")
    assert at.selectbox(key="insights_peak_end_scope").value == "chain:chain"
    assert [s.value for s in tab.subheader] == ["Whole journey", "Order", "Fulfil"]
    journey = tab.markdown[0].value
    assert journey.startswith("**Fix the worst moment.**")
    assert "explains 3.2 more points of R² (p < 0.001)" in journey and "most often Value" in journey
    assert tab.markdown[1].value.startswith("**The average is enough.**")
    assert "(0.2 points of R², p = 0.210)" in tab.markdown[1].value
    assert [i.value for i in tab.info] == [
        "n = 40, too few: comparing the models needs at least 100 respondents."
    ]
    assert len(tab.get("vega_lite_chart")) == 2  # the two reportable stages, not the too-few one
    rows = tab.dataframe[0].value.to_dict("records")
    assert [(r["Stage"], r["Verdict"], r["Responses"]) for r in rows] == [
        ("Whole journey", "Fix the worst moment", 820),
        ("Order", "The average is enough", 700),
        ("Fulfil", "n = 40, too few", 40),
    ]
    assert (rows[0]["R² mean (%)"], rows[0]["R² mean + worst (%)"], rows[0]["Worst: gain (points)"]) == (
        51.4, 54.6, 3.2,
    )  # fmt: skip
    assert rows[0]["Worst: p"] == "< 0.001" and rows[0]["Last: p"] == "0.080"
    assert math.isnan(rows[2]["R² mean (%)"]) and rows[2]["Worst: p"] in ("", None)  # too few: no figure


def test_a_region_says_fix_the_last_moment(peak_end_home, open_tab):
    at, tab = open_tab("cx_director")
    at.selectbox(key="insights_peak_end_scope").select("region:R01").run()
    assert not at.exception
    (tab,) = [t for t in at.tabs if t.label == "Peak and end"]
    assert tab.markdown[0].value.startswith("**Fix the last moment.**")
    assert "explains 3.0 more points of R² (p = 0.004)" in tab.markdown[0].value
    assert "most often Staff" in tab.markdown[0].value


def test_a_store_manager_reads_their_own_store_as_too_few_and_no_other_store(peak_end_home, open_tab):
    at, tab = open_tab("store_manager")
    picker = at.selectbox(key="insights_peak_end_scope")
    assert picker.value == "store:S001"
    assert picker.options == ["Chain", "Region 华东 (R01)", "Store 人民广场店 (S001)"]
    assert [i.value for i in tab.info] == [
        "n = 12, too few: comparing the models needs at least 100 respondents."
    ]
    assert not tab.markdown and len(tab.get("vega_lite_chart")) == 0


def test_the_tab_speaks_chinese(peak_end_home, open_tab):
    _, tab = open_tab("cx_director", "zh")
    assert [s.value for s in tab.subheader] == ["整个旅程", "下单", "等待取餐"]
    assert tab.markdown[0].value.startswith("**先改善最差的环节。**")
    assert (
        "再解释 3.2 个百分点的 R²（p < 0.001）" in tab.markdown[0].value
        and "最常是性价比" in tab.markdown[0].value
    )
    assert [i.value for i in tab.info] == ["n = 40，样本过少：比较模型至少需要 100 位受访者。"]
