"""The repo's configuration as tables dbt reads: the journey map and the survey mappings.

Rewritten whole on every run, so editing a YAML file changes the marts at the next run with no
code change.
"""

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset

from cxlake.journey import load_touchpoints
from cxlake.pipeline.resources import Warehouse
from cxlake.surveys.mapping import load_mappings, question_map_frame, value_map_frame

GROUP = "configuration"
TABLES = (
    "journey_touchpoints",
    "journey_measures",
    "survey_questions",
    "survey_answer_scores",
    "survey_constants",
)
TOUCHPOINT_COLUMNS = [
    "touchpoint_id",
    "touchpoint_name_zh",
    "touchpoint_name_en",
    "stage_id",
    "stage_name_zh",
    "stage_name_en",
    "stage_order",
    "touchpoint_order",
    "channels",
    "operational_metric",
    "survey_measure",
    "pos_events",
    "review_aspect_keywords",
]


def journey_touchpoints_frame() -> pd.DataFrame:
    """One row per touchpoint; list-valued measures comma-joined (the raw tables are flat text)."""
    return pd.DataFrame(
        [
            {
                "touchpoint_id": tp.id,
                "touchpoint_name_zh": tp.name_zh,
                "touchpoint_name_en": tp.name_en,
                "stage_id": tp.stage_id,
                "stage_name_zh": tp.stage_name_zh,
                "stage_name_en": tp.stage_name_en,
                "stage_order": tp.stage_order,
                "touchpoint_order": tp.touchpoint_order,
                "channels": ",".join(tp.channels),
                "operational_metric": tp.operational_metric,
                "survey_measure": tp.survey_measure,
                "pos_events": ",".join(tp.pos_events),
                "review_aspect_keywords": ",".join(tp.review_aspect_keywords),
            }
            for tp in load_touchpoints()
        ],
        columns=TOUCHPOINT_COLUMNS,
    )


def journey_measures_frame() -> pd.DataFrame:
    """One row per touchpoint x measure, so the marts join measures to touchpoints by kind."""
    return pd.DataFrame(
        [
            {"touchpoint_id": tp.id, "measure_kind": kind, "measure_name": name, "measure_order": order}
            for tp in load_touchpoints()
            for order, (kind, name) in enumerate(tp.measures(), start=1)
        ],
        columns=["touchpoint_id", "measure_kind", "measure_name", "measure_order"],
    )


def survey_constants_frame(mappings) -> pd.DataFrame:
    rows = [
        {"survey_id": m.survey_id, "role": role, "value": value}
        for m in mappings
        for role, value in sorted(m.constants.items())
    ]
    return pd.DataFrame(rows, columns=["survey_id", "role", "value"])


def configuration_frames() -> dict[str, pd.DataFrame]:
    mappings = load_mappings()
    return {
        "journey_touchpoints": journey_touchpoints_frame(),
        "journey_measures": journey_measures_frame(),
        "survey_questions": question_map_frame(mappings),
        "survey_answer_scores": value_map_frame(mappings),
        "survey_constants": survey_constants_frame(mappings),
    }


@multi_asset(
    name="load_configuration",
    specs=[AssetSpec(AssetKey(["raw", name]), group_name=GROUP, kinds={"duckdb"}) for name in TABLES],
    description="Journey map and survey mappings from the repo, as raw tables.",
)
def configuration_tables(context: AssetExecutionContext, warehouse: Warehouse):
    frames = configuration_frames()
    with warehouse.connect() as connection:
        connection.execute("create schema if not exists raw")
        connection.begin()
        for name, frame in frames.items():
            connection.register("configuration_rows", frame)
            connection.execute(f'create or replace table raw."{name}" as select * from configuration_rows')
            connection.unregister("configuration_rows")
        connection.commit()
    for name, frame in frames.items():
        yield MaterializeResult(asset_key=AssetKey(["raw", name]), metadata={"rows": len(frame)})
