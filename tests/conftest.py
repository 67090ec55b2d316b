"""Session fixtures: ONE demo warehouse, generated and built once, shared by every test that needs it.

The suite runs on two pytest-xdist workers, each test file whole on one worker (pyproject.toml:
``-n 2 --dist loadfile``), so module-scoped fixtures are set up once; a session build that tests
on both workers read is still made once per run (``shared_build``)."""

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
