"""`cxlake backup` and `cxlake restore`: the home's stores copied out and put back consistently
(see :mod:`cxlake.backup`), waiting for a running writer like any run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cxlake.backup import BackupError, back_up, restore
from cxlake.cli.common import HomeOption, fail, say_waiting
from cxlake.paths import cxlake_paths

app = typer.Typer()


@app.command("backup")
def backup_command(
    to: Annotated[Path, typer.Option("--to", help="A new or empty folder for the backup.")],
    home: HomeOption = None,
) -> None:
    """Copy the warehouse, the serving copy and the app state (accounts, cases, audit log) into a
    folder, with a manifest of their checksums; runs wait while it copies."""
    try:
        files = back_up(cxlake_paths(home), to.resolve(), on_wait=say_waiting)
    except BackupError as error:
        fail(str(error))
    for file in files:
        typer.echo(f"{file.name}: {file.size:,} bytes, sha256 {file.sha256[:12]}…")
    typer.echo(f"backup written to {to}")


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Option("--from", help="A folder `cxlake backup` wrote.")],
    home: HomeOption = None,
) -> None:
    """Put a backup back: every file is checked against the manifest first (a damaged backup changes
    nothing), then the stores are replaced while runs wait."""
    try:
        taken_at, files = restore(cxlake_paths(home), source.resolve(), on_wait=say_waiting)
    except BackupError as error:
        fail(str(error))
    typer.echo(f"restored {', '.join(file.name for file in files)} as of {taken_at}")
