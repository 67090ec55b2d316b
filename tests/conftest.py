"""Session fixtures: ONE demo warehouse, generated and built once, shared by every test that needs it.

The suite runs on two pytest-xdist workers, each test file whole on one worker (pyproject.toml:
``-n 2 --dist loadfile``), so module-scoped fixtures are set up once; a session build that tests
on both workers read is still made once per run (``shared_build``).

A longer seeded chain (``chain_build``: 45 days), generated and built once per test run, for the
tests that need more than the ten-day demo: the closed loop's recovery figures (a 30-day return
window on top of 15 days of answers), survey integrity (enough answers per store and staff member
for the rules to judge) and churn risk (a horizon and a held-out period after a look-back). Building
it once instead of once per test module saves a whole-pipeline run of 30-45 days for each module
that reads it (several minutes on two cores). Tests read the build as it is; a test that changes it
(replays cases, snapshots them, builds more models) works on a copy it takes with ``copy_chain``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock

# The fixtures' data is dated months before any day the suite runs: every pipeline run's retention
# purge (cxlake/config/retention.yaml) would empty their IP addresses and comments depending on that
# day. The suite keeps everything; tests/privacy/test_retention.py tests the purge on its own dates.
os.environ.setdefault(
    "CXLAKE_RETENTION_YAML", str(Path(__file__).parent / "fixtures" / "retention_keep_everything.yaml")
)

DEMO_SEED = 7
DEMO_START = date(2026, 3, 2)
DEMO_DAYS = 10


@dataclass(frozen=True)
class DemoBuild:
    home: Path
    landing: Path
    warehouse: Path
    serving: Path
    run_success: bool


def _build_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], dict]
) -> tuple[Path, dict]:
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        home = tmp_path_factory.mktemp(name)
        return home, build(home)
    home = tmp_path_factory.getbasetemp().parent / name
    done = home.with_name(f"{name}.json")
    with FileLock(str(home.with_name(f"{name}.lock"))):
        if not done.is_file():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            done.write_text(json.dumps(build(home)), encoding="utf-8")
    return home, json.loads(done.read_text(encoding="utf-8"))


SharedBuild = Callable[[str, Callable[[Path], dict]], tuple[Path, dict]]


@pytest.fixture(scope="session")
def shared_build(tmp_path_factory: pytest.TempPathFactory) -> SharedBuild:
    """``shared_build(name, build)``: ``build(home)`` once per test run, returning ``(home, what
    build returned)`` (a JSON-able dict).

    Without xdist, in a fresh temp folder. Under xdist, in the run's temp folder that all workers
    share: the first worker to ask builds while holding a lock; the other waits for it and reads
    the dict (a build that raised is tried again by the next worker that asks). Tests read the
    build; one that changes it copies the files first. A fixture because test modules and other
    conftests cannot import this one."""
    return lambda name, build: _build_once(tmp_path_factory, name, build)


def _build_demo(home: Path) -> dict:
    """Small demo data (seeded) run through the whole pipeline in-process, then published."""
    from cxlake.generator import generate
    from orchestration.runner import run_pipeline

    generate(
        home / "landing", scale="small", seed=DEMO_SEED, start=DEMO_START, days=DEMO_DAYS, progress=False
    )
    outcome = run_pipeline(home / "landing", home / "warehouse.duckdb")
    return {"serving": str(outcome.serving_path), "success": outcome.success}


@pytest.fixture(scope="session")
def demo_build(shared_build: SharedBuild) -> DemoBuild:
    """Small demo data (seeded) run through the whole pipeline in-process, then published."""
    home, built = shared_build("cxlake_home", _build_demo)
    return DemoBuild(
        home, home / "landing", home / "warehouse.duckdb", Path(built["serving"]), built["success"]
    )


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
