"""Session fixtures: ONE demo warehouse, generated and built once, shared by every test that needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """Small demo data (seeded) run through the whole pipeline in-process, then published."""
    from cxlake.generator import generate
    from orchestration.runner import run_pipeline

    home = tmp_path_factory.mktemp("cxlake_home")
    landing = home / "landing"
    generate(landing, scale="small", seed=DEMO_SEED, start=DEMO_START, days=DEMO_DAYS, progress=False)
    warehouse = home / "warehouse.duckdb"
    outcome = run_pipeline(landing, warehouse)
    return DemoBuild(home, landing, warehouse, outcome.serving_path, outcome.success)
