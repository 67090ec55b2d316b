"""`cxlake docs`: the dbt docs site built against a real warehouse, with the pipeline's --vars."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer

from cxlake.cli.common import fail
from cxlake.paths import cxlake_paths
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR, dbt_command

app = typer.Typer()


def dbt_docs_commands(warehouse: Path, port: int, target_path: Path | None) -> tuple[list[str], list[str]]:
    """`dbt docs generate` and `dbt docs serve` against ``warehouse``, with the pipeline's --vars."""
    options = ["--target-path", str(target_path)] if target_path is not None else []
    generate = dbt_command("docs", "generate", *options, warehouse=warehouse)
    serve = dbt_command("docs", "serve", "--port", str(port), "--no-browser", *options, warehouse=warehouse)
    return generate, serve


@app.command()
def docs(
    port: Annotated[int, typer.Option(help="Port of the docs site.")] = 8080,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after building.")] = True,
    warehouse: Annotated[
        Path | None, typer.Option(help="Warehouse DuckDB file (default data/warehouse.duckdb).")
    ] = None,
    target_path: Annotated[
        Path | None, typer.Option(help="Where dbt writes the site (default dbt_project/target).")
    ] = None,
) -> None:
    """Build the dbt docs (lineage, column docs, the warehouse's catalog) and serve them."""
    warehouse_path = (warehouse or cxlake_paths().warehouse).resolve()
    if not warehouse_path.is_file():
        fail(f"no warehouse at {warehouse_path}; run `cxlake run` (or `make demo`) first")
    target = target_path.resolve() if target_path else None
    generate, serve_command = dbt_docs_commands(warehouse_path, port, target)
    if subprocess.call(generate) != 0:
        fail("dbt docs generate failed (see the dbt output above)")
    typer.echo(f"dbt docs built: {(target or DBT_PROJECT_DIR / 'target') / 'index.html'}")
    if serve:
        typer.echo(f"dbt docs: http://localhost:{port}")
        raise typer.Exit(subprocess.call(serve_command))
