"""A longer seeded chain, generated and built once per test run, for the pipeline tests that need
more than the ten-day demo build of tests/conftest.py: the closed loop's recovery figures (a 30-day
return window on top of 15 days of answers) and survey integrity (enough answers per store and
staff member for the rules to judge). Building it once instead of once per test module saves a
whole-pipeline run of 30-45 days for each module that reads it (several minutes on two cores).

Tests read the build as it is; a test that changes it (replays cases, snapshots them, builds more
models) works on a copy it takes with the ``copy_chain`` fixture.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

CHAIN_SEED = 7
CHAIN_START = date(2026, 3, 2)
CHAIN_DAYS = 45


@dataclass(frozen=True)
class ChainBuild:
    """The chain's landing (with truth.json), its warehouse and app state, and the published copy."""

    home: Path
    landing: Path
    warehouse: Path
    serving: Path
    success: bool
    complete: bool


def _build_chain(home: Path) -> dict:
    """Small scale, CHAIN_DAYS days from CHAIN_START, seed CHAIN_SEED, through the whole pipeline."""
    from cxlake.generator import generate
    from orchestration.runner import run_pipeline

    landing = home / "landing"
    generate(landing, scale="small", seed=CHAIN_SEED, start=CHAIN_START, days=CHAIN_DAYS, progress=False)
    outcome = run_pipeline(landing, home / "warehouse.duckdb")
    return {"serving": str(outcome.serving_path), "success": outcome.success, "complete": outcome.complete}


@pytest.fixture(scope="session")
def chain_build(shared_build) -> ChainBuild:
    """The chain, built once per test run (by whichever xdist worker asks first)."""
    home, built = shared_build("chain", _build_chain)
    return ChainBuild(
        home,
        home / "landing",
        home / "warehouse.duckdb",
        Path(built["serving"]),
        built["success"],
        built["complete"],
    )


@pytest.fixture(scope="session")
def copy_chain(chain_build: ChainBuild) -> Callable[[Path], Path]:
    """``copy_chain(target)``: copy the build's warehouse and app state (the cases the run opened)
    into ``target``, so a test may change them, and return the copied warehouse; the landing stays
    shared (read only). A fixture because test modules cannot import a conftest."""

    def copy(target: Path) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "app_state.sqlite"):
            if (chain_build.home / name).exists():
                shutil.copyfile(chain_build.home / name, target / name)
        return target / "warehouse.duckdb"

    return copy
