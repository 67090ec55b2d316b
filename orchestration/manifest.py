"""The dbt manifest Dagster builds the dbt assets from.

`@dbt_assets` reads target/manifest.json when its module is imported, so `cxlake run` parses the
project first: a fresh clone, or an edited model, then never runs against a stale manifest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def prepare_dbt_manifest() -> Path:
    """Run `dbt parse` (a few seconds; partial parsing makes repeats quick) and return the manifest."""
    completed = subprocess.run(
        [
            DBT_EXECUTABLE,
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
    return DBT_PROJECT_DIR / "target" / "manifest.json"
