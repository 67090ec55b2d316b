"""Running the dbt project on scratch warehouses: a subprocess per command, with the pipeline's own
--vars, and target/log folders of the test's own so the repo's manifest is never touched."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestration.manifest import DBT_EXECUTABLE, DBT_PROJECT_DIR
from orchestration.partitions import dbt_build_vars

RunDbt = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="session")
def run_dbt(tmp_path_factory: pytest.TempPathFactory) -> RunDbt:
    """run_dbt(warehouse, "run", "--select", ..., day_range=(first, last)); raises on failure."""
    scratch = tmp_path_factory.mktemp("dbt_scratch")

    def run(warehouse: Path, *args: str, day_range: tuple[str, str] | None = None, env=None):
        command = [
            DBT_EXECUTABLE,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
            "--vars",
            json.dumps(dbt_build_vars(day_range, str(warehouse))),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, env=env)
        if completed.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{completed.stdout[-6000:]}")
        return completed

    return run
