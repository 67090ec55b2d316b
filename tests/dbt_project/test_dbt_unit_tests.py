"""dbt's unit tests, run here rather than in every pipeline build (which excludes them: their
inputs are fixed, so a run's data cannot change their verdict).

They need the models' upstream relations to exist (dbt reads their column types), so they run on a
copy of the demo warehouse, with the pipeline's own --vars.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from cxlake.pipeline.dbt_project import dbt_command


def test_every_unit_test_of_the_project_passes(demo_build, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    warehouse = home / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    shutil.copyfile(demo_build.home / "pseudonym.key", home / "pseudonym.key")
    command = dbt_command("test", "--select", "test_type:unit", warehouse=warehouse, scratch=tmp_path)
    completed = subprocess.run(command, capture_output=True, text=True)
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))
    statuses = {result["unique_id"]: result["status"] for result in results["results"]}
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["unit_tests"]) >= 50
    assert set(statuses) == set(manifest["unit_tests"])
    assert {unique_id: status for unique_id, status in statuses.items() if status != "pass"} == {}, (
        completed.stdout[-4000:]
    )
    assert completed.returncode == 0
