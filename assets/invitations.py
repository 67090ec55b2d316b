"""Who gets a survey invitation each day, decided in the warehouse and handed to the survey tools.

For each day the asset reads the day's POS transactions (``raw.pos_transactions``), each buyer's
contacts as the CRM last delivered them up to that day (``raw.crm_customers``) and every earlier
invitation (the decisions of earlier days, and the invitations the survey tools report sending in
``raw.survey_invitations``), calls :func:`cxlake.invitations.select_invitations`, and writes

- ``enrich.invitation_decisions``: one row per transaction in a surveyed channel with its decision
  and the rule that suppressed it, replaced per day (dbt reads it as a source for the funnel mart);
  no names, phones or e-mails: those stay in the CRM tables and the outbox;
- ``<home>/outbox/invitations/<day>/<survey_id>.csv``: the file each survey tool imports.

Days are decided in order, each after the days before it were written, so a range run decides
like a daily schedule; re-running a day reads only invitations before it and writes the same rows
and the same bytes.
"""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
)

from cxlake.alerts.cases import CaseStore
from cxlake.app_state import AppState
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.invitations import INVITED, RULES, InvitationRules, load_rules, select_invitations, write_outbox
from cxlake.pipeline.partitions import single_run
from cxlake.pipeline.resources import Warehouse

GROUP = "invitations"
DECISIONS_TABLE = "enrich.invitation_decisions"
# Customer-level columns of the decisions that are personal data: used for the outbox, not stored.
CONTACT_COLUMNS = ("name", "phone", "email")
STORED_COLUMNS = (
    "decision_date",
    "transaction_id",
    "customer_id",
    "store_id",
    "channel",
    "survey_id",
    "is_eligible",
    "is_first_time",
    "days_since_last_invitation",
    "quota",
    "decision",
    "rule",
)

CREATE_DECISIONS = f"""
    create table if not exists {DECISIONS_TABLE} (
        decision_date date not null,
        transaction_id varchar not null,
        customer_id varchar,
        store_id varchar not null,
        channel varchar not null,
        survey_id varchar not null,
        is_eligible boolean not null,
        is_first_time boolean,
        days_since_last_invitation integer,
        quota integer not null,
        decision varchar not null,
        rule varchar
    )
"""

# The day's transactions with the buyer's contacts as the CRM last delivered them by that day.
DAY_TRANSACTIONS = """
    with day_transactions as (
        select transaction_id, store_id, channel, nullif(trim(customer_id), '') as customer_id
        from raw.pos_transactions
        where _partition_date = ?
    ),

    contacts as (
        select customer_id, name, phone, email
        from raw.crm_customers
        where _partition_date <= ?
            and customer_id in (select customer_id from day_transactions)
        qualify row_number() over (
            partition by customer_id order by _partition_date desc, updated_at desc, _source_row desc
        ) = 1
    )

    select day_transactions.*, contacts.name, contacts.phone, contacts.email
    from day_transactions
    left join contacts on day_transactions.customer_id = contacts.customer_id
    order by day_transactions.transaction_id
"""

# Every invitation before the day of the day's buyers: cxlake's own decisions and what the survey
# tools report sending (the same invitation in both counts once).
HISTORY = f"""
    with buyers as (
        select distinct nullif(trim(customer_id), '') as customer_id
        from raw.pos_transactions
        where _partition_date = ?
    ),

    invitations as (
        select customer_id, transaction_id, decision_date as invited_on
        from {DECISIONS_TABLE}
        where decision = '{INVITED}' and decision_date < ?
        union
        select
            nullif(trim(customer_id), '') as customer_id,
            transaction_id,
            cast(substr(invited_at, 1, 10) as date) as invited_on
        from raw.survey_invitations
        where _partition_date < ?
    )

    select customer_id, invited_on
    from invitations
    where customer_id in (select customer_id from buyers)
    order by customer_id, invited_on
"""


def decide_day(
    connection: duckdb.DuckDBPyConnection, rules: InvitationRules, day: date, open_case_customers: set[str]
) -> pd.DataFrame:
    """The day's decisions with the invitees' contacts (for the outbox), from the warehouse."""
    transactions = connection.execute(DAY_TRANSACTIONS, [day, day]).df()
    history = connection.execute(HISTORY, [day, day, day]).df()
    return select_invitations(transactions, history, open_case_customers, rules, day).assign(
        decision_date=day
    )


def replace_day(connection: duckdb.DuckDBPyConnection, day: date, decisions: pd.DataFrame) -> None:
    """Delete the day's rows and insert its decisions, in one transaction."""
    stored = decisions[list(STORED_COLUMNS)].astype({"customer_id": "object", "rule": "object"})
    connection.begin()
    try:
        connection.execute(f"delete from {DECISIONS_TABLE} where decision_date = ?", [day])
        connection.register("day_decisions", stored)
        connection.execute(f"insert into {DECISIONS_TABLE} by name select * from day_decisions")
        connection.unregister("day_decisions")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


def outbox_folder(warehouse: Warehouse) -> Path:
    """``<home>/outbox/invitations``: the cxlake home (``$CXLAKE_HOME``) beside the warehouse."""
    return warehouse.home / "outbox" / "invitations"


def build_invitation_asset(partitions_def: DailyPartitionsDefinition) -> AssetsDefinition:
    """The daily invitation decisions, partitioned like the ingestion it reads."""

    @asset(
        key=AssetKey(["enrich", "invitation_decisions"]),
        group_name=GROUP,
        partitions_def=partitions_def,
        backfill_policy=single_run,
        deps=[
            AssetKey(["raw", "pos_transactions"]),
            AssetKey(["raw", "crm_customers"]),
            AssetKey(["raw", "survey_invitations"]),
        ],
        kinds={"duckdb", "csv"},
        description="One row per transaction in a surveyed channel and day: invited, or suppressed "
        "by which contact-frequency rule (cxlake/config/invitations.yaml); writes the day's "
        "outbox/invitations/<day>/<survey_id>.csv the survey tools import.",
    )
    def invitation_decisions(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        rules = load_rules()
        cases = CaseStore(AppState(warehouse.app_state))
        days = sorted(date.fromisoformat(key) for key in context.partition_keys)
        counts = {"rows": 0, "invited": 0, **{rule: 0 for rule in RULES}}
        with warehouse.connect() as connection:
            connection.execute("create schema if not exists enrich")
            connection.execute(CREATE_DECISIONS)
            for day in days:
                # Decided when the day is over: whose complaint was being worked at its end.
                day_end = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(BUSINESS_TIMEZONE))
                decisions = decide_day(connection, rules, day, cases.customers_with_open_case(day_end))
                replace_day(connection, day, decisions)
                files = write_outbox(decisions, rules, outbox_folder(warehouse), day)
                context.log.info(
                    f"{day}: {len(decisions)} decisions, outbox {', '.join(map(str, files.values()))}"
                )
                counts["rows"] += len(decisions)
                counts["invited"] += int((decisions["decision"] == INVITED).sum())
                for rule, n in decisions["rule"].value_counts().items():
                    counts[str(rule)] += int(n)
        return MaterializeResult(
            metadata={"days": len(days), **{f"count_{name}": n for name, n in counts.items()}}
        )

    return invitation_decisions
