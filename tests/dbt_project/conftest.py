"""Running the dbt project on scratch warehouses: a subprocess per command, with the pipeline's own
--vars, and target/log folders of the test's own so the repo's manifest is never touched."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cxlake.pipeline.dbt_project import dbt_command

RunDbt = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="session")
def run_dbt(tmp_path_factory: pytest.TempPathFactory) -> RunDbt:
    """run_dbt(warehouse, "run", "--select", ..., day_range=(first, last)); raises on failure."""
    scratch = tmp_path_factory.mktemp("dbt_scratch")

    def run(warehouse: Path, *args: str, day_range: tuple[str, str] | None = None, env=None):
        command = dbt_command(*args, warehouse=warehouse, day_range=day_range, scratch=scratch)
        completed = subprocess.run(command, capture_output=True, text=True, env=env)
        if completed.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{completed.stdout[-6000:]}")
        return completed

    return run
