"""The Journey page and its data-access questions, on the conftest's marts.fct_journeys hand counts.

Countable CSAT ratings (all stores): speed 52 (38 top-box), staff 40 (40), value 60 (43), app 12.
Stage NPS counts the journeys that rated any touchpoint of the stage:
  order (app, value): 60 journeys, 43 promoters / 4 passives / 13 detractors -> NPS 50.0
  fulfil (speed, staff): 52 journeys, 38 / 4 / 10 -> NPS 53.8
and splits them into journeys satisfied with every touchpoint of the stage they rated (top-2-box)
and the others; those counts are recomputed here in pandas from the fixture's rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlake.metrics import nps_from_counts
from streamlit_app import data_access
from streamlit_app.data_access import Filters, Scope

PAGE = Path(__file__).resolve().parents[2] / "streamlit_app" / "views" / "journey.py"
EVERYTHING = Scope.everything()
NO_FILTERS = Filters()


@pytest.fixture
def run_page(sign_in_as):
    """Runs the page signed in as the CX director, who sees every store."""
    return lambda: sign_in_as(AppTest.from_file(str(PAGE), default_timeout=30), "cx_director").run()


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def test_the_journey_map_shows_csat_volume_and_stage_nps_from_the_fixture(serving_home, run_page):
    at = run_page()
    assert not at.exception
    assert at.title[0].value == "Customer journey"
    # Journey order from dim_touchpoint (inserted out of order); app has 12 ratings, below 30.
    assert list(metrics(at).items()) == [
        ("App", "n = 12, too few"),  # the label where the score would be
        ("Value", "71.7%"),  # 43 of 60
        ("Speed", "73.1%"),  # 38 of 52
        ("Staff", "100.0%"),
    ]
    markdown = texts(at.markdown)
    assert markdown.index("#### Order") < markdown.index("#### Fulfil")
    for stage in ("order", "fulfil"):
        satisfied = nps_from_counts(*_stage_counts_in_pandas(serving_home, stage, satisfied=True))
        assert f"Satisfied with this stage: {_headline(satisfied)}" in markdown
    assert "Mean 4.12 (1-5) · n = 52" in markdown  # speed: 214 / 52
    captions = texts(at.caption)
    assert "Not reported: at least 30 ratings needed." in captions  # the app card
    # speed's mean wait over its channels' 60 journeys (not delivery): (352 + 88) / 60 minutes
    assert "Mean wait 7.3 min" in captions
    assert "Mean spend ¥34.12" in captions  # value's operational metric: 2,320 / 68 journeys
    assert "Refunded 10.3%" in captions  # value's POS event: 7 of 68 journeys refunded
    assert len(at.get("vega_lite_chart")) == 2  # the emotion curve and the X+O scatter


def test_the_emotion_curve_is_mean_csat_by_stage_in_journey_order(serving_home):
    stages = data_access.journey_stages(EVERYTHING, NO_FILTERS)
    assert stages["stage_id"].tolist() == ["order", "fulfil"]
    assert stages["ratings"].tolist() == [72, 92]
    assert stages["mean_csat"].tolist() == pytest.approx([255 / 72, 404 / 92])


def test_stage_nps_rolls_up_counts_and_never_averages_store_nps(serving_home):
    order = data_access.journey_stages(EVERYTHING, NO_FILTERS).set_index("stage_id").loc["order"]
    expected = nps_from_counts(43, 4, 13)
    assert (order["n"], order["nps"], order["ci_low"], order["ci_high"]) == pytest.approx(
        (expected.n, expected.nps, expected.ci_low, expected.ci_high)
    )
    # The three stores' order-stage NPS are 50.0, 66.7 and 25.0; their mean (47.2) is not the NPS.
    assert order["nps"] == pytest.approx(50.0)


def _stage_counts_in_pandas(serving_home, stage_id: str, satisfied: bool) -> tuple[int, int, int]:
    """(promoters, passives, detractors) of the countable journeys that rated the stage, satisfied
    (every rated touchpoint of the stage top-2-box) or not, computed without the page's SQL."""
    with duckdb.connect(str(serving_home / "serving.duckdb"), read_only=True) as connection:
        journeys = connection.execute("select * from marts.fct_journeys where is_countable_response").df()
        stages = connection.execute("select touchpoint_id, stage_id from marts.dim_touchpoint").df()
    ratings = journeys.melt(
        id_vars=["journey_id", "nps_category"],
        value_vars=[column for column in journeys.columns if column.startswith("csat_")],
        var_name="touchpoint_id",
        value_name="csat",
    ).dropna(subset=["csat"])
    ratings["touchpoint_id"] = ratings["touchpoint_id"].str.removeprefix("csat_")
    staged = ratings.merge(stages, on="touchpoint_id").query("stage_id == @stage_id")
    verdict = staged.groupby("journey_id").agg(
        nps_category=("nps_category", "first"), satisfied=("csat", lambda csat: bool((csat >= 4).all()))
    )
    chosen = verdict[verdict["satisfied"] == satisfied]["nps_category"]
    return tuple(int((chosen == category).sum()) for category in ("promoter", "passive", "detractor"))


