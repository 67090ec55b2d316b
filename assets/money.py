"""The money of experience as assets: per chain, region and store, what a detractor made promoter is
worth and the revenue at risk from detractors and from open cases; per touchpoint, what one more
CSAT point brings.

Both read the counted answers and their window's purchases from
``intermediate.int_experience__response_outcomes`` (the window and counting rules of
``marts.mart_experience_value``, so the page's figures agree), call :mod:`cxlake.insights.money`
and replace ``marts.mart_experience_money`` and ``marts.mart_csat_revenue_effect`` whole (settings:
cxlake/config/insights.yaml ``money``). The CSAT effect reads the key-driver model's respondents
(:func:`assets.insights.read_driver_frame`). Open cases come from ``marts.fct_cases`` when the loop
marts are built; without them the open-case figures are 0 members. Both run after the dbt models
they read and before the serving copy is published.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from dagster import AssetKey, MaterializeResult, asset

from assets.insights import read_driver_frame
from cxlake.insights.drivers import load_settings as load_driver_settings
from cxlake.insights.money import (
    EFFECT_COLUMNS,
    MONEY_COLUMNS,
    MoneySettings,
    csat_revenue_effect,
    experience_money,
    first_answers,
    load_settings,
)
from cxlake.metrics import settings as metric_settings
from cxlake.pipeline.resources import Warehouse

GROUP = "insights"
MONEY_KEY = AssetKey(["marts", "mart_experience_money"])
EFFECT_KEY = AssetKey(["marts", "mart_csat_revenue_effect"])
OUTCOMES_KEY = AssetKey(["intermediate", "int_experience__response_outcomes"])

OUTCOMES = """
    select response_key, customer_id, store_id, region_id, nps_category, responded_at,
           window_days, last_transaction_date, count_visits, cast(spend as double) as spend
    from intermediate.int_experience__response_outcomes
    order by response_key  -- the bootstrap's draws depend on row order: fixed, as the seed is
"""

# Members whose latest countable answer is a detractor's given in the last window (after
# last day - window days): their window is still open, so they are not among the counted members.
RECENT_DETRACTORS = """
    with answers as (
        select
            transactions.customer_id, responses.store_id, responses.region_id,
            responses.nps_category, responses.response_date,
            row_number() over (
                partition by transactions.customer_id
                order by responses.responded_at desc, responses.response_key desc
            ) as recency
        from marts.fct_survey_responses as responses
        inner join marts.fct_transactions as transactions
            on responses.transaction_id = transactions.transaction_id
        where responses.is_countable and responses.nps_category is not null
            and transactions.customer_id is not null
    )
    select customer_id, store_id, region_id
    from answers
    where recency = 1 and nps_category = 'detractor'
        and response_date > cast(? as date) - cast(? as integer)
    order by customer_id, store_id
"""

HAS_CASES = """
    select count(*) from information_schema.tables
    where table_schema = 'marts' and table_name = 'fct_cases'
"""

# Members with a case not resolved at the snapshot (open or breached), with their spend per window:
# all they bought over the days the transactions span, per day, times the window.
OPEN_CASE_MEMBERS = """
    with span as (
        select date_diff('day', min(transaction_date), max(transaction_date)) + 1 as days
        from marts.fct_transactions
    ),
    spend as (
        select customer_id, sum(amount) as total
        from marts.fct_transactions
        where customer_id is not null
        group by customer_id
    )
    select distinct cases.customer_id, cases.store_id, cases.region_id,
        cast(coalesce(spend.total, 0) as double) / span.days * ? as spend_per_window
    from marts.fct_cases as cases
    cross join span
    left join spend on cases.customer_id = spend.customer_id
    where not cases.is_resolved and cases.customer_id is not null
    order by customer_id, store_id, region_id
"""

MONEY_CREATE = """
    scope_level varchar not null, scope_id varchar not null, window_days integer not null,
    last_transaction_date date not null, count_promoter_members bigint not null,
    count_detractor_members bigint not null, is_reportable boolean not null,
    detractor_to_promoter_value double, detractor_to_promoter_value_ci_low double,
    detractor_to_promoter_value_ci_high double, excess_churn_rate double,
    excess_churn_rate_ci_low double, excess_churn_rate_ci_high double,
    detractor_spend_if_retained double, count_recent_detractors bigint not null,
    detractor_revenue_at_risk double, detractor_revenue_at_risk_ci_low double,
    detractor_revenue_at_risk_ci_high double, count_open_case_members bigint not null,
    open_case_spend_per_window double not null, open_case_revenue_at_risk double,
    open_case_revenue_at_risk_ci_low double, open_case_revenue_at_risk_ci_high double,
    primary key (scope_level, scope_id)
"""

EFFECT_CREATE = """
    scope_level varchar not null, scope_id varchar not null, touchpoint varchar not null,
    window_days integer not null, n bigint not null, respondents bigint not null,
    rated_share double not null, promoter_probability_change double,
    detractor_probability_change double, effect_per_rater double, effect_per_rater_ci_low double,
    effect_per_rater_ci_high double, effect_per_member double, ci_low double, ci_high double,
    is_reportable boolean not null,
    primary key (scope_level, scope_id, touchpoint)
"""


def read_outcomes(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The counted answers with their window's visits and spend (one window for all)."""
    return connection.execute(OUTCOMES).df()


