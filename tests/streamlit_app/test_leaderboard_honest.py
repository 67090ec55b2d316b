"""The leaderboard made honest (issue 14): tiers the intervals can tell apart instead of 1, 2, 3;
stores under the minimum listed apart, never placed; a store manager's place among the chain with
only aggregates of the others; readable store names; integrity marks and ranking without suspect
responses when the detection asset is published.

The serving copy is the conftest's (S001-S003, all under 30 answers) plus STORES, named the way the
chain names its stores ("栖云咖啡(上海静安寺店)"), with hand counts whose intervals are known:

  S010 R01 70/20/10 NPS  60.0 [45.3, 71.2]  top     could rank 1st-2nd
  S011 R01 55/25/20 NPS  35.0 [18.7, 49.3]  top     1st-3rd (overlaps S010)
  S012 R02 40/30/30 NPS  10.0 [-6.3, 25.7]  middle  2nd-3rd (S010 wholly above, S013 wholly below)
  S013 R02 25/25/50 NPS -25.0 [-40.2, -8.3] bottom  4th
  S014 R02  3/1/0   n = 4: too few, never placed

With the integrity contract, S011 is flagged and 30 of its promoters are suspect: without them it
is 25/25/20, NPS 7.1 [-11.4, 25.1], bottom tier (2nd-4th), and S010 is 1st on its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import define_csat_daily, define_nps_daily
from streamlit.testing.v1 import AppTest

from cxlake.access.roles import Scope
from cxlake.metrics import nps_from_counts
from streamlit_app import data_access
from streamlit_app.data_access import Filters, interval_places

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "leaderboard.py"
FIRST_DAY = datetime(2026, 1, 5, 12, tzinfo=timezone(timedelta(hours=8)))  # the conftest's days
BRAND = "栖云咖啡"
# store -> (branch, region, region name, promoters, passives, detractors)
STORES = {
    "S010": ("上海静安寺店", "R01", "华东", 70, 20, 10),
    "S011": ("上海徐汇店", "R01", "华东", 55, 25, 20),
    "S012": ("深圳南山店", "R02", "华南", 40, 30, 30),
    "S013": ("深圳宝安店", "R02", "华南", 25, 25, 50),
    "S014": ("深圳福田店", "R02", "华南", 3, 1, 0),
}
# The conftest's own stores: (name, region, promoters, passives, detractors).
SMALL_STORES = {
    "S001": ("人民广场店", "R01", 10, 4, 6),
    "S002": ("徐家汇店", "R01", 4, 6, 2),
    "S003": ("福田店", "R02", 3, 1, 4),
}
SUSPECT_PROMOTERS = 30  # of S011's promoters, the gamed answers
FLAGGED_REASONS = "excess_tens,fast_after_sale"


def add_stores(serving: Path) -> None:
    """STORES in dim_store and their countable answers (promoters first) in fct_survey_responses."""
    rows = []
    for store, (_, region, _, promoters, passives, detractors) in STORES.items():
        for index, score in enumerate([10] * promoters + [8] * passives + [3] * detractors):
            at = FIRST_DAY + timedelta(days=index % 10)
            key = f"{store}-{index:03d}"
            category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            rows.append(
                (
                    key, "SV_cxlakeApp", key, "qualtrics", at, at.date(), store, region, "in_store",
                    f"T{key}", score, category, 3, "还行", "complete", True,
                )
            )  # fmt: skip
    with duckdb.connect(str(serving)) as connection:
        connection.executemany(
            "insert into marts.dim_store values (?, ?, ?, ?, '上海', date '2024-01-01')",
            [
                (store, f"{BRAND}({branch})", region, name)
                for store, (branch, region, name, *_) in STORES.items()
            ],
        )
        connection.executemany(
            f"insert into marts.fct_survey_responses values ({', '.join(['?'] * 16)})", rows
        )


def add_integrity_contract(serving: Path) -> None:
    """The detection asset's contract: fct_survey_responses.is_suspect (S011's first 30 promoters)
    and marts.mart_integrity_store with S011 flagged, its NPS with and without them."""
    with_suspect = nps_from_counts(55, 25, 20).nps
    without_suspect = nps_from_counts(55 - SUSPECT_PROMOTERS, 25, 20).nps
    with duckdb.connect(str(serving)) as connection:
        connection.execute(
            "alter table marts.fct_survey_responses add column is_suspect boolean default false"
        )
        connection.execute(
            "update marts.fct_survey_responses set is_suspect = true"
            " where store_id = 'S011' and response_key < ?",
            [f"S011-{SUSPECT_PROMOTERS:03d}"],
        )
        define_nps_daily(connection)
        define_csat_daily(connection)
        connection.execute(
            "create table marts.mart_integrity_store (store_id varchar, store_name varchar,"
            " region_id varchar, responses int, suspect_responses int, integrity_score double,"
            " is_flagged boolean, reasons varchar, nps double, nps_excluding_suspect double)"
        )
        connection.executemany(
            "insert into marts.mart_integrity_store values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("S010", "x", "R01", 100, 0, 1.0, False, "", 60.0, 60.0),
                ("S011", "x", "R01", 100, SUSPECT_PROMOTERS, 0.01, True, FLAGGED_REASONS, with_suspect,
                 without_suspect),
                ("S012", "x", "R02", 100, 0, 1.0, False, "", 10.0, 10.0),
                ("S013", "x", "R02", 100, 0, 1.0, False, "", -25.0, -25.0),
            ],
        )  # fmt: skip


@pytest.fixture
def chain_home(serving_home: Path) -> Path:
    add_stores(serving_home / "serving.duckdb")
    return serving_home


@pytest.fixture
def integrity_home(chain_home: Path) -> Path:
    add_integrity_contract(chain_home / "serving.duckdb")
    return chain_home


COUNTS = {store: values[-3:] for store, values in (STORES | SMALL_STORES).items()}


def counts_of(stores: list[str]) -> tuple[int, int, int]:
    """Promoters, passives and detractors summed over ``stores``."""
    return tuple(sum(COUNTS[store][i] for store in stores) for i in range(3))


# --- Tiers from intervals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "tiers", "best", "worst"),
    [
        # Separated: each store wholly above the next.
        ([(50, 70), (20, 40), (-10, 10)], ["top", "middle", "bottom"], [1, 2, 3], [1, 2, 3]),
        # All overlapping: nobody is distinguishable from the best, whatever the NPS order.
        ([(0, 40), (-5, 35), (-30, 10)], ["top", "top", "top"], [1, 1, 1], [3, 3, 3]),
        # The second overlaps the first, the third only the second: it is the bottom, not the middle.
        ([(40, 70), (10, 45), (-20, 15)], ["top", "top", "bottom"], [1, 1, 2], [2, 3, 3]),
        # One store: nothing to compare with, so no tier (never "rank 1 of 1").
        ([(10, 30)], [None], [1], [1]),
    ],
    ids=["separated", "all-overlap", "chain-of-overlaps", "alone"],
)
def test_tiers_and_places_come_from_whether_intervals_overlap(intervals, tiers, best, worst):
    index = [f"S{i}" for i in range(len(intervals))]
    places = interval_places(
        pd.Series([low for low, _ in intervals], index=index),
        pd.Series([high for _, high in intervals], index=index),
    )
    assert places["tier"].tolist() == tiers
    assert places["best_rank"].tolist() == best
    assert places["worst_rank"].tolist() == worst


def test_leaderboard_places_stores_in_tiers_and_leaves_small_ones_unplaced(chain_home):
    board = data_access.store_leaderboard(Scope.everything(), Filters()).set_index("store_id")

    placed = board[~board["too_few"]]
    assert list(placed.index) == ["S010", "S011", "S012", "S013"]
    assert placed["tier"].tolist() == ["top", "top", "middle", "bottom"]
    assert placed["best_rank"].tolist() == [1, 1, 2, 4]
    assert placed["worst_rank"].tolist() == [2, 3, 3, 4]
    assert set(board["ranked_stores"]) == {4}
    assert "rank" not in board.columns
    small = board.loc["S014"]
    assert (bool(small["too_few"]), int(small["n"])) == (True, 4)
    assert pd.isna(small["tier"]) and pd.isna(small["best_rank"])


def test_a_regions_stores_are_placed_among_the_whole_chain(chain_home):
    board = data_access.store_leaderboard(Scope("region", ("R02",)), Filters())

    assert list(board["store_id"]) == ["S012", "S013", "S014", "S003"]
    assert board["tier"].tolist()[:2] == ["middle", "bottom"]  # as on the director's page
    benchmarks = data_access.peer_benchmarks(Scope("region", ("R02",)), Filters())
    assert benchmarks["level"].tolist() == ["region", "chain"]
    region = nps_from_counts(*counts_of(["S012", "S013", "S014", "S003"]))
    assert benchmarks.loc[0, ["n", "nps"]].tolist() == [region.n, pytest.approx(region.nps)]


# --- The page ------------------------------------------------------------------------------------


def tables(at: AppTest) -> list[pd.DataFrame]:
    return [frame.value for frame in at.dataframe]


def test_director_sees_tiers_places_short_names_and_small_stores_apart(chain_home, signed_in_page):
    at = signed_in_page(chain_home, "cx_director")

    assert not at.exception
    placed, too_few = tables(at)
    assert list(placed["Store"]) == ["上海静安寺店", "上海徐汇店", "深圳南山店", "深圳宝安店"]  # no brand
    assert placed["Tier"].tolist() == [
        "Top tier: not distinguishable from the best",
        "Top tier: not distinguishable from the best",
        "Middle",
        "Bottom tier: not distinguishable from the worst",
    ]
    assert placed["Could rank"].tolist() == ["1st–2nd of 4", "1st–3rd of 4", "2nd–3rd of 4", "4th of 4"]
    assert placed["NPS"].tolist() == [60.0, 35.0, 10.0, -25.0]
    assert "Rank" not in placed.columns and "Survey integrity" not in placed.columns
    # The store with 4 answers is listed apart, labelled, with no NPS to read as a fact.
    assert too_few.loc[too_few["Store id"] == "S014", "Note"].tolist() == ["too few responses (n = 4)"]
    assert "NPS" not in too_few.columns and "深圳福田店" not in list(placed["Store"])
    assert at.toggle == []  # no integrity asset published: no switch
    assert at.metric == []  # the director's page has no "your store" tiles


def page_bytes(at: AppTest) -> bytes:
    """Every element the page sent (main area and sidebar, tables' and charts' data included) as
    the bytes of its protobuf message, where a name is its UTF-8 bytes."""
    blobs = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            blobs.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"".join(blobs)


def test_store_manager_sees_region_chain_and_place_and_no_other_store(chain_home, signed_in_page):
    at = signed_in_page(chain_home, "store_manager", "S011")

    assert not at.exception
    tiles = {metric.label: metric.value for metric in at.metric}
    region = nps_from_counts(*counts_of(["S010", "S011", "S001", "S002"]))
    chain = nps_from_counts(*counts_of([*STORES, *SMALL_STORES]))
    assert tiles == {
        "Your store: 上海徐汇店": "35.0",
        "Region 华东 (all its stores)": f"{region.nps:.1f}",
        "The chain (all stores)": f"{chain.nps:.1f}",
    }
    assert chain.n == 444 and tiles["The chain (all stores)"] == "19.8"  # 210 - 122 of 444
    position = [markdown.value for markdown in at.markdown if "could rank" in markdown.value]
    assert position == [
        "**上海徐汇店**: Top tier: not distinguishable from the best. With these intervals it could rank"
        " 1st–3rd of the 4 stores with enough responses."
    ]
    assert tables(at)[0]["Store id"].tolist() == ["S011"]
    assert len(at.get("vega_lite_chart")) == 2  # their place against the benchmarks, their trend

    sent = page_bytes(at)
    assert "上海徐汇店".encode() in sent and b"S011" in sent  # the check can see names and ids
    others = {store: values[0] for store, values in (STORES | SMALL_STORES).items() if store != "S011"}
    leaks = [text for item in others.items() for text in item if text.encode() in sent]
    assert leaks == []


def test_store_manager_of_a_small_store_is_told_why_it_has_no_place(chain_home, signed_in_page):
    at = signed_in_page(chain_home, "store_manager", "S014")

    assert not at.exception
    assert at.metric[0].label == "Your store: 深圳福田店" and at.metric[0].value == "—"
    assert "**深圳福田店**: too few responses (n = 4) to place among the 4 stores with enough." in [
        markdown.value for markdown in at.markdown
    ]
    assert "1 of 1" not in " ".join(markdown.value for markdown in at.markdown)


def test_flagged_store_is_marked_and_the_switch_ranks_without_suspect_answers(integrity_home, signed_in_page):
    at = signed_in_page(integrity_home, "cx_director")

    assert not at.exception
    placed = tables(at)[0].set_index("Store id")
    assert placed.loc["S011", "Survey integrity"] == (
        "Flagged: More 10s than peers, Answered within minutes of the sale"
    )
    assert placed.loc[["S010", "S012", "S013"], "Survey integrity"].tolist() == ["", "", ""]
    assert placed.loc["S011", "NPS"] == 35.0
    assert "上海徐汇店 (flagged)".encode() in page_bytes(at)  # the chart's label (page_bytes reads charts)

    at.toggle(key="without_suspect").set_value(True).run()

    assert not at.exception
    placed = tables(at)[0].set_index("Store id")
    with duckdb.connect(str(integrity_home / "serving.duckdb"), read_only=True) as connection:
        ((expected,),) = connection.execute(
            "select nps_excluding_suspect from marts.mart_integrity_store where store_id = 'S011'"
        ).fetchall()
    assert placed.loc["S011", "NPS"] == round(expected, 1) == 7.1
    assert placed.loc["S011", "Tier"] == "Bottom tier: not distinguishable from the worst"
    assert placed.loc["S011", "Could rank"] == "2nd–4th of 4"
    assert placed.loc["S010", "Could rank"] == "1st of 4"  # alone at the top once the gaming is out
    assert placed.loc[["S010", "S012", "S013"], "NPS"].tolist() == [60.0, 10.0, -25.0]


def test_without_suspect_nps_matches_the_marts_value(integrity_home):
    board = data_access.store_leaderboard(Scope.everything(), Filters(), without_suspect=True)
    with duckdb.connect(str(integrity_home / "serving.duckdb"), read_only=True) as connection:
        marts = dict(
            connection.execute(
                "select store_id, nps_excluding_suspect from marts.mart_integrity_store"
            ).fetchall()
        )
    nps = dict(zip(board["store_id"], board["nps"], strict=True))
    assert {store: nps[store] for store in marts} == pytest.approx(marts)


def test_without_the_integrity_asset_asking_to_exclude_suspects_fails_clearly(chain_home):
    with pytest.raises(ValueError, match="is_suspect"):
        data_access.store_leaderboard(Scope.everything(), Filters(), without_suspect=True)
