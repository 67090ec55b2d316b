"""`cxlake cases ...`: list the alert cases and work them from scripts (acknowledge, comment,
record a call-back, resolve), and run the case clock once (escalation, digest, message retries).

The store is the one the pipeline used: ``app_state.sqlite`` beside ``--warehouse``, else in the
cxlake home (``$CXLAKE_HOME``). The list carries ids and states only, never what a customer wrote.
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cxlake.alerts.cases import CONTACT_METHODS, RESOLUTION_CODES, STATUSES, CaseError, CaseStore
from cxlake.alerts.clock import tick
from cxlake.alerts.config import AlertConfigError, load_alert_config
from cxlake.alerts.outbox import notifications
from cxlake.app_state import AppState
from cxlake.paths import cxlake_paths

app = typer.Typer(
    name="cases",
    no_args_is_help=True,
    help="Alert cases: list, ack, comment, contact, resolve; tick runs the case clock.",
)

LIST_COLUMNS = (
    "case_id",
    "rule",
    "severity",
    "survey_id",
    "response_id",
    "store_id",
    "owner",
    "status",
    "is_historical",
    "opened_at",
    "ack_due_at",
    "acknowledged_at",
    "resolved_at",
    "ack_breached",
    "resolution_code",
    "customer_contacted",
    "messages",
)

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="The run's warehouse; its app_state.sqlite is used (default: cxlake home)."
    ),
]
ByOption = Annotated[str, typer.Option("--by", help="Who takes the action (recorded and audited).")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note kept with the action.")]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _store(warehouse: Path | None) -> CaseStore:
    path = warehouse.resolve().with_name("app_state.sqlite") if warehouse else cxlake_paths().app_state
    return CaseStore(AppState(path))


@app.command("list")
def list_cases(
    store: Annotated[str | None, typer.Option("--store", help="Only this store's cases.")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help=f"Only cases in this state ({', '.join(STATUSES)}).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    warehouse: WarehouseOption = None,
) -> None:
    """One row per case, newest first."""
    case_store = _store(warehouse)
    now = datetime.now(UTC)
    try:
        cases = case_store.cases(status=status or None, store_id=store)
    except CaseError as error:
        _fail(str(error))
    sent: dict[str, list[str]] = {}
    for note in notifications(case_store):
        if note.case_id:
            sent.setdefault(note.case_id, []).append(note.status)
    rows = []
    for case in cases:
        row = case.as_row(now)
        statuses = sent.get(case.case_id, [])
        row["rule"] = case.rule_id
        row["messages"] = ", ".join(
            f"{s} {statuses.count(s)}" for s in ("sent", "failed", "pending") if s in statuses
        )
        rows.append({column: _cell(row[column]) for column in LIST_COLUMNS})
    if output is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=LIST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in LIST_COLUMNS}
    typer.echo("  ".join(c.ljust(widths[c]) for c in LIST_COLUMNS).rstrip())
    for row in rows:
        typer.echo("  ".join(row[c].ljust(widths[c]) for c in LIST_COLUMNS).rstrip())
    typer.echo(f"{len(rows)} case(s)", err=True)


@app.command("ack")
def ack(case_id: str, by: ByOption, note: NoteOption = None, warehouse: WarehouseOption = None) -> None:
    """Acknowledge a case: its owner has seen it (stops escalation)."""
    _act(lambda store: store.acknowledge(case_id, by, note), warehouse)


@app.command("comment")
def comment(
    case_id: str,
    by: ByOption,
    note: Annotated[str, typer.Option("--note", help="The note.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Add a note to a case."""
    _act(lambda store: store.add_comment(case_id, by, note), warehouse)


@app.command("contact")
def contact(
    case_id: str,
    by: ByOption,
    method: Annotated[str, typer.Option("--method", help=f"How: {', '.join(CONTACT_METHODS)}.")] = "phone",
    note: NoteOption = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Record that the customer was called back (acknowledges the case if it was not)."""
    _act(lambda store: store.record_contact(case_id, by, method, note), warehouse)


@app.command("resolve")
def resolve(
    case_id: str,
    by: ByOption,
    code: Annotated[str, typer.Option("--code", help=f"Resolution: {', '.join(RESOLUTION_CODES)}.")],
    note: NoteOption = None,
    contacted: Annotated[
        str | None,
        typer.Option("--contacted", help=f"The customer was contacted by: {', '.join(CONTACT_METHODS)}."),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Resolve a case with a resolution code."""
    _act(lambda store: store.resolve(case_id, by, code, note, contacted), warehouse)


@app.command("tick")
def clock_tick(warehouse: WarehouseOption = None) -> None:
    """Run the case clock once now: escalate overdue cases, queue the digest, send owed messages."""
    try:
        config = load_alert_config()
    except AlertConfigError as error:
        _fail(str(error))
    result = tick(_store(warehouse), config)
    typer.echo(
        f"escalated {len(result.escalated)}; digest {result.digest_day or 'not due'}; "
        f"messages sent {result.dispatched.sent}, failed {result.dispatched.failed}"
    )


@app.command("replay-demo")
def replay_demo(
    truth: Annotated[Path, typer.Option("--truth", help="The demo's <landing>/truth.json.")],
    warehouse: WarehouseOption = None,
) -> None:
    """Work the demo's cases the way its stores planted it (truth.json "case_work"), as each store's
    manager at the planted times; the last two days' cases stay open. A second call changes nothing."""
    from cxlake.generator.case_work import CaseWorkError, load_case_work, replay_case_work

    try:
        done = replay_case_work(_store(warehouse), load_case_work(truth))
    except CaseWorkError as error:
        _fail(str(error))
    typer.echo(
        f"acknowledged {done.acknowledged}, contacted {done.contacted}, resolved {done.resolved}; "
        f"left open: {done.too_recent} too recent, {done.not_yet_due} not yet due; "
        f"{done.without_case} planted without a case"
    )


def _act(action, warehouse: Path | None = None) -> None:
    try:
        case = action(_store(warehouse))
    except CaseError as error:
        _fail(str(error))
    typer.echo(f"{case.case_id}: {case.status}")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
