"""A SurveyMonkey export, a 腾讯问卷 GB18030 CSV and a zipped Qualtrics download dropped in
landing/surveys/<day>/ go the whole way through `cxlake run` (raw -> gate -> dbt -> marts) like the
Qualtrics and 问卷星 folders: each file's survey mapping names its tool and what its questions mean.

One in-process run of the daily pipeline job (the Definitions `cxlake run` builds) on a one-day landing
folder holding the roster and the three exports, selecting what the survey marts are built from (raw,
gate, the text and integrity enrichments, dbt): the job's other marts need POS and CRM days this folder
has not got, and would only add minutes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, AssetSelection, DagsterInstance, ExecuteInProcessResult

from cxlake import landing as contract
from cxlake.pipeline.dbt_project import prepare_dbt_manifest
from cxlake.pipeline.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG

FIXTURES = Path(__file__).parents[1] / "fixtures" / "surveys"
DAY = "2026-01-05"
SM_FILE = f"surveys/{DAY}/sm_instore_{DAY}.csv"
TENCENT_FILE = f"surveys/{DAY}/tencent_instore_{DAY}.csv"
QUALTRICS_FILE = f"surveys/{DAY}/SV_cxlakeApp_{DAY}.zip"
MARTS = (AssetKey(["marts", "fct_survey_responses"]), AssetKey(["marts", "fct_touchpoint_ratings"]))
STORES = [
    ["S001", "人民广场店", "R1", "华东", "上海", "2020-01-01"],
    ["S007", "徐家汇店", "R1", "华东", "上海", "2020-06-01"],
    ["S012", "天河店", "R2", "华南", "广州", "2021-03-01"],
]


def write_landing(root: Path) -> Path:
    """The roster and, in the surveys folder, the three exports under their day's file names."""
    roster = root / "reference" / DAY
    roster.mkdir(parents=True)
    for delivered, rows in (
        (contract.STORES, STORES),
        (contract.STAFF, [["E001", "S001", "王芳", "barista", "2022-01-01"]]),
    ):
        lines = [",".join(delivered.columns), *(",".join(row) for row in rows)]
        (roster / delivered.file_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "surveys" / DAY).mkdir(parents=True)
    for name, fixture in (
        (SM_FILE, f"sm_instore_{DAY}.csv"),
        (TENCENT_FILE, f"tencent_instore_{DAY}.csv"),
        (QUALTRICS_FILE, "SV_cxlakeApp_download.zip"),
    ):
        (root / name).write_bytes((FIXTURES / fixture).read_bytes())
    return root


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExecuteInProcessResult, Path]:
    home = tmp_path_factory.mktemp("survey_exports")
    landing = write_landing(home / "landing")
    warehouse = home / "warehouse.duckdb"
    prepare_dbt_manifest()
    from orchestration.definitions import build_definitions  # reads the manifest on import

    definitions = build_definitions(
        landing_root=str(landing), warehouse_path=str(warehouse), first_partition=DAY
    )
    job = definitions.resolve_job_def("daily_pipeline_job")
    wanted = AssetSelection.assets(*MARTS).upstream().required_multi_asset_neighbors()
    selection = wanted.resolve(definitions.resolve_asset_graph())
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={PARTITION_RANGE_START_TAG: DAY, PARTITION_RANGE_END_TAG: DAY},
            asset_selection=list(selection),
            raise_on_error=False,
        )
    return result, warehouse


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_the_run_loads_every_export_and_holds_nothing_back(pipeline):
    result, warehouse = pipeline
    assert result.success, [str(e.event_specific_data.error) for e in result.get_step_failure_events()]
    held_back = "select count(*) from dq.validation_runs where blocked"
    assert query(warehouse, held_back) == [(0,)]
    audit = (
        "select file, rows_in, rows_loaded, rows_quarantined from dq.load_audit "
        "where raw_table = 'survey_responses' and status = 'loaded' order by file"
    )
    assert query(warehouse, audit) == [
        (QUALTRICS_FILE, 5, 5, 0),
        (SM_FILE, 3, 3, 0),
        (TENCENT_FILE, 3, 2, 1),
    ]


