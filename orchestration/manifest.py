"""The dbt manifest Dagster builds the dbt assets from.

`@dbt_assets` reads target/manifest.json when its module is imported, so `cxlake run` parses the
project first: a fresh clone, or an edited model, then never runs against a stale manifest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from orchestration.partitions import dbt_build_vars

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def dbt_command(
    *args: str,
    warehouse: str | Path | None = None,
    day_range: tuple[str, str] | None = None,
    scratch: Path | None = None,
) -> list[str]:
    """A dbt command line on this project: with ``warehouse``, the pipeline's own --vars (metric
    definitions, the warehouse path, the day range); with ``scratch``, targets and logs there."""
    command = [
        DBT_EXECUTABLE,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    if scratch is not None:
        command += ["--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]
    if warehouse is not None:
        command += ["--vars", json.dumps(dbt_build_vars(day_range, str(warehouse)))]
    return command


def prepare_dbt_manifest() -> Path:
    """Run `dbt parse` (a few seconds; partial parsing makes repeats quick) and return the manifest."""
    completed = subprocess.run(dbt_command("parse", "--quiet"), capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
    return DBT_PROJECT_DIR / "target" / "manifest.json"