def _headline(result) -> str:
    return f"NPS {result.nps:.1f} (95% CI {result.ci_low:.1f} – {result.ci_high:.1f}), n = {result.n:,}"


@pytest.mark.parametrize("stage_id", ["order", "fulfil"])
def test_stage_nps_splits_journeys_the_stage_satisfied_from_those_it_did_not(serving_home, stage_id):
    stage = data_access.journey_stages(EVERYTHING, NO_FILTERS).set_index("stage_id").loc[stage_id]
    for group, satisfied in (("satisfied", True), ("unsatisfied", False)):
        counts = _stage_counts_in_pandas(serving_home, stage_id, satisfied)
        expected = nps_from_counts(*counts)
        got = [stage[f"{kind}_{group}"] for kind in ("promoters", "passives", "detractors")]
        assert got == list(counts)
        assert stage[f"nps_{group}"] == pytest.approx(expected.nps, nan_ok=True)
    assert stage["n_satisfied"] + stage["n_unsatisfied"] == stage["n"]
    assert stage["n_satisfied"] > 0 and stage["n_unsatisfied"] > 0


def test_non_countable_ratings_stay_out_of_every_number(serving_home):
    # S001's three test submissions rated speed, staff and value 1 with an NPS of 0.
    csat = data_access.journey_touchpoints(EVERYTHING, Filters(store_ids=("S001",))).set_index(
        "touchpoint_id"
    )
    assert csat.loc[["speed", "staff", "value"], "n"].tolist() == [40, 40, 40]
    assert csat.loc["staff", "top2_share"] == pytest.approx(1.0)


NONE_RATED = {"app": 0, "value": 0, "speed": 0, "staff": 0}


@pytest.mark.parametrize(
    ("scope", "filters", "expected_n", "expected_stores"),
    [
        (Scope("store", ("S003",)), NO_FILTERS, {**NONE_RATED, "value": 8}, ["S003"]),
        (
            Scope("region", ("R01",)),
            NO_FILTERS,
            {"app": 12, "value": 52, "speed": 52, "staff": 40},
            ["S001", "S002"],
        ),
        (EVERYTHING, Filters(channels=("app",)), {"app": 12, "value": 12, "speed": 12, "staff": 0}, ["S002"]),
        # Each store's journeys cycle over 10 days; 01-05 holds its journeys 0, 10, 20...
        (
            EVERYTHING,
            Filters(date_from=date(2026, 1, 5), date_to=date(2026, 1, 5)),
            {"app": 2, "value": 7, "speed": 6, "staff": 4},
            ["S001", "S002", "S003"],
        ),
        (Scope("region", ("R02",)), Filters(store_ids=("S001",)), NONE_RATED, []),  # a filter cannot widen
        (Scope("store", ()), NO_FILTERS, NONE_RATED, []),  # an empty store scope sees nothing
    ],
    ids=["store-S003", "region-R01", "channel-app", "one-day", "scope-wins", "empty-scope"],
)
def test_journey_questions_stay_inside_the_scope_and_filters(
    serving_home, scope, filters, expected_n, expected_stores
):
    csat = data_access.journey_touchpoints(scope, filters)
    assert csat.set_index("touchpoint_id")["n"].to_dict() == expected_n
    stores = data_access.experience_vs_operations(scope, filters, "value", "wait_minutes")
    assert stores["store_id"].tolist() == expected_stores


