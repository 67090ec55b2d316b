"""dbt models as Dagster assets: one DbtProject, one @dbt_assets function, one translator."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.manifest import DBT_PROJECT_DIR
from orchestration.partitions import dbt_build_args, run_day_range
from orchestration.resources import Warehouse

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses on start; `make setup` / `cxlake run` prepare the manifest otherwise.
dbt_project.prepare_if_dev()


class CxlakeTranslator(DagsterDbtTranslator):
    """Models keyed by schema and name (marts/fct_transactions), grouped by layer folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props["config"].get("schema") or dbt_resource_props["schema"]
        return AssetKey([schema, dbt_resource_props["name"]])

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
    yield from dbt.cli(args, context=context).stream()