def money_table(connection: duckdb.DuckDBPyConnection, settings: MoneySettings) -> pd.DataFrame:
    """The rows of marts.mart_experience_money, computed from the warehouse."""
    outcomes = read_outcomes(connection)
    if outcomes.empty:
        return pd.DataFrame(columns=list(MONEY_COLUMNS))
    window_days = int(outcomes["window_days"].iloc[0])
    last_day = outcomes["last_transaction_date"].iloc[0]
    recent = connection.execute(RECENT_DETRACTORS, [last_day, window_days]).df()
    if connection.execute(HAS_CASES).fetchone()[0] > 0:
        cases = connection.execute(OPEN_CASE_MEMBERS, [window_days]).df()
    else:
        cases = pd.DataFrame(columns=["customer_id", "store_id", "region_id", "spend_per_window"])
    return experience_money(outcomes, recent, cases, settings)


def effect_table(connection: duckdb.DuckDBPyConnection, settings: MoneySettings) -> pd.DataFrame:
    """The rows of marts.mart_csat_revenue_effect, computed from the warehouse."""
    outcomes = read_outcomes(connection)
    respondents, drivers = read_driver_frame(connection, load_driver_settings())
    if outcomes.empty or not drivers:
        return pd.DataFrame(columns=list(EFFECT_COLUMNS))
    members = first_answers(outcomes)
    metrics = metric_settings()
    return csat_revenue_effect(
        respondents,
        drivers,
        members[members["scope_level"] == "chain"],
        int(outcomes["window_days"].iloc[0]),
        metrics.promoter_min,
        metrics.detractor_max,
        settings,
    )


def replace_table(connection: duckdb.DuckDBPyConnection, name: str, create: str, table: pd.DataFrame) -> None:
    """Replace marts.<name> whole in one transaction (a failed run leaves the previous one)."""
    connection.execute("create schema if not exists marts")
    connection.begin()
    try:
        connection.execute(f"create or replace table marts.{name} ({create})")
        connection.register("money_rows", table)
        connection.execute(f"insert into marts.{name} by name select * from money_rows")
        connection.unregister("money_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


@asset(
    key=MONEY_KEY,
    group_name=GROUP,
    deps=[
        OUTCOMES_KEY,
        AssetKey(["marts", "fct_survey_responses"]),
        AssetKey(["marts", "fct_transactions"]),
        AssetKey(["marts", "fct_cases"]),
    ],
    kinds={"duckdb", "numpy"},
    description="One row per scope (scope_level chain / region / store, scope_id 'chain', the "
    "region_id or the store_id) with promoters or detractors counted over the window of "
    "mart_experience_value: the value of a detractor made promoter (the window's spend gap), the "
    "excess churn of detractors (promoters' repeat rate minus detractors'), the revenue at risk from "
    "the last window's detractors (count x excess churn x a retained detractor's spend) and from "
    "members with unresolved cases (their spend per window x excess churn; the two overlap, never "
    "add them), each with a bootstrap percentile interval; is_reportable from min_responses "
    "promoters and detractors.",
)
def experience_money_asset(warehouse: Warehouse) -> MaterializeResult:
    settings = load_settings()
    with warehouse.connect() as connection:
        table = money_table(connection, settings)
        replace_table(connection, "mart_experience_money", MONEY_CREATE, table)
    chain = table[table["scope_level"] == "chain"]
    metadata: dict[str, float | int] = {
        "rows": len(table),
        "reportable_scopes": int(table["is_reportable"].sum()),
    }
    if not chain.empty:
        for column in (
            "window_days",
            "detractor_to_promoter_value",
            "detractor_revenue_at_risk",
            "open_case_revenue_at_risk",
        ):
            metadata[f"chain_{column}"] = float(chain[column].iloc[0])
    return MaterializeResult(metadata=metadata)


@asset(
    key=EFFECT_KEY,
    group_name=GROUP,
    deps=[
        OUTCOMES_KEY,
        AssetKey(["marts", "fct_survey_responses"]),
        AssetKey(["marts", "fct_touchpoint_ratings"]),
        AssetKey(["marts", "dim_touchpoint"]),
    ],
    kinds={"duckdb", "numpy"},
    description="One row per touchpoint a survey rates, for the chain: the window's revenue of one "
    "more CSAT point per respondent who rates it (effect_per_rater) and per respondent "
    "(effect_per_member = per rater x rated_share, the touchpoint's reach), each with a bootstrap "
    "interval (ci_low, ci_high are effect_per_member's): the least-squares change per point in the "
    "probability of a promoter and of a detractor answer (the key-driver model's respondents, a "
    "missing rating filled with the mean, an intercept per set of touchpoints rated) times each "
    "category's window spend against passives'; n = ratings, is_reportable with the key_drivers "
    "minimums and min_responses members per category.",
)
def csat_revenue_effect_asset(warehouse: Warehouse) -> MaterializeResult:
    settings = load_settings()
    with warehouse.connect() as connection:
        table = effect_table(connection, settings)
        replace_table(connection, "mart_csat_revenue_effect", EFFECT_CREATE, table)
    # .astype(bool): an empty table's column is object-typed, and pandas reads it as column labels
    ranked = table[table["is_reportable"].astype(bool)].sort_values("effect_per_member", ascending=False)
    return MaterializeResult(metadata={"rows": len(table), "ranking": ", ".join(ranked["touchpoint"])})


money_assets = [experience_money_asset, csat_revenue_effect_asset]
