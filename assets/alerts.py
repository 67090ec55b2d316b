"""Alerts as assets: open cases for the feedback a run brought in and send their messages at once;
copy the cases into the warehouse so the loop marts (time to acknowledge, recovery) can read them.

The cases themselves live in the app-state store beside the warehouse (they outlive rebuilds); the
warehouse copy is a snapshot, replaced whole each run.
"""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, asset, multi_asset

from cxlake.alerts.cases import ROW_COLUMNS, CaseStore
from cxlake.alerts.config import load_alert_config
from cxlake.alerts.outbox import dispatch_pending
from cxlake.app_state import AppState
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.pipeline.resources import Warehouse

FEEDBACK_ITEMS = AssetKey(["marts", "fct_feedback_items"])
ALERT_CASES = AssetKey(["alerts", "cases"])
CASES_SNAPSHOT = AssetKey(["app_state", "cases"])
CASE_EVENTS_SNAPSHOT = AssetKey(["app_state", "case_events"])
_EVENT_COLUMNS = ("event_id", "case_id", "at", "actor", "action", "note")
_BOOLEAN_COLUMNS = frozenset({"is_historical", "customer_contacted", "ack_breached", "resolve_breached"})


def feedback_items(connection: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every row of fct_feedback_items, its business-time ``feedback_at`` made zone-aware."""
    frame = connection.execute("select * from marts.fct_feedback_items").df()
    zone = ZoneInfo(BUSINESS_TIMEZONE)
    frame["feedback_at"] = [value.to_pydatetime().replace(tzinfo=zone) for value in frame["feedback_at"]]
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


@asset(
    key=ALERT_CASES,
    group_name="alerts",
    deps=[FEEDBACK_ITEMS],
    kinds={"sqlite"},
    description=(
        "A case in the app-state store for every feedback item an alert rule of "
        "cxlake/config/alerts.yaml matches (one per item, however often it is seen); fresh ones "
        "notify their owner at once, older ones open as historical and notify nobody."
    ),
)
def alert_cases(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    config = load_alert_config()
    store = CaseStore(AppState(warehouse.app_state))
    with warehouse.connect() as connection:
        items = feedback_items(connection)
    now = datetime.now(UTC)
    result = store.open_cases(items, config, now)
    dispatched = dispatch_pending(store, config, now)
    if dispatched.failed:
        context.log.warning(
            f"{dispatched.failed} alert message(s) could not be sent; `cxlake cases list` and the "
            "loop page show which and why"
        )
    return MaterializeResult(
        metadata={
            "feedback_items": len(items),
            "cases_opened": len(result.opened),
            "fresh_cases": len(result.fresh),
            "historical_cases": len(result.opened) - len(result.fresh),
            "already_cased": result.already_open,
            "messages_sent": dispatched.sent,
            "messages_failed": dispatched.failed,
        }
    )


@multi_asset(
    specs=[
        AssetSpec(
            CASES_SNAPSHOT,
            group_name="alerts",
            deps=[ALERT_CASES],
            kinds={"duckdb"},
            description="app_state.cases: every case as it stands at the run, for the loop marts.",
        ),
        AssetSpec(
            CASE_EVENTS_SNAPSHOT,
            group_name="alerts",
            deps=[ALERT_CASES],
            kinds={"duckdb"},
            description="app_state.case_events: who did what to each case, when.",
        ),
    ],
)
def case_snapshot(context: AssetExecutionContext, warehouse: Warehouse):
    cases, events = snapshot_cases(warehouse.app_state, warehouse.database)
    yield MaterializeResult(asset_key=CASES_SNAPSHOT, metadata={"rows": cases})
    yield MaterializeResult(asset_key=CASE_EVENTS_SNAPSHOT, metadata={"rows": events})


def snapshot_cases(app_state: Path, warehouse_path: Path, now: datetime | None = None) -> tuple[int, int]:
    """Replace ``app_state.cases`` and ``app_state.case_events`` in the warehouse with the store's
    current cases (breach flags as of ``now``); returns the row counts."""
    now = now or datetime.now(UTC)
    store = CaseStore(AppState(app_state))
    rows = [case.as_row(now) | {"snapshot_at": now.isoformat(timespec="seconds")} for case in store.cases()]
    cases = pd.DataFrame(rows, columns=[*ROW_COLUMNS, "snapshot_at"], dtype=object)
    with store.state.transaction() as connection:
        event_rows = connection.execute(
            f"select {', '.join(_EVENT_COLUMNS)} from case_events order by event_id"
        ).fetchall()
    events = pd.DataFrame(event_rows, columns=list(_EVENT_COLUMNS), dtype=object)
    with duckdb.connect(str(warehouse_path)) as connection:
        connection.execute("create schema if not exists app_state")
        connection.register("cases_frame", cases)
        connection.register("events_frame", events)
        connection.execute("begin")
        # Typed whatever the frame holds: an empty store still gives the columns dbt reads.
        case_columns = ", ".join(_typed(column) for column in cases.columns)
        event_columns = ", ".join(_typed(column) for column in events.columns)
        connection.execute(
            f"create or replace table app_state.cases as select {case_columns} from cases_frame"
        )
        connection.execute(
            f"create or replace table app_state.case_events as select {event_columns} from events_frame"
        )
        connection.execute("commit")
    return len(cases), len(events)


def _typed(column: str) -> str:
    kind = "boolean" if column in _BOOLEAN_COLUMNS else "bigint" if column == "event_id" else "varchar"
    return f'cast("{column}" as {kind}) as "{column}"'  # quoted: case_events.at is an SQL keyword
