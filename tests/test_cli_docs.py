"""`cxlake docs`: dbt docs built against a real warehouse, and the refusal without one."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from cxlake.cli import app
from cxlake.cli.docs import dbt_docs_commands

runner = CliRunner()


def test_docs_commands_pass_the_warehouse_and_the_metric_vars_like_the_pipeline(tmp_path):
    generate, serve = dbt_docs_commands(tmp_path / "w.duckdb", 8123, tmp_path / "site")
    assert generate[1:3] == ["docs", "generate"]
    assert serve[1:5] == ["docs", "serve", "--port", "8123"]
    for command in (generate, serve):
        dbt_vars = json.loads(command[command.index("--vars") + 1])
        assert dbt_vars["warehouse_path"] == str(tmp_path / "w.duckdb")
        assert dbt_vars["nps_promoter_min"] == 9  # from cxlake/config/metrics.yaml
        assert command[command.index("--target-path") + 1] == str(tmp_path / "site")


def test_docs_without_a_warehouse_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAKE_HOME", str(tmp_path))
    result = runner.invoke(app, ["docs", "--no-serve"])
    assert result.exit_code == 1
    assert "cxlake run" in result.output


@pytest.mark.slow
def test_docs_no_serve_builds_the_site_with_the_marts_catalog(demo_build, tmp_path):
    # A copy: dbt opens the warehouse read-write, and the session's build is shared with other tests.
    warehouse = shutil.copy(demo_build.warehouse, tmp_path / "warehouse.duckdb")
    site = tmp_path / "site"
    result = runner.invoke(
        app, ["docs", "--no-serve", "--warehouse", str(warehouse), "--target-path", str(site)]
    )
    assert result.exit_code == 0, result.output
    assert (site / "index.html").is_file()
    assert str(site / "index.html") in result.output
    catalog = json.loads((site / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    responses = "model.cxlake.fct_survey_responses"
    # The catalog comes from the warehouse (columns as built), the manifest from the yml (column docs).
    assert "nps_score" in {name.lower() for name in catalog["nodes"][responses]["columns"]}
    assert manifest["nodes"][responses]["columns"]["nps_score"]["description"]
    assert manifest["parent_map"][responses]  # lineage
