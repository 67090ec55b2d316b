"""The `cxlake` command: one module per command group, each a thin wrapper that parses options and
calls one library function.

Every module of :data:`COMMAND_MODULES` holds a ``typer.Typer`` named ``app``: one without a name
adds its commands at the top (``cxlake run``), one named adds a group (``cxlake users add``). A new
command is a new module here plus its name in that list. The modules sit on top of everything:
they may import the wiring (``orchestration``) and the core, and nothing imports them.
"""

from __future__ import annotations

from importlib import import_module

import typer

from cxlake.paths import owner_only_process

# In the order `cxlake --help` lists them.
COMMAND_MODULES = (
    "demo",  # generate
    "pipeline",  # run, ingest, backfill
    "surveys",  # read-survey, check-survey
    "explorer",  # serve
    "docs",  # docs
    "text",  # score-reviews, train-sentiment
    "sql",  # sql
    "drivers",  # drivers
    "sources",  # pull-surveys, serve-push
    "quarantine",  # quarantine ...
    "users",  # users ...
    "cases",  # cases ...
    "privacy",  # erase, retention
    "backup",  # backup, restore
)

# Before any command: files it writes are the owner's alone, and an open home is named (cxlake.paths).
app = typer.Typer(
    no_args_is_help=True,
    help="cxlake: customer-experience data platform.",
    callback=lambda: owner_only_process(),
)
for name in COMMAND_MODULES:
    app.add_typer(import_module(f"{__name__}.{name}").app)
