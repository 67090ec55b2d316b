"""The quality gate between a day's delivered rows and raw.*: quarantine rows, block partitions.

For each raw table with a suite, all the run's partitions are validated in one GX run. Then, day by
day: rows failing an error-severity row rule go to quarantine (unless a steward released them, with
their corrections applied); a day is blocked when a file could not be read, when more than the
allowed share of its rows is quarantined, or when its volume leaves the band of the trailing days.
Warn-severity failures are only reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from assets.ingestion.loading import FileAudit, PartitionLoad
from assets.ingestion.raw_tables import RawTable
from cxlake.app_state import QuarantineDecision
from cxlake.config.quality import QualitySettings
from expectations.runner import ROW_ID, GxRunner, SuiteResult
from expectations.suites.base import ERROR, RuleContext, TableSuite

REJECTED = "rejected by a steward"


@dataclass(frozen=True)
class ExpectationRecord:
    """A row of dq.expectation_results for one partition."""

    raw_table: str
    expectation: str
    level: str
    severity: str
    success: bool
    unexpected_count: int
    samples: tuple[str, ...] = ()


@dataclass
class DayVerdict:
    """What the gate decided for one partition of one source."""

    day: str
    blocked_reasons: list[str] = field(default_factory=list)
    records: list[ExpectationRecord] = field(default_factory=list)
    quarantine: dict[str, pd.DataFrame] = field(default_factory=dict)  # raw table -> rows held back

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_reasons)


@dataclass(frozen=True)
class HeldBack:
    """A partition (source x day) the quality gate held back in a run, with its files and reason."""

    source: str
    day: str
    files: tuple[str, ...]
    reason: str

    def line(self) -> str:
        files = ", ".join(self.files) or "no readable file"
        return f"held back: {self.day} {self.source} ({files}): {self.reason}"


def apply_decisions(
    frame: pd.DataFrame, decisions: dict[tuple[str, int], QuarantineDecision]
) -> pd.DataFrame:
    """Apply released rows' corrections; mark released and rejected rows."""
    frame = frame.copy()
    keys = list(zip(frame["_source_file"], frame["_source_row"].astype(int), strict=True))
    chosen = [decisions.get(key) for key in keys]
    frame["_released"] = [d is not None and d.decision == "release" for d in chosen]
    frame["_rejected"] = [d is not None and d.decision == "reject" for d in chosen]
    for position, decision in enumerate(chosen):
        if decision is not None and decision.decision == "release":
            for column, value in decision.corrections.items():
                if column in frame.columns:
                    frame.iat[position, frame.columns.get_loc(column)] = value
    return frame


def row_failures(result: SuiteResult) -> dict[int, list[str]]:
    """_row_id -> the error-severity row rules it breaks."""
    failures: dict[int, list[str]] = {}
    for outcome in result.failures(ERROR):
        for row_id in outcome.failing_row_ids:
            failures.setdefault(row_id, []).append(outcome.expectation)
    return failures


def judge_table(
    suite: TableSuite,
    frames_by_day: dict[str, pd.DataFrame],
    runner: GxRunner,
    rules: RuleContext,
    decisions: dict[tuple[str, int], QuarantineDecision],
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict[str, list[ExpectationRecord]]]:
    """Split each day's rows into (loaded, quarantined) and the per-day expectation records."""
    days = [day for day, frame in frames_by_day.items() if frame is not None and len(frame)]
    loaded: dict[str, pd.DataFrame] = {day: frames_by_day[day] for day in frames_by_day}
    quarantined: dict[str, pd.DataFrame] = {}
    records: dict[str, list[ExpectationRecord]] = {day: [] for day in frames_by_day}
    if not days:
        return loaded, quarantined, records
    batch = pd.concat(
        [apply_decisions(frames_by_day[day], decisions).assign(_partition_date=day) for day in days],
        ignore_index=True,
    )
    batch[ROW_ID] = range(len(batch))
    result = runner.validate(suite, batch, rules)
    failures = row_failures(result)
    failing = batch[ROW_ID].isin(list(failures))
    held_back = (failing & ~batch["_released"]) | batch["_rejected"]
    held = batch[held_back].copy()
    held["_failed_expectations"] = [
        json.dumps(([REJECTED] if rejected else []) + failures.get(row_id, []), ensure_ascii=False)
        for rejected, row_id in zip(held["_rejected"], held[ROW_ID], strict=True)
    ]
    bookkeeping = ["_released", "_rejected", ROW_ID, "_partition_date"]
    kept = batch[~held_back]
    kept_by_day = dict(iter(kept.groupby("_partition_date", sort=False)))
    held_by_day = dict(iter(held.groupby("_partition_date", sort=False)))
    failing_by_day = {
        day: set(part[ROW_ID]) for day, part in batch[failing].groupby("_partition_date", sort=False)
    }
    for day in days:
        empty = batch.iloc[0:0]
        loaded[day] = kept_by_day.get(day, empty).drop(columns=bookkeeping).reset_index(drop=True)
        quarantined[day] = (
            held_by_day.get(day, held.iloc[0:0]).drop(columns=bookkeeping).reset_index(drop=True)
        )
        day_failing = failing_by_day.get(day, set())
        for outcome in result.outcomes:
            in_day = [r for r in outcome.failing_row_ids if r in day_failing]
            records[day].append(
                ExpectationRecord(
                    suite.raw_table,
                    outcome.expectation,
                    "row",
                    outcome.severity,
                    not in_day,
                    len(in_day),
                    _day_samples(batch, outcome, in_day),
                )
            )
    return loaded, quarantined, records


