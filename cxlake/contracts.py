"""What several layers must agree on, said once: the raw tables and their lineage columns, the sales
channels, the business timezone and the operational measures.

Ingestion writes the raw tables, dbt reads them as sources, the quarantine review and the serving
door read their lineage columns, the explorer and the marts both name the measures. Each of them
imports these values (dbt receives them as ``--vars``, :func:`dbt_vars`, with the same values as
defaults in dbt_project.yml for a hand-run dbt); tests/test_contracts.py holds dbt's sources,
dbt_project.yml and the explorer to them. Core: imports nothing of the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The chain's wall clock: business days (partitions, schedules), local times in the marts, the
# case clock's office hours, freshness windows and the explorer's times all mean this zone.
BUSINESS_TIMEZONE = "Asia/Shanghai"

# Sales channels of a transaction (POS `channel`), in the order pages list them.
CHANNELS = ("in_store", "app", "delivery")

# Lineage every delivered row carries: its business day (the partition), the delivered file (path
# under landing/) and its line or position in that file. The raw tables add when it was loaded;
# the quarantine tables add the rules it failed and when it was quarantined instead.
ROW_LINEAGE_COLUMNS = ("_partition_date", "_source_file", "_source_row")
RAW_LINEAGE_COLUMNS = (*ROW_LINEAGE_COLUMNS, "_loaded_at")
QUARANTINE_LINEAGE_COLUMNS = (*ROW_LINEAGE_COLUMNS, "_failed_expectations", "_quarantined_at")

RAW_SCHEMA = "raw"
QUARANTINE_SCHEMA = "quarantine"


@dataclass(frozen=True)
class RawTable:
    """A raw table of delivered rows: its name in ``raw``, the source (landing folder and dbt source)
    that delivers it, and the table whose rows it follows through the quality gate, if any (an
    answer is loaded or quarantined with its response, never judged alone)."""

    name: str
    source: str
    follows: str | None = None

    @property
    def judged(self) -> bool:
        """Judged by a suite of its own: its rows can be quarantined and reviewed by name."""
        return self.follows is None


RAW_TABLES = (
    RawTable("reference_stores", "reference"),
    RawTable("reference_staff", "reference"),
    RawTable("crm_customers", "crm"),
    RawTable("pos_transactions", "pos"),
    RawTable("pos_transaction_lines", "pos"),
    RawTable("survey_invitations", "survey_invitations"),
    RawTable("qualtrics_responses", "qualtrics"),
    RawTable("qualtrics_answers", "qualtrics", follows="qualtrics_responses"),
    RawTable("wjx_responses", "wjx"),
    RawTable("wjx_answers", "wjx", follows="wjx_responses"),
    RawTable("survey_responses", "surveys"),
    RawTable("survey_answers", "surveys", follows="survey_responses"),
    RawTable("reviews", "reviews"),
    RawTable("kano_responses", "kano"),
    RawTable("kano_answers", "kano", follows="kano_responses"),
    RawTable("survey_api_responses", "survey_api"),
    RawTable("survey_api_answers", "survey_api", follows="survey_api_responses"),
    RawTable("app_events", "app_events"),
)
RAW_TABLE_NAMES = tuple(table.name for table in RAW_TABLES)
# The raw tables a steward may review quarantined rows of (each has a quarantine.<name> table).
QUARANTINE_TABLES = tuple(table.name for table in RAW_TABLES if table.judged)

# Operational measures of a transaction (marts.fct_transactions columns) that the journey map may
# pair with a touchpoint, that marts.fct_touchpoint_daily sums per touchpoint and that the explorer
# can put beside one: a quantity rolls up as a mean over the orders, a flag as the share of orders.
OPERATIONAL_QUANTITIES = ("wait_minutes", "amount", "refund_amount", "count_items", "count_lines")
OPERATIONAL_FLAGS = ("is_refunded", "is_remake")
OPERATIONAL_MEASURES: dict[str, Literal["mean", "share"]] = {
    **dict.fromkeys(OPERATIONAL_QUANTITIES, "mean"),
    **dict.fromkeys(OPERATIONAL_FLAGS, "share"),
}
# POS events a touchpoint may list in the journey map, and the flag that measures each.
POS_EVENT_FLAGS = {"refund": "is_refunded", "remake": "is_remake"}


def dbt_vars() -> dict[str, str | list[str]]:
    """The contract as dbt ``--vars`` (the runner passes them with every dbt command; the macros
    and models read them with ``var()``)."""
    return {
        "business_timezone": BUSINESS_TIMEZONE,
        "channels": list(CHANNELS),
        "operational_quantities": list(OPERATIONAL_QUANTITIES),
        "operational_flags": list(OPERATIONAL_FLAGS),
    }