def test_the_responses_reach_the_mart_with_their_nps_day_store_and_tool(pipeline):
    _, warehouse = pipeline
    mart = (
        "select survey_id, response_id, source_system, nps_score, cast(response_date as varchar), "
        "store_id, channel, transaction_id from marts.fct_survey_responses "
        "where survey_id in ('sm_instore', 'tencent_instore') order by survey_id, response_id"
    )
    assert query(warehouse, mart) == [
        ("sm_instore", "11458200001", "surveymonkey", 10, DAY, "S001", "in_store", "T00000901"),
        ("sm_instore", "11458200002", "surveymonkey", 6, DAY, "S007", "in_store", "T00000902"),
        # submitted 23:50:10 Asia/Shanghai: still that day
        ("sm_instore", "11458200003", "surveymonkey", 8, DAY, "S012", "in_store", "T00000903"),
        ("tencent_instore", "5103", "tencent", 9, DAY, "S007", "in_store", "T00000911"),
        ("tencent_instore", "5104", "tencent", 3, DAY, "S001", "in_store", "T00000912"),
    ]
    qualtrics = (
        "select response_id, source_system, nps_score, cast(response_date as varchar), store_id, status "
        "from marts.fct_survey_responses where survey_id = 'SV_cxlakeApp' order by response_id"
    )
    assert query(warehouse, qualtrics) == [
        ("R_1a2B3c4D5e6F7g8", "qualtrics", 10, DAY, "S007", "ok"),  # "10 - 极有可能" through the scale
        ("R_2b3C4d5E6f7G8h9", "qualtrics", 0, DAY, "S012", "ok"),
        ("R_3c4D5e6F7g8H9i0", "qualtrics", 7, DAY, None, "preview"),
        ("R_4d5E6f7G8h9I0j1", "qualtrics", 8, DAY, "S001", "test"),
        ("R_5e6F7g8H9i0J1k2", "qualtrics", 9, DAY, "S007", "ok"),  # 23:59:59 stays on its day
    ]


def test_touchpoint_csat_and_comments_follow_each_mapping(pipeline):
    _, warehouse = pipeline
    csat = (
        "select touchpoint_id, csat_score from marts.fct_touchpoint_ratings "
        "where response_key = 'tencent_instore:5104' order by touchpoint_id"
    )
    assert query(warehouse, csat) == [
        ("environment", 4), ("speed", 1), ("staff", 3), ("taste", 2), ("value", 2),
    ]  # fmt: skip
    comments = (
        "select response_key, comment from marts.fct_survey_responses "
        "where response_key in ('tencent_instore:5104', 'sm_instore:11458200002') order by 1"
    )
    # GB18030-only characters survive; SurveyMonkey's non-breaking space is a plain one
    assert query(warehouse, comments) == [
        ("sm_instore:11458200002", "Queue was long, 20 min"),
        ("tencent_instore:5104", "排队太久了😤"),
    ]


def test_a_record_that_does_not_fit_its_header_is_quarantined_naming_file_line_and_field(pipeline):
    _, warehouse = pipeline
    held = (
        "select response_id, _source_file, _source_row, _failed_expectations from quarantine.survey_responses"
    )
    assert query(warehouse, held) == [
        ("5105", TENCENT_FILE, 4, '["expect_column_values_to_be_null(_record_problem)"]')
    ]
    # the gate's record says what is wrong with the row, and where
    finding = (
        "select severity, unexpected_count, sample_values from dq.expectation_results "
        "where raw_table = 'survey_responses' and not success"
    )
    [(severity, count, samples)] = query(warehouse, finding)
    assert (severity, count) == ("error", 1)
    assert json.loads(samples) == [f'"21 fields where the header has 20 (1 more)" @ {TENCENT_FILE}:4']
    answers = query(warehouse, "select count(*) from quarantine.survey_answers where response_id = '5105'")
    assert answers == [(9,)]  # its answers followed it
    in_mart = "select count(*) from marts.fct_survey_responses where response_key = 'tencent_instore:5105'"
    assert query(warehouse, in_mart) == [(0,)]