def _day_samples(batch: pd.DataFrame, outcome, failing_row_ids: list[int]) -> tuple[str, ...]:
    """Up to 20 offending values with the file:line they came from, so a steward sees what was wrong
    and can open the delivery at the right place."""
    if not failing_row_ids:
        return ()
    rows = batch.loc[batch[ROW_ID].isin(failing_row_ids[:20]), [ROW_ID, "_source_file", "_source_row"]]
    return tuple(
        f"{outcome.values.get(row_id, '?')} @ {file}:{line}"
        for row_id, file, line in rows.itertuples(index=False)
    )


def quarantine_share_rule(
    raw_table: str, rows_in: int, rows_quarantined: int, settings: QualitySettings
) -> ExpectationRecord:
    """More than the allowed share of a day's rows quarantined blocks the day, but only from a
    minimum count on: two bad rows in a small file cost those two rows, not the day."""
    share = rows_quarantined / rows_in if rows_in else 0.0
    enough = rows_quarantined >= settings.min_quarantined_rows_to_block
    blocks = share > settings.max_quarantined_share and enough
    return ExpectationRecord(
        raw_table,
        share_rule_name(settings),
        "partition",
        ERROR,
        not blocks,
        rows_quarantined,
        (f"{rows_quarantined} of {rows_in} rows ({share:.1%}) quarantined",),
    )


def share_rule_name(settings: QualitySettings) -> str:
    return (
        f"quarantined_share_at_most_{settings.max_quarantined_share:.0%}"
        f"_or_fewer_than_{settings.min_quarantined_rows_to_block}_rows"
    )


def volume_rule(
    raw_table: str, rows_in: int, history: list[int], settings: QualitySettings
) -> ExpectationRecord | None:
    """Rows of the day against the median of the trailing partitions (None until enough history)."""
    if len(history) < settings.volume_min_history:
        return None
    median = float(pd.Series(history).median())
    low, high = settings.volume_min_ratio * median, settings.volume_max_ratio * median
    return ExpectationRecord(
        raw_table,
        f"row_count_within_trailing_{settings.volume_trailing_partitions}_day_band",
        "partition",
        settings.volume_severity,
        low <= rows_in <= high,
        0 if low <= rows_in <= high else 1,
        (f"{rows_in} rows; trailing median {median:.0f}, band {low:.0f}-{high:.0f}",),
    )


def file_rule(raw_table: str, reason: str) -> ExpectationRecord:
    return ExpectationRecord(raw_table, "file_is_readable", "file", ERROR, False, 1, (reason,))


def audits_after_gate(
    load: PartitionLoad, table: RawTable, loaded: pd.DataFrame, quarantined: pd.DataFrame
) -> list[FileAudit]:
    """The table's audit rows with rows_loaded / rows_quarantined counted per file after the gate."""
    loaded_per_file = loaded["_source_file"].value_counts() if len(loaded) else pd.Series(dtype=int)
    held_per_file = quarantined["_source_file"].value_counts() if len(quarantined) else pd.Series(dtype=int)
    return [
        FileAudit(
            audit.file,
            audit.raw_table,
            audit.rows_in,
            int(loaded_per_file.get(audit.file, 0)),
            audit.checksum,
            int(held_per_file.get(audit.file, 0)),
        )
        if audit.raw_table == table.name
        else audit
        for audit in load.audits
    ]
