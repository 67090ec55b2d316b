"""Survey integrity over everything the warehouse holds: which stores and staff members show
evidence of manufactured scores, and which responses are suspect.

Reads the responses with their quality flags (``intermediate.int_surveys__responses_flagged``),
their CSAT answers (``int_surveys__answers_scored``), the linked sale (``marts.fct_transactions``:
order time, staff member, and the member's next purchase after the answer), the comment's sentiment
(``staging.stg_enrich__comment_scores``), our stores' online reviews (``marts.fct_reviews``: the
complaints a real score gain lowers) and names (``marts.dim_store``, ``staging.stg_reference__staff``);
calls :func:`cxlake.integrity.assess` on the countable responses and writes

- ``enrich.suspect_responses``: one row per suspect response and the rule that marks it, which
  dbt reads as a source so ``marts.fct_survey_responses`` carries ``is_suspect`` (the asset runs
  between the dbt models it reads and that mart: the graph stays acyclic);
- ``marts.mart_integrity_store`` and ``marts.mart_integrity_staff``: one row per store / staff
  member with responses, their integrity score, flag, reasons and the statistics behind them.

Evidence needs volume and a store's peers are every other store, so the asset always judges the
whole history in the warehouse, whatever days the run loaded; every table is replaced whole.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from dagster import AssetKey, AssetSpec, MaterializeResult, multi_asset

from cxlake.integrity import MART_STAFF_COLUMNS, MART_STORE_COLUMNS, assess, is_countable, load_config
from cxlake.pipeline.resources import Warehouse

GROUP = "integrity"
SUSPECTS_KEY = AssetKey(["enrich", "suspect_responses"])
STORE_KEY = AssetKey(["marts", "mart_integrity_store"])
STAFF_KEY = AssetKey(["marts", "mart_integrity_staff"])
READS = [
    AssetKey(["intermediate", "int_surveys__responses_flagged"]),
    AssetKey(["intermediate", "int_surveys__answers_scored"]),
    AssetKey(["marts", "fct_transactions"]),
    AssetKey(["marts", "fct_reviews"]),
    AssetKey(["marts", "dim_store"]),
    AssetKey(["staging", "stg_enrich__comment_scores"]),
    AssetKey(["staging", "stg_reference__staff"]),
]

RESPONSES = """
    with csat as (
        select response_key, min(score) as min_csat_score
        from intermediate.int_surveys__answers_scored
        where question_role = 'csat' and score is not null
        group by response_key
    ),

    member_purchases as (
        select distinct customer_id, transaction_date
        from marts.fct_transactions
        where customer_id is not null
    ),

    data_end as (
        select max(transaction_date) as last_transaction_date from marts.fct_transactions
    )

    select
        responses.response_key,
        responses.store_id,
        transactions.staff_id,
        responses.channel,
        responses.status,
        responses.nps_score,
        date_diff('second', transactions.ordered_at, responses.submitted_at) / 60.0 as minutes_after_sale,
        responses.is_speeder,
        responses.is_straight_liner,
        responses.is_duplicate,
        csat.min_csat_score,
        comments.sentiment_label as comment_sentiment_label,
        responses.ip_pseudonym as ip_address,  -- a keyed pseudonym: equal addresses, equal values
        cast(responses.submitted_at as date) as response_date,
        -- a member's days of data after the answer day, and to their next purchase after it
        case
            when transactions.customer_id is not null
                then date_diff('day', cast(responses.submitted_at as date), data_end.last_transaction_date)
        end as days_followed,
        date_diff('day', cast(responses.submitted_at as date), next_purchase.transaction_date)
            as days_to_next_purchase
    from intermediate.int_surveys__responses_flagged as responses
    cross join data_end
    left join marts.fct_transactions as transactions
        on responses.transaction_id = transactions.transaction_id
    asof left join member_purchases as next_purchase
        on transactions.customer_id = next_purchase.customer_id
        and cast(responses.submitted_at as date) < next_purchase.transaction_date
    left join csat
        on responses.response_key = csat.response_key
    left join staging.stg_enrich__comment_scores as comments
        on responses.response_key = comments.response_key
    order by responses.response_key
"""

# Our stores' online reviews; 1-2 stars is a complaint (staff: through a review's linked order).
REVIEWS = """
    select
        reviews.store_id,
        transactions.staff_id,
        reviews.posted_date as review_date,
        reviews.rating <= 2 as is_negative
    from marts.fct_reviews as reviews
    left join marts.fct_transactions as transactions
        on reviews.transaction_id = transactions.transaction_id
    where not reviews.is_competitor and reviews.rating is not null
