"""`cxlake sql --user NAME "QUERY"`: the SQL page's sandbox from a terminal, with that user's rights.

The command names a user rather than trusting the caller's role: it runs through the same sandbox as
the page, and every run, refused or not, is written to the audit log under that name (the statement
as a bounded prefix with its hash). Limits: see :class:`cxlake.access.sql_process.SqlLimits`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cxlake.paths import cxlake_paths

app = typer.Typer()


@app.command("sql")
def sql_command(
    user: Annotated[str, typer.Option("--user", help="Account whose rights the query runs with.")],
    query: Annotated[str, typer.Argument(help="One SELECT over the marts, e.g. 'select * from dim_store'.")],
    serving: Annotated[
        Path | None, typer.Option("--serving", help="Serving copy (default data/serving.duckdb).")
    ] = None,
    row_cap: Annotated[int, typer.Option("--row-cap", min=1, help="Most rows printed.")] = 10_000,
) -> None:
    """Run one SELECT over the marts as USER (PII masked, scope applied) and print CSV."""
    from cxlake.access.accounts import Accounts
    from cxlake.access.audit import AuditLog, statement_detail
    from cxlake.access.sql_sandbox import QueryRefused, SqlLimits, run_query
    from cxlake.app_state import AppState
    from cxlake.exports import to_csv_bytes

    paths = cxlake_paths()
    state = AppState(paths.app_state)
    audit = AuditLog(state)
    actor = user.strip() or "?"

    def refuse(reason: str) -> NoReturn:
        audit.record(actor, "sql_refused", {**statement_detail(query), "reason": reason})
        typer.echo(f"error: {reason}", err=True)
        raise typer.Exit(code=1)

    account = Accounts(state).get(user)
    if account is None:
        refuse(f"no account named {user!r}")
    if account.disabled:
        refuse(f"account {account.name} is disabled")
    try:
        limits = SqlLimits.from_env(row_cap=row_cap)
        result = run_query(account.principal, query, serving or paths.serving, limits=limits, keep_warm=False)
    except (QueryRefused, ValueError) as error:  # ValueError: a limit set wrong in the environment
        refuse(str(error))
    audit.record(
        account.name,
        "sql_query",
        {**statement_detail(query), "rows": len(result.frame), "truncated": result.truncated},
    )
    # Plain values, no formula defusing: this output is for pipes and scripts, not for spreadsheets.
    typer.echo(to_csv_bytes(result.frame, excel_safe_cells=False).decode("utf-8-sig"), nl=False)
    if result.truncated:
        typer.echo(f"note: only the first {result.row_cap} rows are shown (--row-cap)", err=True)
