"""The journey marts on the shared seeded demo build (tests/conftest.py): they reconcile with
their sources, use the one metric definition, and follow the journey map."""

from __future__ import annotations

import shutil
import subprocess

import duckdb
import pandas as pd
import pytest
import yaml

from cxlake import metrics
from cxlake.journey import JOURNEY_MAP_ENV, default_journey_map_path
from cxlake.pipeline.dbt_project import dbt_command


@pytest.fixture(scope="module")
def serving(demo_build):
    assert demo_build.run_success
    connection = duckdb.connect(str(demo_build.serving), read_only=True)
    yield connection
    connection.close()


def _frame(connection, sql: str) -> pd.DataFrame:
    return connection.execute(sql).df()


def test_journeys_reconcile_with_transactions_and_the_loaded_rows(serving, demo_build):
    """Rows loaded into raw (quarantined ones are the quality gate's business) become one
    journey each, with the same spend."""
    journeys, spend, refunds, distinct = serving.execute(
        "select count(*), sum(amount), sum(refund_amount), count(distinct transaction_id)"
        " from marts.fct_journeys"
    ).fetchone()
    transactions, transaction_spend, transaction_refunds = serving.execute(
        "select count(*), sum(amount), sum(refund_amount) from marts.fct_transactions"
    ).fetchone()
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as warehouse:  # raw is not served
        sql = "select count(distinct transaction_id) from raw.pos_transactions"
        loaded = warehouse.execute(sql).fetchone()[0]
    assert journeys == distinct == transactions == loaded > 1000
    assert spend == transaction_spend and refunds == transaction_refunds
    outcomes = serving.execute("select count(*) from marts.fct_journey_outcomes").fetchone()[0]
    assert outcomes == journeys


def test_a_late_survey_lands_in_the_journey_of_its_transaction(serving):
    late = _frame(
        serving,
        """
        select journeys.journey_id, journeys.journey_date, responses.transaction_id, responses.response_date
        from marts.fct_journeys as journeys
        inner join marts.fct_survey_responses as responses
            on journeys.response_key = responses.response_key
        where responses.response_date > journeys.journey_date
        """,
    )
    assert len(late) > 10
    assert (late["journey_id"] == late["transaction_id"]).all()


def test_the_sql_nps_interval_equals_the_python_definition(serving):
    daily = _frame(serving, "select * from marts.fct_nps_daily")
    assert len(daily) > 50
    for row in daily.itertuples():
        expected = metrics.nps_from_counts(row.promoters, row.passives, row.detractors)
        assert row.count_responses == expected.n
        if expected.n == 0:
            assert pd.isna(row.nps) and pd.isna(row.nps_ci_low)
            continue
        assert row.nps == pytest.approx(expected.nps, abs=1e-5)
        assert row.nps_ci_low == pytest.approx(expected.ci_low, abs=1e-5)
        assert row.nps_ci_high == pytest.approx(expected.ci_high, abs=1e-5)


def test_region_nps_rolls_up_from_counts_not_from_averaged_store_nps(serving):
    daily = _frame(serving, "select * from marts.fct_nps_daily")
    responses = _frame(
        serving, "select region_id, nps_score from marts.fct_survey_responses where is_countable"
    )
    differs_from_average = 0
    for region_id, rows in daily.groupby("region_id"):
        rolled_up = metrics.nps_from_counts(
            int(rows["promoters"].sum()), int(rows["passives"].sum()), int(rows["detractors"].sum())
        )
        direct = metrics.nps_from_scores(responses.loc[responses["region_id"] == region_id, "nps_score"])
        assert rolled_up == direct
        averaged = rows["nps"].dropna().mean()
        differs_from_average += abs(averaged - rolled_up.nps) > 0.5
    # averaging store-day NPS values would report other numbers: that is why roll-ups sum counts
    assert differs_from_average >= 1


def test_touchpoint_daily_csat_equals_the_python_definitions(serving):
    """The rows' counts and sums, added up over channels, give the CSAT figures of
    cxlake.metrics over the same ratings: a roll-up divides sums, never averages row figures."""
    daily = _frame(
        serving,
        "select touchpoint_id, store_id, date_day, sum(count_ratings) as n,"
        " sum(count_top_box) as top_box, sum(sum_csat) as total"
        " from marts.fct_touchpoint_daily group by all",
    )
    ratings = _frame(
        serving,
        "select touchpoint_id, store_id, response_date as date_day, csat_score"
        " from marts.fct_touchpoint_ratings where is_countable",
    )
    expected = ratings.groupby(["touchpoint_id", "store_id", "date_day"])["csat_score"].agg(list)
    rated = daily[daily["n"] > 0].set_index(["touchpoint_id", "store_id", "date_day"])
    assert len(rated) == len(expected) > 100
    for key, scores in expected.items():
        row = rated.loc[key]
        assert row["n"] == len(scores)
        assert row["top_box"] / row["n"] == pytest.approx(metrics.csat_top2_share(scores), abs=1e-9)
        assert row["total"] / row["n"] == pytest.approx(metrics.csat_mean(scores), abs=1e-9)
    unrated = _frame(serving, "select * from marts.fct_touchpoint_daily where count_ratings = 0")
    assert unrated["csat_top2_share"].isna().all() and unrated["avg_csat"].isna().all()


