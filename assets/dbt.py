"""dbt models as Dagster assets: one DbtProject, one @dbt_assets function, one translator."""

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    DbtProjectPreparer,
    dbt_assets,
)

from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR, prepare_dbt_manifest
from cxlake.pipeline.partitions import dbt_build_args, run_day_range
from cxlake.pipeline.resources import Warehouse


class VenvDbtPreparer(DbtProjectPreparer):
    """`dagster dev` re-parses the project on start. dagster-dbt's own preparer runs whatever `dbt`
    the PATH holds (none, when the venv is not activated); this one runs the venv's dbt."""

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev():
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        prepare_dbt_manifest()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `make setup` / `cxlake run` prepare the manifest otherwise.
VenvDbtPreparer().prepare_if_dev(dbt_project)


class CxlakeTranslator(DagsterDbtTranslator):
    """Models keyed by schema and name (marts/fct_transactions), grouped by layer folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props["config"].get("schema") or dbt_resource_props["schema"]
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's yml description (its grain and meaning), never the raw Jinja SQL that
        dagster-dbt shows when a model has none."""
        description = (dbt_resource_props.get("description") or "").strip()
        return description or f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}"

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=CxlakeTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def cxlake_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    args = dbt_build_args(run_day_range(context.run.tags), str(warehouse.database))
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    keep_parse_state(invocation)


def keep_parse_state(invocation: DbtCliInvocation) -> None:
    """Leave this invocation's partial-parse file where dagster-dbt looks for one to start the next
    invocation with (the project's target folder). A run's dbt steps (split around the text assets)
    share their --vars, so the second and third then re-parse nothing instead of the whole project;
    dbt itself checks the file's vars and profile and parses anew when they differ."""
    parsed = invocation.target_path / "partial_parse.msgpack"
    if not parsed.exists():
        return
    target = Path(os.getenv("DBT_TARGET_PATH", "target"))
    kept = (target if target.is_absolute() else Path(DBT_PROJECT_DIR) / target) / "partial_parse.msgpack"
    kept.parent.mkdir(parents=True, exist_ok=True)
    staged = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    shutil.copyfile(parsed, staged)
    os.replace(staged, kept)  # atomic: a concurrent reader sees the old file or the new one