def test_a_sidebar_store_filter_narrows_the_page_to_too_few_responses(serving_home, run_page):
    at = run_page()
    at.multiselect(key="filter_stores").select("S002").run()
    assert not at.exception
    assert all(value.endswith(", too few") for value in metrics(at).values())  # 12 ratings at most
    assert any(
        ", too few, no NPS" in caption and "at least 30 needed" in caption for caption in texts(at.caption)
    )
    assert texts(at.info) == [
        "Too few ratings in every stage to draw the curve (at least 30 per stage).",
        "No store has enough ratings of this touchpoint to plot (at least 30 needed).",
    ]


def test_the_x_o_view_puts_mean_wait_beside_speed_csat_per_store(serving_home, run_page):
    at = run_page()
    assert at.selectbox(key="xo_touchpoint").value == "value"  # the first touchpoint with a measure
    at.selectbox(key="xo_touchpoint").select("speed").run()
    assert not at.exception
    assert at.selectbox(key="xo_measure_speed").value == "wait_minutes"  # from the journey map
    table = at.dataframe[0].value.set_index("Store")
    # Speed exists in store and in the app, so S003 (delivery only) has no row.
    assert table["Ratings"].to_dict() == {"人民广场店": 40, "徐家汇店": 12}
    assert table.loc["人民广场店", "CSAT (top-2-box) (%)"] == 75.0
    assert (
        table.loc["徐家汇店", ["CSAT (top-2-box) (%)", "Mean CSAT (1-5)"]].isna().all()
    )  # below the minimum n
    # S001: 30 waits of 4, 10 of 12, 3 of 4 and 5 of 20 minutes; S002: 8 of 6 and 4 of 10.
    # The table shows two decimals.
    assert table["Mean wait (minutes)"].tolist() == pytest.approx([352 / 48, 88 / 12], abs=0.005)
    sd = ((3968 - 352**2 / 48) / 47) ** 0.5, ((688 - 88**2 / 12) / 11) ** 0.5  # 5.43, 1.97
    assert table["Standard deviation"].tolist() == pytest.approx(list(sd), abs=0.005)
    assert "Too few responses to plot (fewer than 30): 徐家汇店." in texts(at.caption)


def test_the_x_o_view_puts_refunds_beside_value(serving_home, run_page):
    at = run_page()
    at.selectbox(key="xo_measure_value").select("is_refunded").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("Store")
    # a rate in percent with two decimals, like the file (0.33 would hide a third of a percent)
    assert table["Refund rate (%)"].to_dict() == {"人民广场店": 0.0, "徐家汇店": 33.33, "福田店": 37.5}
    assert "Standard deviation" not in table.columns  # a rate has no spread of its own


def test_a_touchpoint_added_to_the_journey_map_appears_without_a_code_edit(serving_home, run_page):
    # What a new touchpoint in journey_map.yaml produces: a dim_touchpoint row (here in a new stage)
    # and a csat_<id> column in fct_journeys.
    with duckdb.connect(str(serving_home / "serving.duckdb")) as connection:
        connection.execute(
            "insert into marts.dim_touchpoint values"
            " ('taste', '口味', 'Taste', 'consume', '品尝', 'Consume', 4, 5,"
            " 'in_store,app,delivery', null, 'csat',"
            " 'remake,refund', '好喝')"
        )
        connection.execute("alter table marts.fct_journeys add column csat_taste integer")
        connection.execute(
            "update marts.fct_journeys set csat_taste = 4 where store_id = 'S001' and is_countable_response"
        )
    at = run_page()
    assert not at.exception
    assert metrics(at)["Taste"] == "100.0%"
    assert "#### Consume" in texts(at.markdown)
    assert "Mean 4.00 (1-5) · n = 40" in texts(at.markdown)
    # Its POS events (remake, refund) become its operational measures, on the card and in X+O.
    captions = texts(at.caption)
    assert "Remade 14.7%" in captions  # 10 of 68 journeys
    assert captions.count("Refunded 10.3%") == 2  # 7 of 68, on the value card and the taste card
    at.selectbox(key="xo_touchpoint").select("taste").run()
    assert not at.exception
    assert at.selectbox(key="xo_measure_taste").value == "is_remake"
    assert at.dataframe[0].value.set_index("Store").loc["人民广场店", "Remake rate (%)"] == 20.83  # 10 of 48


