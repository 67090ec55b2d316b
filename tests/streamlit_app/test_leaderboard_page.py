"""The store leaderboard: counts from the marts, NPS and interval from cxlake.metrics, tiers only
where the sample allows, rows only of the user's scope (tiers in detail: test_leaderboard_honest)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.access.roles import Scope
from cxlake.metrics import nps_from_counts
from streamlit_app import data_access
from streamlit_app.data_access import Filters

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "leaderboard.py"

# The days of the conftest serving copy, so the sidebar's default date range covers the new rows.
FIRST_DAY = date(2026, 1, 5)
SHANGHAI = timezone(timedelta(hours=8))
# Stores with enough answers to rank, added to the tiny serving copy (whose S001-S003 have 20, 12
# and 8 answers, all under the minimum of 30): store -> (name, region, promoters, passives, detractors).
RANKED_STORES = {
    "S004": ("静安寺店", "R01", 20, 10, 10),  # NPS 25.0, n = 40
    "S005": ("南山店", "R02", 16, 8, 8),  # NPS 25.0 as well, n = 32
    "S006": ("宝安店", "R02", 6, 12, 12),  # NPS -20.0, n = 30: exactly the minimum is placed
}
REGION_NAMES = {"R01": "华东", "R02": "华南"}
# The fixture's own stores: (promoters, passives, detractors), none ranked.
SMALL_STORES = {"S001": (10, 4, 6), "S002": (4, 6, 2), "S003": (3, 1, 4)}


def add_ranked_stores(serving: Path) -> None:
    """Append RANKED_STORES to the serving copy: a dim_store row and countable answers for each."""
    rows = []
    for store, (_, region, promoters, passives, detractors) in RANKED_STORES.items():
        scores = [10] * promoters + [8] * passives + [3] * detractors
        for index, score in enumerate(scores):
            day = FIRST_DAY + timedelta(days=index % 10)
            key = f"{store}-{index:03d}"
            category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            rows.append(
                (
                    key, "SV_cxlakeApp", key, "qualtrics",
                    datetime(day.year, day.month, day.day, 12, 0, tzinfo=SHANGHAI), day,
                    store, region, "in_store", f"T{key}", score, category, 3, "还行", "complete", True,
                )
            )  # fmt: skip
    with duckdb.connect(str(serving)) as connection:
        connection.executemany(
            "insert into marts.dim_store values (?, ?, ?, ?, '上海', date '2024-01-01')",
            [
                (store, name, region, REGION_NAMES[region])
                for store, (name, region, *_) in RANKED_STORES.items()
            ],
        )
        connection.executemany(
            f"insert into marts.fct_survey_responses values ({', '.join(['?'] * 16)})", rows
        )


@pytest.fixture
def ranked_home(serving_home: Path) -> Path:
    add_ranked_stores(serving_home / "serving.duckdb")
    return serving_home


def expected_row(store: str) -> dict[str, float]:
    """n, nps and interval of ``store`` by cxlake.metrics from its hand counts."""
    counts = RANKED_STORES[store][2:] if store in RANKED_STORES else SMALL_STORES[store]
    result = nps_from_counts(*counts)
    return {"n": result.n, "nps": result.nps, "ci_low": result.ci_low, "ci_high": result.ci_high}


def test_leaderboard_does_not_rank_stores_whose_intervals_overlap(ranked_home):
    board = data_access.store_leaderboard(Scope.everything(), Filters())

    assert list(board["store_id"]) == ["S004", "S005", "S006", "S001", "S002", "S003"]
    # 25.0 [-1.4, 47.9], 25.0 [-4.4, 50.1] and -20.0 [-43.7, 7.3] all overlap: each could be first
    # or last, so all three are "not distinguishable from the best", where ranks read 1, 1, 3.
    assert board["tier"].tolist() == ["top", "top", "top", None, None, None]
    assert board["best_rank"].tolist() == [1, 1, 1, pd.NA, pd.NA, pd.NA]
    assert board["worst_rank"].tolist() == [3, 3, 3, pd.NA, pd.NA, pd.NA]
    assert board["too_few"].tolist() == [False, False, False, True, True, True]
    assert board.loc[0, ["promoters", "passives", "detractors"]].tolist() == [20, 10, 10]
    assert board.loc[0, "store_name"] == "静安寺店"
    assert board.loc[0, "region_name"] == "华东"


def test_leaderboard_nps_and_intervals_come_from_nps_from_counts(ranked_home):
    board = data_access.store_leaderboard(Scope.everything(), Filters())

    for row in board.to_dict("records"):
        expected = expected_row(row["store_id"])
        assert {key: row[key] for key in expected} == pytest.approx(expected), row["store_id"]
    assert board.loc[board["store_id"] == "S001", "nps"].item() == pytest.approx(20.0)  # (10 - 6) / 20


def test_leaderboard_without_a_store_at_the_minimum_places_none(serving_home):
    board = data_access.store_leaderboard(Scope.everything(), Filters())

    # Unplaced stores still come best NPS first: S001 20.0, S002 16.7, S003 -12.5.
    assert list(board["store_id"]) == ["S001", "S002", "S003"]
    assert board["tier"].isna().all() and board["best_rank"].isna().all()
    assert board["n"].tolist() == [20, 12, 8]  # S002's answer without an NPS is not counted


@pytest.mark.parametrize(
    ("scope", "stores"),
    [
        # A regional manager sees the region's stores (placed among the whole chain).
        (Scope("region", ("R01",)), ["S004", "S001", "S002"]),
        (Scope("region", ("R02",)), ["S005", "S006", "S003"]),
        # A store manager sees one row, their own.
        (Scope("store", ("S003",)), ["S003"]),
        # A store scope without ids sees nothing (fails closed).
        (Scope("store", ()), []),
    ],
    ids=["region-R01", "region-R02", "store-S003", "empty-store-scope"],
)
def test_leaderboard_keeps_to_the_users_scope(ranked_home, scope, stores):
    board = data_access.store_leaderboard(scope, Filters())

    assert list(board["store_id"]) == stores


def test_leaderboard_places_a_scopes_stores_among_the_whole_chain(ranked_home):
    board = data_access.store_leaderboard(Scope("region", ("R02",)), Filters())

    # Two of the region's stores, three in the chain with enough answers: never "1 of 2".
    assert board["worst_rank"].tolist() == [3, 3, pd.NA]
    assert board["ranked_stores"].tolist() == [3, 3, 3]


def test_leaderboard_follows_the_sidebar_filters(ranked_home):
    board = data_access.store_leaderboard(Scope.everything(), Filters(channels=("delivery",)))

    assert list(board["store_id"]) == ["S003"]


# --- The page ------------------------------------------------------------------------------------


def table_of(at: AppTest) -> pd.DataFrame:
    return at.dataframe[0].value


def test_leaderboard_page_shows_tiers_intervals_and_unplaced_stores(ranked_home, signed_in_page):
    at = signed_in_page(ranked_home, "cx_director")

    assert not at.exception
    assert at.title[0].value == "Store leaderboard"
    table = table_of(at)
    assert list(table["Store"]) == ["静安寺店", "南山店", "宝安店"]
    assert table["Tier"].tolist() == ["Top tier: not distinguishable from the best"] * 3
    assert table["Could rank"].tolist() == ["1st–3rd of 3"] * 3
    assert at.dataframe[0].proto.placeholder == ""
    assert table["NPS"].tolist() == pytest.approx([25.0, 25.0, -20.0])
    assert table["95% CI low"].tolist()[0] == round(nps_from_counts(20, 10, 10).ci_low, 1)
    assert at.caption[0].value == (
        "The intervals cannot tell these stores apart: every one is in the top tier."
    )
    too_few = at.dataframe[1].value
    assert list(too_few["Store"]) == ["人民广场店", "徐家汇店", "福田店"]
    assert too_few["Note"].tolist() == [
        "too few responses (n = 20)", "too few responses (n = 12)", "too few responses (n = 8)"
    ]  # fmt: skip
    assert len(at.get("vega_lite_chart")) == 1
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Download CSV", "Download Excel"] * 2


def test_store_manager_sees_only_their_store_on_the_leaderboard(ranked_home, signed_in_page):
    at = signed_in_page(ranked_home, "store_manager", "S003")

    assert not at.exception
    assert list(table_of(at)["Store"]) == ["福田店"]
    assert table_of(at)["Note"].tolist() == ["too few responses (n = 8)"]
    assert [info.value for info in at.info] == ["No store has the 30 responses a place needs."]


def test_leaderboard_page_speaks_chinese(ranked_home, signed_in_page):
    at = signed_in_page(ranked_home, "regional_manager", "R01")
    at.selectbox(key="lang").select("zh").run()

    assert not at.exception
    assert at.title[0].value == "门店排行"
    assert table_of(at)["梯队"].tolist() == ["第一梯队：与最佳门店无法区分"]
    assert table_of(at)["可能名次"].tolist() == ["第 1–3 名（共 3 家）"]
    assert at.dataframe[1].value["备注"].tolist() == ["答卷过少（n = 20）", "答卷过少（n = 12）"]