def test_touchpoint_daily_operations_sum_to_the_journeys_of_each_touchpoint(serving):
    """The Journey page's operations are sums of fct_touchpoint_daily (built from fct_transactions):
    per touchpoint and store they must equal the same aggregates over fct_journeys, in the
    touchpoint's channels, to the rounding of the mart's sums."""
    journeys = _frame(
        serving,
        "with channels as (select touchpoint_id, unnest(string_split(channels, ',')) as channel"
        " from marts.dim_touchpoint)"
        " select touchpoint_id, store_id, count(*) as count_orders,"
        " count(wait_minutes) as count_wait_minutes, sum(wait_minutes) as sum_wait_minutes,"
        " sum(wait_minutes * wait_minutes) as sum_squares_wait_minutes,"
        " count(amount) as count_amount, sum(amount)::double as sum_amount,"
        " count(is_refunded) as count_is_refunded, count(*) filter (where is_refunded) as sum_is_refunded,"
        " count(is_remake) as count_is_remake, count(*) filter (where is_remake) as sum_is_remake"
        " from marts.fct_journeys join channels using (channel) group by all order by all",
    )
    summed = ", ".join(f"sum({column})::double as {column}" for column in journeys.columns[2:])
    mart = _frame(
        serving,
        f"select touchpoint_id, store_id, {summed}"
        " from marts.fct_touchpoint_daily where count_orders > 0 group by all order by all",
    )
    assert len(journeys) > 50 and journeys["count_orders"].sum() > 10_000
    assert (
        mart[["touchpoint_id", "store_id"]].values.tolist()
        == journeys[["touchpoint_id", "store_id"]].values.tolist()
    )
    for column in journeys.columns[2:]:
        assert mart[column].tolist() == pytest.approx(
            journeys[column].astype("float64").tolist(), rel=1e-8
        ), column


def test_csat_daily_sums_equal_the_countable_ratings_per_touchpoint(serving):
    """The headline CSAT tiles sum fct_csat_daily: per touchpoint (and per suspect mark, what
    "without suspect responses" leaves out) its sums must be the response-level counts they replaced."""
    daily = _frame(
        serving,
        "select touchpoint_id, is_suspect, sum(count_ratings)::bigint as n,"
        " sum(count_top_box)::bigint as top_box, sum(sum_csat)::bigint as total,"
        " sum(sum_squares_csat)::bigint as squares"
        " from marts.fct_csat_daily group by all order by all",
    )
    ratings = _frame(
        serving,
        "select r.touchpoint_id, coalesce(s.is_suspect, false) as is_suspect, count(*) as n,"
        " count(*) filter (where r.is_top_box) as top_box, sum(r.csat_score)::bigint as total,"
        " sum(r.csat_score * r.csat_score)::bigint as squares"
        " from marts.fct_touchpoint_ratings as r"
        " inner join marts.fct_survey_responses as s on s.response_key = r.response_key"
        " where r.is_countable and r.csat_score is not null group by all order by all",
    )
    assert daily["n"].sum() > 1000 and daily["touchpoint_id"].nunique() >= 5
    assert daily.values.tolist() == ratings.values.tolist()


def test_each_touchpoint_reports_the_operational_metric_of_its_channels(serving):
    """speed is measured over in-store and app orders, delivery over delivery orders only."""
    medians = _frame(
        serving,
        """
        select touchpoint_id, operational_metric, sum(operational_n) as n
        from marts.fct_touchpoint_daily group by touchpoint_id, operational_metric
        """,
    ).set_index("touchpoint_id")
    by_channel = dict(
        serving.execute("select channel, count(*) from marts.fct_journeys group by channel").fetchall()
    )
    assert medians.loc["speed", "operational_metric"] == "wait_minutes"
    assert medians.loc["delivery", "n"] == by_channel["delivery"]
    assert medians.loc["speed", "n"] == by_channel["in_store"] + by_channel["app"]
    assert pd.isna(medians.loc["taste", "operational_metric"])


def test_survey_funnel_rates_equal_the_python_definition(serving, demo_build):
    funnel = _frame(serving, "select * from marts.fct_survey_funnel")
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as warehouse:  # raw is not served
        sql = "select count(distinct invitation_id) from raw.survey_invitations"
        invitations = warehouse.execute(sql).fetchone()[0]
    assert funnel["count_invitations"].sum() == invitations
    for row in funnel.itertuples():
        assert row.response_rate == pytest.approx(
            metrics.response_rate(row.count_responses, row.count_invitations), abs=1e-6
        )
    assert 0 < funnel["count_responses"].sum() < invitations


