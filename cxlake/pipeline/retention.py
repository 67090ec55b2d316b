"""Retention applied to one warehouse: the policy, dbt's tagged models and the steward's decisions
brought to :func:`cxlake.privacy.purge.purge`. The pipeline's retention asset and `cxlake retention`
both call :func:`apply_retention`, inside the warehouse's write lock."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from cxlake.app_state import AppState
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR, prepare_dbt_manifest
from cxlake.pipeline.resources import Warehouse
from cxlake.privacy.duckdb_tables import compact
from cxlake.privacy.purge import (
    PurgeRecord,
    QuarantineDecisionAge,
    purge,
    raw_columns,
    read_manifest,
    tagged_models,
)
from cxlake.privacy.retention import RetentionPolicy, load_retention


def business_today() -> date:
    return datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date()


def apply_retention(
    warehouse: Warehouse,
    as_of: date | None = None,
    *,
    policy: RetentionPolicy | None = None,
    dry_run: bool = False,
    compact_file: bool = False,
) -> list[PurgeRecord]:
    """Purge what the policy no longer allows as of ``as_of`` (default: today in the business
    timezone). With ``compact_file``, the file is rewritten afterwards when anything was purged:
    an UPDATE leaves old values in freed blocks of the file until DuckDB reuses them."""
    policy = policy or load_retention()
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.is_file():
        manifest = prepare_dbt_manifest()
    columns = raw_columns() + tagged_models(read_manifest(manifest))
    with warehouse.connect() as connection:
        records = purge(
            connection,
            policy,
            as_of or business_today(),
            columns,
            latest_decisions(warehouse),
            dry_run=dry_run,
        )
    if compact_file and not dry_run and any(record.rows for record in records):
        compact(warehouse.database)
    return records


def latest_decisions(warehouse: Warehouse) -> list[QuarantineDecisionAge]:
    """Each quarantined row's latest decision and the business day it was made."""
    if not warehouse.app_state.is_file():
        return []
    latest = {}
    for decision in AppState(warehouse.app_state).decision_history():
        latest[(decision.raw_table, decision.source_file, decision.source_row)] = decision
    zone = ZoneInfo(BUSINESS_TIMEZONE)
    return [
        QuarantineDecisionAge(
            d.raw_table,
            d.source_file,
            d.source_row,
            d.decision,
            datetime.fromisoformat(d.decided_at).astimezone(zone).date(),
        )
        for d in latest.values()
    ]
