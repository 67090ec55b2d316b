"""Running a suite with Great Expectations: one file-based context, so results and Data Docs persist.

One validation per raw table per batch of days (all the batch's partitions in one frame, up to
``ingestion.batch_megabytes`` of cxlake/config/pipeline.yaml delivered): GX's fixed cost per
validation is paid once a batch, and each failing row comes back by its ``_row_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import great_expectations as gx
import pandas as pd
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations.suites.base import RECORD_PROBLEM, RuleContext, TableSuite, well_formed_record

ROW_ID = "_row_id"
MAX_SAMPLES = 20


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict over the validated rows."""

    expectation: str  # e.g. expect_column_values_to_be_between(nps_score)
    rule: str  # what a steward reads: "NPS answer is 0-10"
    severity: str  # error | warn
    failing_row_ids: tuple[int, ...]
    samples: tuple[str, ...]
    values: dict[int, str] = field(default_factory=dict)  # _row_id -> the offending value


@dataclass
class SuiteResult:
    raw_table: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    def failures(self, severity: str) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.severity == severity and o.failing_row_ids]


class GxRunner:
    """The GX project under ``<cxlake home>/gx``: suites, results and Data Docs."""

    def __init__(self, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(home))
        self.context.enable_analytics(False)  # no network here, and none wanted
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.save()
        self.source = self.context.data_sources.add_or_update_pandas("raw")

    @property
    def data_docs_index(self) -> Path:
        return Path(self.context.root_directory) / "uncommitted" / "data_docs" / "local_site" / "index.html"

    def validate(self, suite: TableSuite, frame: pd.DataFrame, rules: RuleContext) -> SuiteResult:
        """Validate ``frame`` (raw columns + ``_row_id`` + ``_partition_date``) against ``suite``."""
        name = f"raw.{suite.raw_table}"
        expectations = [*suite.expectations(rules), well_formed_record()]
        expectation_suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(name=name, expectations=expectations)
        )
        asset = next((a for a in self.source.assets if a.name == suite.raw_table), None)
        asset = asset or self.source.add_dataframe_asset(suite.raw_table)
        batch = next((b for b in asset.batch_definitions if b.name == "run"), None)
        batch = batch or asset.add_batch_definition_whole_dataframe("run")
        validation = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=expectation_suite)
        )
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                actions=[UpdateDataDocsAction(name="data_docs")],
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]},
            )
        )
        if RECORD_PROBLEM not in frame.columns:
            frame = frame.assign(**{RECORD_PROBLEM: pd.array([None] * len(frame), dtype="string")})
        # An empty field is a missing value to every rule (not_null catches required ones).
        derived = suite.derive(frame.mask(frame.eq("")), rules)
        result = checkpoint.run(batch_parameters={"dataframe": _checked_columns(derived, expectations)})
        validation_result = next(iter(result.run_results.values()))
        return SuiteResult(suite.raw_table, [_outcome(r, derived) for r in validation_result.results])


def _checked_columns(derived: pd.DataFrame, expectations: list) -> pd.DataFrame:
    """Only the columns a rule reads (GX copies and hashes the whole frame, column by column), with
    nullable numbers as plain floats: GX checks a range over pandas' nullable Int64 / Float64 one
    value at a time in Python, and over float64 in one vectorized comparison. Missing stays missing
    (NaN is null to GX) and the offending values are reported from ``derived`` as derived."""
    columns = [ROW_ID, *dict.fromkeys(e.column for e in expectations if e.column in derived.columns)]
    checked = derived[columns]
    nullable = [c for c in columns if str(checked[c].dtype) in ("Int64", "Float64")]
    if nullable:
        checked = checked.astype({c: "float64" for c in nullable})
    return checked


def _outcome(result, derived: pd.DataFrame) -> ExpectationOutcome:
    config = result.expectation_config
    column = config.kwargs.get("column")
    details = result.result or {}
    if result.exception_info and result.exception_info.get("raised_exception"):
        raise RuntimeError(f"{config.type}({column}): {result.exception_info.get('exception_message')}")
    index_list = [item for item in details.get("unexpected_index_list") or [] if isinstance(item, dict)]
    row_ids = tuple(sorted({int(item[ROW_ID]) for item in index_list}))
    offending_ids = [int(item[ROW_ID]) for item in index_list if column in item]
    if column in derived.columns and offending_ids:  # as derived, not as handed to GX
        # numpy / masked scalars, as GX hands them over (a flag reads "True", a count "3")
        by_row = pd.Series(derived[column].array, index=derived[ROW_ID].to_numpy()).loc[offending_ids].array
        found = [by_row[position] for position in range(len(by_row))]
    else:
        found = [item.get(column) for item in index_list if column in item]
    offending = {
        row_id: json.dumps(value, ensure_ascii=False, default=str)
        for row_id, value in zip(offending_ids, found, strict=True)
    }
    samples = [
        json.dumps(v, ensure_ascii=False, default=str)
        for v in (details.get("partial_unexpected_list") or details.get("unexpected_list") or [])[
            :MAX_SAMPLES
        ]
    ]
    return ExpectationOutcome(
        expectation=f"{config.type}({column})",
        rule=(config.meta or {}).get("rule", config.type),
        severity=(config.meta or {}).get("severity", "error"),
        failing_row_ids=row_ids,
        samples=tuple(samples),
        values=offending,
    )
