"""Where cxlake writes: everything under one home folder (``data/`` or ``$CXLAKE_HOME``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.home / "serving.duckdb"

    @property
    def app_state(self) -> Path:
        return self.home / "app_state.sqlite"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"


def cxlake_paths(home: str | Path | None = None) -> Paths:
    """The paths for ``home``, else ``$CXLAKE_HOME``, else ``./data`` (read when called)."""
    chosen = home or os.environ.get("CXLAKE_HOME") or "data"
    return Paths(Path(chosen).resolve())
