"""`cxlake generate`: the demo chain's deliveries, written as a real chain's exports would land."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cxlake.cli.common import day, fail

app = typer.Typer()


class Scale(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the landing files into.")],
    scale: Annotated[
        Scale, typer.Option(help="small ~30 stores/90 days; medium ~1M; large ~20M transactions.")
    ] = (Scale.small),
    seed: Annotated[int, typer.Option(help="Same seed and days give byte-identical output.")] = 42,
    end: Annotated[
        str | None, typer.Option(help="Last day, YYYY-MM-DD (default: yesterday in Asia/Shanghai).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Number of days (default 90), up to --end or from --start.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD; then --days count from it.")
    ] = None,
) -> None:
    """Generate the demo chain's deliveries (CRM, POS, surveys, reviews) with planted truths."""
    from zoneinfo import ZoneInfo

    from cxlake.generator import generate as generate_demo
    from cxlake.generator import generation_window
    from cxlake.generator.chain import TIMEZONE

    try:
        first, count = generation_window(day(start), day(end), days, datetime.now(ZoneInfo(TIMEZONE)).date())
    except ValueError as error:
        fail(str(error))
    summary = generate_demo(out, scale=scale.value, seed=seed, start=first, days=count, progress=True)
    typer.echo(str(summary))