def test_the_journey_page_speaks_chinese_when_asked(serving_home, run_page):
    at = run_page()
    at.selectbox(key="lang").select("zh").run()
    assert not at.exception
    assert at.title[0].value == "客户旅程"
    assert metrics(at)["性价比"] == "71.7%"
    assert "#### 等待取餐" in texts(at.markdown)
    assert any(line.startswith("对本阶段满意：NPS ") for line in texts(at.markdown))


def test_the_journey_page_without_data_says_no_data_found(empty_serving_home, run_page):
    at = run_page()
    assert not at.exception
    assert texts(at.info) == ["No data found"]
    assert len(at.metric) == 0


def test_the_journey_page_before_the_first_publish_says_how_to_get_data(missing_serving_home, run_page):
    at = run_page()
    assert not at.exception
    assert "cxlake run" in at.warning[0].value


def test_the_readme_query_runs_on_the_marts_and_gives_the_hand_counts(serving_home):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Query the marts") :]
    sql = section[section.index("```sql") + len("```sql") : section.index("```", section.index("```sql") + 6)]
    with duckdb.connect(str(serving_home / "serving.duckdb"), read_only=True) as connection:
        rows = connection.execute(sql).fetchall()
    assert [
        (store, journeys, float(wait), responses, float(nps))
        for store, journeys, wait, _, _, _, responses, nps in rows
    ] == [
        ("S003", 8, 30.0, 8, 25.0),
        ("S001", 48, 4.0, 40, 50.0),  # S001's 3 test submissions and 5 unsurveyed journeys count as journeys
        ("S002", 12, 6.0, 12, 66.7),
    ]


def _operations_in_pandas(serving_home, filters: Filters) -> dict[tuple[str, str], tuple[int, float]]:
    """(touchpoint, measure) -> (orders with a value, mean or share) over the journeys in the
    filters and the touchpoint's channels, computed from the journey rows without the mart."""
    with duckdb.connect(str(serving_home / "serving.duckdb"), read_only=True) as connection:
        # a journey's order: its measures, with the item and line counts of its transaction
        journeys = connection.execute(
            "select j.*, x.count_items, x.count_lines from marts.fct_journeys as j"
            " left join marts.fct_transactions as x using (transaction_id)"
        ).df()
        touchpoints = connection.execute("select touchpoint_id, channels from marts.dim_touchpoint").df()
    day = journeys["journey_date"].dt.date
    chosen = journeys[
        (day >= (filters.date_from or date.min))
        & (day <= (filters.date_to or date.max))
        & (journeys["channel"].isin(filters.channels) if filters.channels else True)
        & (journeys["store_id"].isin(filters.store_ids) if filters.store_ids else True)
    ]
    expected = {}
    for touchpoint_id, channels in touchpoints.itertuples(index=False):
        rows = chosen[chosen["channel"].isin(channels.split(","))]
        for measure in data_access.OPERATIONAL_MEASURES:
            values = rows[measure].dropna().astype("float64")
            if len(values):
                expected[(touchpoint_id, measure)] = (len(values), float(values.mean()))
    return expected


@pytest.mark.parametrize(
    "filters",
    [
        NO_FILTERS,
        Filters(channels=("app", "delivery")),
        Filters(date_from=date(2026, 1, 6), date_to=date(2026, 1, 8)),
        Filters(store_ids=("S001", "S003")),
    ],
    ids=["all", "two-channels", "three-days", "two-stores"],
)
def test_operations_summed_from_the_mart_equal_the_journey_level_values(serving_home, filters):
    """Every sidebar filter is a sum of fct_touchpoint_daily's rows: the page's means and shares per
    touchpoint, and per store in the X+O view, are those of the journeys themselves."""
    expected = _operations_in_pandas(serving_home, filters)
    operations = data_access.touchpoint_operations(EVERYTHING, filters)
    got = {
        (touchpoint_id, measure): value
        for touchpoint_id, row in operations.iterrows()
        for measure, value in row.items()
        if not pd.isna(value)
    }
    assert got == pytest.approx({key: mean for key, (_, mean) in expected.items()})
    assert len(got) >= 8
    stores = data_access.experience_vs_operations(EVERYTHING, filters, "value", "is_refunded")
    n, share = expected[("value", "is_refunded")]
    assert stores["operational_n"].sum() == n
    assert (stores["operational_value"] * stores["operational_n"]).sum() / n == pytest.approx(share)
