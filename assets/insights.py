"""Insight models as assets: what drives likelihood to recommend, per company, region and store.

Reads the countable responses with their recommend score (``marts.fct_survey_responses``) and their
touchpoint CSATs (``marts.fct_touchpoint_ratings``), the drivers being the touchpoints a survey rates
(``marts.dim_touchpoint``, journey order); calls :func:`cxlake.insights.drivers.key_driver_mart` and
writes ``marts.mart_key_drivers`` (settings: cxlake/config/insights.yaml ``key_drivers``).

Importance needs volume, so the asset models the whole history in the warehouse, whatever days the
run loaded; the table is replaced whole. It runs after the dbt models it reads and before the
serving copy is published.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from dagster import AssetKey, MaterializeResult, asset

from cxlake.insights.drivers import (
    MART_COLUMNS,
    NOT_ENOUGH_RESPONSES,
    DriverSettings,
    key_driver_mart,
    load_settings,
)
from cxlake.pipeline.resources import Warehouse

GROUP = "insights"
KEY_DRIVERS_KEY = AssetKey(["marts", "mart_key_drivers"])
READS = [
    AssetKey(["marts", "fct_survey_responses"]),
    AssetKey(["marts", "fct_touchpoint_ratings"]),
    AssetKey(["marts", "dim_touchpoint"]),
]
OUTCOME = "nps_score"  # likelihood to recommend, 0-10, one per response

RESPONSES = """
    select response_key, region_id, store_id, nps_score
    from marts.fct_survey_responses
    where is_countable and nps_score is not null and (not ? or not is_suspect)
    order by response_key
"""

RATINGS = """
    select ratings.response_key, ratings.touchpoint_id, ratings.csat_score
    from marts.fct_touchpoint_ratings as ratings
    inner join marts.fct_survey_responses as responses
        on ratings.response_key = responses.response_key
    where responses.is_countable and (not ? or not responses.is_suspect)
"""

DRIVERS = """
    select touchpoint_id
    from marts.dim_touchpoint
    where survey_measure = 'csat'
    order by stage_order, touchpoint_order
"""

CREATE = """
    scope_level varchar not null, scope_id varchar not null, driver varchar not null,
    relative_weight double, relative_weight_share double, ci_low double, ci_high double,
    satisfaction double, quadrant varchar not null, n bigint not null,
    primary key (scope_level, scope_id, driver)
"""


def read_driver_frame(
    connection: duckdb.DuckDBPyConnection, settings: DriverSettings
) -> tuple[pd.DataFrame, list[str]]:
    """One row per countable response (without suspect ones when configured): region, store, the
    recommend score and one CSAT column per rated touchpoint (NaN = not rated); and the drivers."""
    exclude = [settings.exclude_suspect]
    responses = connection.execute(RESPONSES, exclude).df()
    ratings = connection.execute(RATINGS, exclude).df()
    rated = set(ratings["touchpoint_id"])
    drivers = [tp for (tp,) in connection.execute(DRIVERS).fetchall() if tp in rated]
    wide = ratings.pivot(index="response_key", columns="touchpoint_id", values="csat_score")
    frame = responses.join(wide.reindex(columns=drivers).astype(float), on="response_key")
    return frame, drivers


def key_driver_table(connection: duckdb.DuckDBPyConnection, settings: DriverSettings) -> pd.DataFrame:
    """The rows of marts.mart_key_drivers, computed from the warehouse."""
    frame, drivers = read_driver_frame(connection, settings)
    if not drivers:
        return pd.DataFrame(columns=list(MART_COLUMNS))
    frame[OUTCOME] = frame[OUTCOME].astype(float)
    return key_driver_mart(frame, OUTCOME, drivers, settings)


def replace_table(connection: duckdb.DuckDBPyConnection, table: pd.DataFrame) -> None:
    """Replace marts.mart_key_drivers whole in one transaction (a failed run leaves the previous one)."""
    connection.execute("create schema if not exists marts")
    connection.begin()
    try:
        connection.execute(f"create or replace table marts.mart_key_drivers ({CREATE})")
        connection.register("key_driver_rows", table)
        connection.execute("insert into marts.mart_key_drivers by name select * from key_driver_rows")
        connection.unregister("key_driver_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


@asset(
    key=KEY_DRIVERS_KEY,
    group_name=GROUP,
    deps=READS,
    kinds={"duckdb", "numpy"},
    description="One row per scope (scope_level chain / region / store, scope_id 'chain', the "
    "region_id or the store_id) and driver (a touchpoint's CSAT): Johnson's relative weight for the "
    "0-10 recommend score of countable, non-suspect responses, its share of R², a bootstrap "
    "interval (ci_low, ci_high), the mean CSAT (satisfaction), the importance-performance quadrant "
    "(concentrate_here, keep_up_the_good_work, low_priority, possible_overkill; cross-hairs at the "
    "scope's means) and n, the responses that rated the touchpoint. Below the minimum n of "
    "cxlake/config/insights.yaml the weights are empty and quadrant is not_enough_responses.",
)
def key_drivers(warehouse: Warehouse) -> MaterializeResult:
    settings = load_settings()
    with warehouse.connect() as connection:
        table = key_driver_table(connection, settings)
        replace_table(connection, table)
    chain = table[table["scope_level"] == "chain"].sort_values("relative_weight", ascending=False)
    modelled = table.groupby(["scope_level", "scope_id"])["quadrant"].apply(
        lambda q: bool((q != NOT_ENOUGH_RESPONSES).any())
    )
    return MaterializeResult(
        metadata={
            "rows": len(table),
            "chain_ranking": ", ".join(chain["driver"]),
            "scopes_modelled": int(modelled.sum()),
            "scopes_not_enough_responses": int((~modelled).sum()),
        }
    )


insight_assets = [key_drivers]
