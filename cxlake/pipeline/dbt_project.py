"""The dbt manifest Dagster builds the dbt assets from.

`@dbt_assets` reads target/manifest.json when its module is imported, so `cxlake run` parses the
project first: a fresh clone, or an edited model, then never runs against a stale manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cxlake.pipeline.partitions import dbt_build_vars

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's parse state, which makes a repeated parse quick


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


def prepare_dbt_manifest(
    warehouse: str | Path | None = None, day_range: tuple[str, str] | None = None
) -> Path:
    """Run `dbt parse` (a few seconds; partial parsing makes repeats quick) and return the manifest.

    A run passes its warehouse and days: the parse then has the --vars of the run's `dbt build`,
    whose partial parse starts from this one instead of parsing the whole project again (dbt
    parses anew whenever the vars differ from those of the saved state).

    dbt writes its manifest in place, and another process (a second `cxlake run`, a test worker,
    `dagster dev`) may be importing the dbt assets, which read it, at that moment. So the parse
    writes into a scratch folder beside target/ (seeded with the partial-parse state) and the
    manifest is renamed into place: a reader sees the old file or the new one, never half of one.
    """
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
    try:
        (scratch / "target").mkdir()
        state = target / PARTIAL_PARSE_FILE
        if state.is_file():
            shutil.copy2(state, scratch / "target" / PARTIAL_PARSE_FILE)
        completed = subprocess.run(
            dbt_command("parse", "--quiet", warehouse=warehouse, day_range=day_range, scratch=scratch),
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
        for name in ("manifest.json", PARTIAL_PARSE_FILE):
            if (scratch / "target" / name).is_file():
                os.replace(scratch / "target" / name, target / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / "manifest.json"