def test_journeys_carry_one_csat_column_per_touchpoint_and_the_peak_end_scores(serving):
    touchpoints = [
        row[0] for row in serving.execute("select touchpoint_id from marts.dim_touchpoint").fetchall()
    ]
    journeys = _frame(serving, "select * from marts.fct_journeys where response_key is not null")
    csat_columns = [c for c in journeys.columns if c.startswith("csat_")]
    assert sorted(csat_columns) == sorted(f"csat_{tp}" for tp in touchpoints)
    order = [
        f"csat_{tp}"
        for (tp,) in serving.execute(
            "select touchpoint_id from marts.dim_touchpoint order by touchpoint_order"
        ).fetchall()
    ]
    for row in journeys.head(300).itertuples():
        rated = [getattr(row, c) for c in order if not pd.isna(getattr(row, c))]
        assert row.peak_low_csat == min(rated)
        assert row.peak_high_csat == max(rated)
        assert row.end_csat == rated[-1]


def test_customer_360_counts_match_the_journeys(serving):
    customers = _frame(serving, "select * from marts.mart_customer_360")
    assert customers["customer_id"].is_unique
    members = serving.execute(
        "select count(*), sum(amount) from marts.fct_journeys where customer_id is not null"
    ).fetchone()
    # journeys of customers CRM does not (yet) know have no 360 row; none in the demo
    assert customers["count_visits"].sum() == members[0]
    assert float(customers["total_spend"].sum()) == pytest.approx(float(members[1]), abs=0.005)
    buyers = customers[customers["count_visits"] > 0]
    assert buyers["is_churned"].notna().all()
    expected = buyers["days_since_last_visit"].map(metrics.is_churned)
    assert (buyers["is_churned"] == expected).all()


@pytest.fixture(scope="module")
def remapped(demo_build, tmp_path_factory, monkeypatch_module):
    """The demo rebuilt after editing only the journey map: a new touchpoint `seating` and
    staff measured by wait_minutes (moved from nowhere)."""
    scratch = tmp_path_factory.mktemp("remapped")
    journey_map = yaml.safe_load(default_journey_map_path().read_text(encoding="utf-8"))
    stages = {stage["id"]: stage for stage in journey_map["stages"]}
    stages["consume"]["touchpoints"].append(
        {
            "id": "seating",
            "name": {"zh": "座位", "en": "Seating"},
            "channels": ["in_store"],
            "measures": {"survey": "csat", "operational": "count_items", "review_aspect_keywords": ["座位"]},
        }
    )
    for touchpoint in stages["fulfil"]["touchpoints"]:
        if touchpoint["id"] == "staff":
            touchpoint["measures"]["operational"] = "wait_minutes"
    map_path = scratch / "journey_map.yaml"
    map_path.write_text(yaml.safe_dump(journey_map, allow_unicode=True), encoding="utf-8")
    warehouse = scratch / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)

    from assets.configuration import configuration_frames

    monkeypatch_module.setenv(JOURNEY_MAP_ENV, str(map_path))
    with duckdb.connect(str(warehouse)) as connection:
        for name, frame in configuration_frames().items():
            connection.register("frame", frame)
            connection.execute(f'create or replace table raw."{name}" as select * from frame')
            connection.unregister("frame")
    # the pipeline's own `dbt build` arguments, on the scratch warehouse, with a scratch target
    completed = subprocess.run(
        dbt_command(
            "build",
            "--select",
            "stg_configuration__journey_touchpoints+",
            warehouse=warehouse,
            scratch=scratch,
        ),
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-6000:]
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_a_touchpoint_added_to_the_map_reaches_the_marts(remapped):
    seating = remapped.execute(
        "select stage_id, operational_metric, review_aspect_keywords from marts.dim_touchpoint"
        " where touchpoint_id = 'seating'"
    ).fetchone()
    assert seating == ("consume", "count_items", "座位")
    columns = {row[0] for row in remapped.execute("describe marts.fct_journeys").fetchall()}
    assert "csat_seating" in columns
    in_store = remapped.execute(
        "select sum(operational_n) from marts.fct_touchpoint_daily where touchpoint_id = 'seating'"
    ).fetchone()[0]
    assert (
        in_store
        == remapped.execute("select count(*) from marts.fct_journeys where channel = 'in_store'").fetchone()[
            0
        ]
    )


def test_a_measure_moved_in_the_map_moves_in_the_marts(remapped, serving):
    before = serving.execute(
        "select count(*) from marts.fct_touchpoint_daily where touchpoint_id = 'staff' and operational_n > 0"
    ).fetchone()[0]
    after = remapped.execute(
        "select operational_metric, count(*) from marts.fct_touchpoint_daily"
        " where touchpoint_id = 'staff' and operational_n > 0 group by operational_metric"
    ).fetchall()
    assert before == 0
    assert after[0][0] == "wait_minutes" and after[0][1] > 100
