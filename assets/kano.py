"""The Kano asset: each surveyed feature's Kano category with Better / Worse, as marts.mart_kano.

Reads the Kano survey's answers from staging (``stg_kano__answers`` of the responses in
``stg_kano__responses`` whose status counts, ``countable.statuses`` of cxlake/config/metrics.yaml),
pairs each feature's functional and dysfunctional answers by the ``kano:`` section of
cxlake/config/insights.yaml and classifies them with :mod:`cxlake.insights.kano`. A feature with
fewer answered pairs than the product's minimum reportable n (``min_responses`` of metrics.yaml)
keeps its counts but is marked not reportable, without category or coefficients.

A Kano study is fielded now and then, not every day: the asset classifies every Kano response in
the warehouse, whatever days the run loaded, and replaces the table whole. It runs after the dbt
models it reads and before the serving copy is published.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from dagster import AssetKey, MaterializeResult, asset

from cxlake.insights.kano import NOT_ENOUGH_RESPONSES, answer_pairs, classify, load_kano_survey
from cxlake.metrics import settings as metric_settings
from cxlake.pipeline.resources import Warehouse

GROUP = "insights"
KANO_KEY = AssetKey(["marts", "mart_kano"])
READS = [AssetKey(["staging", "stg_kano__answers"]), AssetKey(["staging", "stg_kano__responses"])]

ANSWERS = """
    select answers.survey_id, answers.response_id, answers.question_id, answers.answer
    from staging.stg_kano__answers as answers
    inner join staging.stg_kano__responses as responses
        on answers.survey_id = responses.survey_id and answers.response_id = responses.response_id
    where answers.survey_id = ? and list_contains(?, responses.status)
    order by answers.survey_id, answers.response_id, answers.question_id
"""

CREATE = """
    feature varchar primary key, feature_label varchar not null, category varchar not null,
    n bigint not null, count_a bigint not null, count_o bigint not null, count_m bigint not null,
    count_i bigint not null, count_r bigint not null, count_q bigint not null,
    better double, worse double, is_reportable boolean not null
"""


def kano_table(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The rows of marts.mart_kano, computed from the warehouse's staging tables."""
    survey = load_kano_survey()
    metrics = metric_settings()
    answers = connection.execute(ANSWERS, [survey.survey_id, list(metrics.countable.statuses)]).df()
    return classify(answer_pairs(answers, survey), survey, metrics.min_responses)


def replace_table(connection: duckdb.DuckDBPyConnection, table: pd.DataFrame) -> None:
    """Replace marts.mart_kano whole in one transaction (a failed run leaves the previous one)."""
    connection.execute("create schema if not exists marts")
    connection.begin()
    try:
        connection.execute(f"create or replace table marts.mart_kano ({CREATE})")
        connection.register("kano_rows", table)
        connection.execute("insert into marts.mart_kano by name select * from kano_rows")
        connection.unregister("kano_rows")
        connection.commit()
    except Exception:
        connection.rollback()
        raise


@asset(
    key=KANO_KEY,
    group_name=GROUP,
    deps=READS,
    kinds={"duckdb", "pandas"},
    description="One row per feature of the Kano survey (kano: section of cxlake/config/insights.yaml): "
    "n answered functional / dysfunctional pairs of countable responses, count_a .. count_q per "
    "category of the standard evaluation table (A attractive, O one-dimensional, M must-be, I "
    "indifferent, R reverse, Q questionable), the modal category (ties M > O > A > I > R > Q), "
    "better = (A+O)/(A+O+M+I) and worse = -(O+M)/(A+O+M+I) (R and Q not in the denominator). Below "
    "min_responses of cxlake/config/metrics.yaml: is_reportable false, category not_enough_responses, "
    "no coefficients.",
)
def kano(warehouse: Warehouse) -> MaterializeResult:
    with warehouse.connect() as connection:
        table = kano_table(connection)
        replace_table(connection, table)
    reportable = table[table["is_reportable"].astype(bool)]  # an empty table's column is object-typed
    categories = zip(reportable["feature"], reportable["category"], strict=True)
    return MaterializeResult(
        metadata={
            "features": len(table),
            "features_not_enough_responses": int((table["category"] == NOT_ENOUGH_RESPONSES).sum()),
            "categories": ", ".join(f"{feature} {category}" for feature, category in categories),
            "pairs": int(table["n"].sum()),
        }
    )


kano_assets = [kano]