"""

STAFF = """
    select staff_id, staff_name, store_id
    from staging.stg_reference__staff
    qualify row_number() over (partition by staff_id order by delivered_on desc) = 1
"""

CREATE = {
    "enrich.suspect_responses": "response_key varchar primary key, suspect_reason varchar not null",
    "marts.mart_integrity_store": """
        store_id varchar primary key, store_name varchar, region_id varchar, responses bigint not null,
        suspect_responses bigint not null, integrity_score double not null, is_flagged boolean not null,
        reasons varchar not null, nps double, nps_excluding_suspect double, share_tens double,
        peer_share_tens double, share_fast_after_sale double, peer_share_fast_after_sale double,
        top_device_share double
    """,
    "marts.mart_integrity_staff": """
        staff_id varchar primary key, staff_name varchar, store_id varchar, responses bigint not null,
        suspect_responses bigint not null, integrity_score double not null, is_flagged boolean not null,
        reasons varchar not null, share_tens double, share_fast_after_sale double
    """,
}


def read_responses(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The countable responses with what the integrity rules look at."""
    responses = connection.execute(RESPONSES).df()
    return responses[is_countable(responses).to_numpy()].reset_index(drop=True)


def integrity_tables(connection: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The three tables the asset writes, by name, computed from the warehouse."""
    reviews = connection.execute(REVIEWS).df()
    result = assess(read_responses(connection), load_config(), reviews)
    stores = connection.execute("select store_id, store_name, region_id from marts.dim_store").df()
    staff_names = connection.execute(STAFF).df()
    store_table = result.stores.merge(stores, on="store_id", how="left")
    staff_table = result.staff.merge(staff_names, on="staff_id", how="left", suffixes=("_answered", ""))
    staff_table["store_id"] = staff_table["store_id"].fillna(staff_table["store_id_answered"])
    return {
        "enrich.suspect_responses": result.suspects,
        "marts.mart_integrity_store": store_table[list(MART_STORE_COLUMNS)].sort_values("store_id"),
        "marts.mart_integrity_staff": staff_table[list(MART_STAFF_COLUMNS)].sort_values("staff_id"),
    }


def replace_tables(connection: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame]) -> None:
    """Replace each table whole, all in one transaction (a failed run leaves the previous ones)."""
    connection.execute("create schema if not exists enrich")
    connection.execute("create schema if not exists marts")
    connection.begin()
    try:
        for name, frame in tables.items():
            connection.execute(f"create or replace table {name} ({CREATE[name]})")
            connection.register("integrity_rows", frame)
            connection.execute(f"insert into {name} by name select * from integrity_rows")
            connection.unregister("integrity_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


@multi_asset(
    name="survey_integrity",
    specs=[
        AssetSpec(
            SUSPECTS_KEY,
            group_name=GROUP,
            deps=READS,
            kinds={"duckdb", "scipy"},
            description="One row per suspect survey response (from a flagged store or staff member, "
            "showing the patterns of its hit rules) and the rule id that marks it "
            "(cxlake/config/integrity.yaml); fct_survey_responses carries it as is_suspect.",
        ),
        AssetSpec(
            STORE_KEY,
            group_name=GROUP,
            deps=READS,
            kinds={"duckdb"},
            description="One row per store with countable responses: integrity score, flag, reasons "
            "(rule ids, strongest first), NPS with and without suspect responses, and the evidence "
            "(share of 10s, of answers within minutes of the sale, against peers; top device share).",
        ),
        AssetSpec(
            STAFF_KEY,
            group_name=GROUP,
            deps=READS,
            kinds={"duckdb"},
            description="One row per staff member with countable responses linked through their "
            "sales: integrity score, flag, reasons, share of 10s and of answers within minutes of the sale.",
        ),
    ],
)
def survey_integrity(warehouse: Warehouse):
    with warehouse.connect() as connection:
        tables = integrity_tables(connection)
        replace_tables(connection, tables)
    stores, staff = tables["marts.mart_integrity_store"], tables["marts.mart_integrity_staff"]
    yield MaterializeResult(
        asset_key=SUSPECTS_KEY, metadata={"rows": len(tables["enrich.suspect_responses"])}
    )
    yield MaterializeResult(
        asset_key=STORE_KEY,
        metadata={"rows": len(stores), "flagged": ",".join(stores.loc[stores["is_flagged"], "store_id"])},
    )
    yield MaterializeResult(
        asset_key=STAFF_KEY,
        metadata={"rows": len(staff), "flagged": ",".join(staff.loc[staff["is_flagged"], "staff_id"])},
    )


integrity_assets = [survey_integrity]
