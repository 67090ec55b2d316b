"""marts.mart_peak_end on the shared seeded demo build (tests/conftest.py: 10 days, small): the
pipeline writes it, the chain's model finds the generator's planted peak-end effect (the recommend
score leans on the worst touchpoint beyond the mean), and the figures follow fct_journeys."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from assets.peak_end import peak_end_table
from cxlake.insights.peak_end import FIX_WORST, JOURNEY, MART_COLUMNS, TOO_FEW, VERDICTS, load_settings


@pytest.fixture(scope="module")
def mart(demo_build) -> pd.DataFrame:
    assert demo_build.run_success
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        return connection.execute("select * from marts.mart_peak_end").df()


@pytest.fixture(scope="module")
def planted(demo_build) -> dict:
    return json.loads((demo_build.landing / "truth.json").read_text("utf-8"))["planted"]


def chain(mart: pd.DataFrame, stage: str) -> pd.Series:
    return mart.set_index(["scope_level", "scope_id", "stage"]).loc[("chain", "chain", stage)]


@pytest.mark.slow
def test_the_pipeline_publishes_one_row_per_scope_and_stage(mart, demo_build):
    assert tuple(mart.columns) == MART_COLUMNS
    assert not mart.duplicated(["scope_level", "scope_id", "stage"]).any()
    # the whole journey and the journey map's stages with two or more rated touchpoints
    assert set(mart["stage"]) == {JOURNEY, "order", "fulfil", "consume"}
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        stores, regions = connection.execute(
            "select count(distinct store_id), count(distinct region_id) from marts.fct_journeys"
            " where is_countable_response and nps_score is not null"
        ).fetchone()
    assert mart.groupby("scope_level")["scope_id"].nunique().to_dict() == {
        "chain": 1,
        "region": regions,
        "store": stores,
    }
    assert set(mart["verdict"]) <= set(VERDICTS)


@pytest.mark.slow
def test_the_chain_finds_the_planted_worst_moment(mart, planted):
    assert planted["peak_end_low_weight"] > 0
    journey = chain(mart, JOURNEY)
    assert journey["is_reportable"] and journey["verdict"] == FIX_WORST
    assert journey["lowest_p_value"] < 0.01
    assert journey["lowest_r2_gain"] >= load_settings().min_r2_gain
    assert journey["lowest_beta"] > 0
    # the end adds nothing of its own: the planted effect is the worst moment's
    assert journey["last_r2_gain"] < journey["lowest_r2_gain"] / 2
    # nested models: R² never falls as a predictor is added
    assert journey["r2_mean"] <= journey["r2_mean_lowest"] <= journey["r2_mean_lowest_last"]
    assert journey["r2_mean"] <= journey["r2_mean_last"] <= journey["r2_mean_lowest_last"]


@pytest.mark.slow
def test_the_journey_stage_uses_the_peak_end_figures_of_fct_journeys(mart, demo_build):
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        n, lowest, end = connection.execute(
            """
            select count(*), avg(journeys.peak_low_csat), avg(journeys.end_csat)
            from marts.fct_journeys as journeys
            inner join marts.fct_survey_responses as responses using (response_key)
            where journeys.is_countable_response and journeys.nps_score is not null
                and not responses.is_suspect and journeys.peak_low_csat is not null
            """
        ).fetchone()
    journey = chain(mart, JOURNEY)
    assert journey["n"] == n
    assert journey["mean_lowest_csat"] == pytest.approx(lowest)
    assert journey["mean_last_csat"] == pytest.approx(end)


@pytest.mark.slow
def test_ten_days_are_too_few_for_a_store_and_each_row_says_so_with_its_n(mart):
    stores = mart[mart["scope_level"] == "store"]
    assert (stores["verdict"] == TOO_FEW).all() and not stores["is_reportable"].any()
    assert stores["r2_mean"].isna().all() and stores["lowest_p_value"].isna().all()
    assert (stores["n"] > 0).all() and (stores["n"] < load_settings().min_responses).all()


@pytest.mark.slow
def test_the_published_table_is_what_the_model_computes_again(mart, demo_build):
    with duckdb.connect(str(demo_build.serving), read_only=True) as connection:
        again = peak_end_table(connection, load_settings())
    key = ["scope_level", "scope_id", "stage"]
    pd.testing.assert_frame_equal(
        again.sort_values(key).reset_index(drop=True),
        mart.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
