"""`cxlake serve`: the explorer (Streamlit) on the current serving copy."""

from __future__ import annotations

import os
import subprocess
from typing import Annotated

import typer

from cxlake.explorer_process import explorer_command

app = typer.Typer()


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port of the explorer.")] = 8501,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The pages show customers' names and phones, so only this "
            "machine by default; 0.0.0.0 opens the explorer to the network."
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the explorer on the current serving copy."""
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    typer.echo(f"cxlake explorer: http://{shown}:{port}")
    raise typer.Exit(subprocess.call(explorer_command(host, port), env=os.environ.copy()))
