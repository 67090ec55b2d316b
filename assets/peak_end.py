"""The peak-end asset: whether the worst moment or the last one explains likelihood to recommend
beyond the average touchpoint CSAT, per company, region, store and journey stage.

Reads the journeys that a countable survey followed (``marts.fct_journeys``: the recommend score and
one ``csat_<touchpoint>`` column per journey-map touchpoint, the columns its peak-end figures
``peak_low_csat`` and ``end_csat`` come from), without the suspect responses when configured
(``marts.fct_survey_responses.is_suspect``), and the stages from ``marts.dim_touchpoint`` (journey
order); calls :func:`cxlake.insights.peak_end.peak_end_mart` and writes ``marts.mart_peak_end``
(settings: cxlake/config/insights.yaml ``peak_end``).

Like the key drivers, the models need volume: the asset models the whole history in the warehouse,
whatever days the run loaded, and replaces the table whole. It runs after the dbt models it reads
and before the serving copy is published.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from dagster import AssetKey, MaterializeResult, asset

from cxlake.insights.peak_end import (
    JOURNEY,
    MART_COLUMNS,
    TOO_FEW,
    PeakEndSettings,
    load_settings,
    peak_end_mart,
)
from cxlake.pipeline.resources import Warehouse

GROUP = "insights"
PEAK_END_KEY = AssetKey(["marts", "mart_peak_end"])
READS = [
    AssetKey(["marts", "fct_journeys"]),
    AssetKey(["marts", "fct_survey_responses"]),
    AssetKey(["marts", "dim_touchpoint"]),
]
OUTCOME = "nps_score"  # likelihood to recommend, 0-10, one per response

TOUCHPOINTS = """
    select stage_id, touchpoint_id
    from marts.dim_touchpoint
    where survey_measure = 'csat'
    order by stage_order, touchpoint_order
"""

JOURNEYS = """
    select journeys.response_key, journeys.region_id, journeys.store_id, journeys.nps_score, {csat}
    from marts.fct_journeys as journeys
    inner join marts.fct_survey_responses as responses
        on journeys.response_key = responses.response_key
    where journeys.is_countable_response and journeys.nps_score is not null
        and (not ? or not responses.is_suspect)
    order by journeys.response_key
"""

CREATE = """
    scope_level varchar not null, scope_id varchar not null, stage varchar not null, n bigint not null,
    r2_mean double, r2_mean_lowest double, r2_mean_last double, r2_mean_lowest_last double,
    lowest_r2_gain double, lowest_p_value double, last_r2_gain double, last_p_value double,
    lowest_last_r2_gain double, lowest_last_p_value double, lowest_beta double, last_beta double,
    mean_csat double, mean_lowest_csat double, mean_last_csat double, lowest_touchpoint varchar,
    last_touchpoint varchar, is_reportable boolean not null, verdict varchar not null,
    primary key (scope_level, scope_id, stage)
"""


def read_stages(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The whole journey (:data:`JOURNEY`, every touchpoint a survey rates with CSAT and
    fct_journeys has a column for) and each journey-map stage with two or more of them (with one,
    its lowest and last are its mean: nothing to compare), touchpoints in journey order."""
    columns = {name for (name,) in connection.execute(
        "select column_name from information_schema.columns"
        " where table_schema = 'marts' and table_name = 'fct_journeys'"
    ).fetchall()}  # fmt: skip
    stages: dict[str, list[str]] = {JOURNEY: []}
    for stage, touchpoint in connection.execute(TOUCHPOINTS).fetchall():
        if f"csat_{touchpoint}" in columns:
            stages[JOURNEY].append(touchpoint)
            stages.setdefault(stage, []).append(touchpoint)
    return {stage: touchpoints for stage, touchpoints in stages.items() if len(touchpoints) >= 2}


def read_journey_frame(
    connection: duckdb.DuckDBPyConnection, settings: PeakEndSettings, touchpoints: list[str]
) -> pd.DataFrame:
    """One row per countable response (without suspect ones when configured) that followed a
    journey: region, store, the recommend score and one CSAT column per touchpoint (NaN = not rated)."""
    csat = ", ".join(f"cast(journeys.csat_{tp} as double) as {tp}" for tp in touchpoints)
    frame = connection.execute(JOURNEYS.format(csat=csat), [settings.exclude_suspect]).df()
    frame[OUTCOME] = frame[OUTCOME].astype(float)
    return frame


def peak_end_table(connection: duckdb.DuckDBPyConnection, settings: PeakEndSettings) -> pd.DataFrame:
    """The rows of marts.mart_peak_end, computed from the warehouse."""
    stages = read_stages(connection)
    if not stages:
        return pd.DataFrame(columns=list(MART_COLUMNS))
    frame = read_journey_frame(connection, settings, stages[JOURNEY])
    return peak_end_mart(frame, OUTCOME, stages, settings)


def replace_table(connection: duckdb.DuckDBPyConnection, table: pd.DataFrame) -> None:
    """Replace marts.mart_peak_end whole in one transaction (a failed run leaves the previous one)."""
    connection.execute("create schema if not exists marts")
    connection.begin()
    try:
        connection.execute(f"create or replace table marts.mart_peak_end ({CREATE})")
        connection.register("peak_end_rows", table)
        connection.execute("insert into marts.mart_peak_end by name select * from peak_end_rows")
        connection.unregister("peak_end_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


@asset(
    key=PEAK_END_KEY,
    group_name=GROUP,
    deps=READS,
    kinds={"duckdb", "numpy"},
    description="One row per scope (scope_level chain / region / store, scope_id 'chain', the "
    "region_id or the store_id) and stage ('journey': every rated touchpoint; else a journey-map "
    "stage with two or more rated touchpoints): n countable, non-suspect respondents with a recommend "
    "score and a rating in the stage; R² of OLS models of the 0-10 recommend score on the mean CSAT "
    "(r2_mean), + the lowest rating (r2_mean_lowest), + the last touchpoint's (r2_mean_last), + both "
    "(r2_mean_lowest_last); the gains over the mean (lowest_r2_gain, last_r2_gain, "
    "lowest_last_r2_gain) with nested F-test p-values; standardized coefficients of lowest and last "
    "in the full model (lowest_beta, last_beta); the mean of the mean, lowest and last ratings; the "
    "touchpoint most often lowest and most often last; is_reportable (n at least min_responses of "
    "the peak_end: section of cxlake/config/insights.yaml) and verdict (fix_worst_moment, "
    "fix_last_moment, average_is_enough, too_few: below the minimum n, no model).",
)
def peak_end(warehouse: Warehouse) -> MaterializeResult:
    settings = load_settings()
    with warehouse.connect() as connection:
        table = peak_end_table(connection, settings)
        replace_table(connection, table)
    chain = table[table["scope_level"] == "chain"]
    return MaterializeResult(
        metadata={
            "rows": len(table),
            "chain_verdicts": ", ".join(
                f"{s} {v}" for s, v in zip(chain["stage"], chain["verdict"], strict=True)
            ),
            "rows_reportable": int(table["is_reportable"].sum()),
            "rows_too_few": int((table["verdict"] == TOO_FEW).sum()),
        }
    )


peak_end_assets = [peak_end]
