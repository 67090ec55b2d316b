"""Churn risk as an asset: who is about to stop buying, why, and the value at risk per store.

Reads members (``marts.dim_customer`` with their home store's region), their purchases
(``marts.fct_transactions``), their countable survey answers (``marts.fct_survey_responses``,
linked to the member through the transaction), their negative reviews (``marts.fct_feedback_items``)
and, when the loop marts are built, their alert cases (``marts.fct_cases``); calls
:func:`cxlake.insights.churn.churn_risk` and writes ``marts.mart_churn_risk`` (settings:
cxlake/config/insights.yaml ``churn``).

The model learns from the whole history in the warehouse, whatever days the run loaded, and scores
the last day; the table is replaced whole. It runs after the dbt models it reads and before the
serving copy is published. With too few days for any horizon the table is emptied and the
materialization says why, so a short backfill never fails the run.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from dagster import AssetKey, MaterializeResult, asset

from cxlake.insights.churn import (
    MART_COLUMNS,
    ChurnData,
    ChurnError,
    ChurnResult,
    ChurnSettings,
    churn_risk,
    load_settings,
)
from cxlake.pipeline.resources import Warehouse

GROUP = "insights"
CHURN_RISK_KEY = AssetKey(["marts", "mart_churn_risk"])
READS = [
    AssetKey(["marts", "dim_customer"]),
    AssetKey(["marts", "dim_store"]),
    AssetKey(["marts", "fct_transactions"]),
    AssetKey(["marts", "fct_survey_responses"]),
    AssetKey(["marts", "fct_feedback_items"]),
    AssetKey(["marts", "fct_cases"]),
]

CUSTOMERS = """
    select customers.customer_id, customers.home_store_id as store_id, stores.region_id,
           customers.member_tier, customers.signed_up_on
    from marts.dim_customer as customers
    left join marts.dim_store as stores on customers.home_store_id = stores.store_id
"""

PURCHASES = """
    select customer_id, transaction_date as purchased_on,
           cast(amount - coalesce(refund_amount, 0) as double) as spend
    from marts.fct_transactions
    where customer_id is not null
"""

DAYS = "select min(transaction_date), max(transaction_date) from marts.fct_transactions"

RESPONSES = """
    select transactions.customer_id, responses.responded_at, responses.nps_score, responses.nps_category,
           coalesce(responses.comment_sentiment_label = 'negative', false) as is_negative_comment
    from marts.fct_survey_responses as responses
    inner join marts.fct_transactions as transactions
        on responses.transaction_id = transactions.transaction_id
    where transactions.customer_id is not null and responses.is_countable
        and (not ? or not responses.is_suspect)
"""

NEGATIVE_REVIEWS = """
    select customer_id, feedback_at as posted_at
    from marts.fct_feedback_items
    where source = 'review' and customer_id is not null
        and (rating <= 2 or sentiment_label = 'negative')
"""

# A historical case's clock starts at the feedback, a fresh one's when it opened: when the store
# could first have known.
CASES = """
    select customer_id, clock_started_at as opened_at, resolved_at
    from marts.fct_cases
    where customer_id is not null
"""

HAS_CASES = """
    select count(*) from information_schema.tables
    where table_schema = 'marts' and table_name = 'fct_cases'
"""

CREATE = """
    customer_id varchar primary key, store_id varchar, region_id varchar, member_tier varchar,
    as_of_date date not null, horizon_days integer not null, churn_probability double not null,
    days_since_last_purchase integer not null, purchases_per_week double not null,
    last_nps_score integer, last_nps_category varchar, open_cases integer not null,
    expected_spend_horizon double not null, value_at_risk double not null,
    reason_1 varchar, reason_2 varchar, reason_3 varchar,
    reason_1_zh varchar, reason_2_zh varchar, reason_3_zh varchar,
    is_watch_listed boolean not null, watch_list_rank integer, model varchar not null
"""


def read_churn_data(connection: duckdb.DuckDBPyConnection, settings: ChurnSettings) -> ChurnData:
    """Everything the churn model reads, from the marts (cases only when fct_cases exists)."""
    first_day, last_day = connection.execute(DAYS).fetchone()
    if first_day is None:
        raise ChurnError("churn: marts.fct_transactions holds no transactions")
    has_cases = connection.execute(HAS_CASES).fetchone()[0] > 0
    return ChurnData(
        customers=connection.execute(CUSTOMERS).df(),
        purchases=connection.execute(PURCHASES).df(),
        responses=connection.execute(RESPONSES, [settings.exclude_suspect]).df(),
        negative_reviews=connection.execute(NEGATIVE_REVIEWS).df(),
        cases=connection.execute(CASES).df() if has_cases else None,
        first_day=first_day,
        last_day=last_day,
    )


def churn_table(connection: duckdb.DuckDBPyConnection, settings: ChurnSettings) -> ChurnResult:
    """The model's evaluation and the rows of marts.mart_churn_risk, computed from the warehouse."""
    return churn_risk(read_churn_data(connection, settings), settings)


def replace_table(connection: duckdb.DuckDBPyConnection, table: pd.DataFrame) -> None:
    """Replace marts.mart_churn_risk whole in one transaction (a failed run leaves the previous one)."""
    connection.execute("create schema if not exists marts")
    connection.begin()
    try:
        connection.execute(f"create or replace table marts.mart_churn_risk ({CREATE})")
        connection.register("churn_risk_rows", table)
        connection.execute("insert into marts.mart_churn_risk by name select * from churn_risk_rows")
        connection.unregister("churn_risk_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


@asset(
    key=CHURN_RISK_KEY,
    group_name=GROUP,
    deps=READS,
    kinds={"duckdb", "scikitlearn"},
    description="One row per member who bought in the model's look-back before the last day "
    "(as_of_date): the probability of no purchase in the next horizon_days (fitted to the days the "
    "warehouse holds), up to three reasons in words (the features that raise the risk most against "
    "the typical member), the expected spend over the horizon and the value at risk (probability × "
    "that spend), and the home store's watch list (is_watch_listed, watch_list_rank 1 = most value "
    "at risk; rule in cxlake/config/insights.yaml churn.watch_list). The evaluation on a later "
    "cut-off than the model learnt from (AUC, Brier score, recency-only baseline) is in the "
    "materialization metadata.",
)
def churn_risk_scores(warehouse: Warehouse) -> MaterializeResult:
    settings = load_settings()
    with warehouse.connect() as connection:
        try:
            result = churn_table(connection, settings)
        except ChurnError as error:
            replace_table(connection, pd.DataFrame(columns=list(MART_COLUMNS)))
            return MaterializeResult(metadata={"rows": 0, "not_modelled": str(error)})
        replace_table(connection, result.mart)
    mart = result.mart
    return MaterializeResult(
        metadata={
            "rows": len(mart),
            "watch_listed": int(mart["is_watch_listed"].sum()),
            "value_at_risk": round(float(mart["value_at_risk"].sum()), 2),
            **result.evaluation.summary(),
        }
    )


churn_assets = [churn_risk_scores]
