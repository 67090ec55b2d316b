"""The quality gate between a day's delivered rows and raw.*: one immutable verdict per partition.

:func:`judge` takes what a source delivered for each day of a run and what the warehouse already
holds (:class:`History`, read-only) and returns, per day, the rows to load and the rows to
quarantine of every raw table, every rule's outcome, and whether the day is blocked and why. It
writes nothing; the writer applies the verdicts.

Row rules: for each raw table with a suite, all the run's days are validated in one GX run; rows
failing an error-severity rule go to quarantine (unless a steward released them, with their
corrections applied), and a response's answers follow it. Partition rules, day by day in order (a
day's volume history includes the run's days before it): a day is blocked when a file could not be
read or was delivered before, when more than the allowed share of its rows is quarantined, or when
its volume leaves the band of the trailing days. Warn-severity failures are only reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources

import duckdb
import pandas as pd
import pyarrow as pa

from cxlake.app_state import QuarantineDecision
from cxlake.config.quality import QualitySettings
from cxlake.surveys.mapping import load_mappings
from expectations.runner import ROW_ID, GxRunner, SuiteResult
from expectations.suites import SUITES
from expectations.suites.base import ERROR, RuleContext, TableSuite

REJECTED = "rejected by a steward"
# Tables delivered steadily every day, whose volume is held to the band of the trailing days.
VOLUME_CHECKED = frozenset(
    {
        "pos_transactions",
        "pos_transaction_lines",
        "survey_invitations",
        "qualtrics_responses",
        "wjx_responses",
    }
)
QUARANTINE_BOOKKEEPING = ["_source_file", "_source_row", "_failed_expectations"]


def _sql(name: str) -> str:
    return resources.files("expectations.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class FileAudit:
    """What one delivered file brought into one raw table (rows_loaded / rows_quarantined as judged)."""

    file: str
    raw_table: str
    rows_in: int
    rows_loaded: int
    checksum: str
    rows_quarantined: int = 0


@dataclass(frozen=True)
class Delivery:
    """What one source delivered for one day, as read: rows per raw table (raw columns plus
    ``_source_file``, ``_source_row`` and, from the readers that judge records, ``_record_problem``)
    and one audit per file; or, when a file could not be read, only why."""

    day: str
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    audits: tuple[FileAudit, ...] = ()
    warnings: tuple[str, ...] = ()
    unreadable: str | None = None  # "<file>: <reason>": nothing of the day is read

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({audit.file for audit in self.audits}))


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


@dataclass(frozen=True)
class TableVerdict:
    """One raw table's part of a partition's verdict."""

    raw_table: str
    rows_in: int  # delivered, per the files' audits
    load: pd.DataFrame | None  # rows to load (None: the day delivered nothing for this table)
    quarantine: pd.DataFrame | None  # rows held back, with ``_failed_expectations``
    success: bool  # no rule on this table failed and the day is not blocked
    rows_loaded: int = field(init=False)
    rows_quarantined: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows_loaded", 0 if self.load is None else len(self.load))
        object.__setattr__(self, "rows_quarantined", 0 if self.quarantine is None else len(self.quarantine))

    def without_rows(self) -> TableVerdict:
        """The verdict's counts without its rows (once they are written)."""
        slim = replace(self, load=None, quarantine=None)
        object.__setattr__(slim, "rows_loaded", self.rows_loaded)
        object.__setattr__(slim, "rows_quarantined", self.rows_quarantined)
        return slim


@dataclass(frozen=True)
class PartitionVerdict:
    """What the gate decided for one partition (source x day)."""

    source: str
    delivery: Delivery
    tables: tuple[TableVerdict, ...]
    audits: tuple[FileAudit, ...]  # the delivery's audits with rows loaded / quarantined per file
    records: tuple[ExpectationRecord, ...]
    blocked_reasons: tuple[str, ...]

    @property
    def day(self) -> str:
        return self.delivery.day

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_reasons)

    @property
    def block_reason(self) -> str | None:
        return "; ".join(self.blocked_reasons) or None

    @property
    def written(self) -> bool:
        """Whether raw.* gets this day's rows (else the day keeps its previous state)."""
        return self.delivery.unreadable is None and not self.blocked

    def held_back(self) -> HeldBack:
        return HeldBack(self.source, self.day, self.delivery.files, "; ".join(self.blocked_reasons))

    def without_rows(self) -> PartitionVerdict:
        """What reporting needs once the partition is written: counts, rules, reasons, warnings.
        A run over many days keeps only this of each written batch, so its memory stays that of
        one batch."""
        return replace(
            self,
            delivery=replace(self.delivery, frames={}),
            tables=tuple(table.without_rows() for table in self.tables),
        )


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


@dataclass(frozen=True)
class GatedSource:
    """What the gate needs to know of a source: its raw tables (in order) and which answers table
    follows which responses table into quarantine and back."""

    name: str
    tables: tuple[str, ...]
    answers_of: Mapping[str, str] = field(default_factory=dict)


class History:
    """What the warehouse holds before the run, read inside DuckDB: the roster, record keys loaded
    from other days, earlier deliveries by checksum, trailing volumes. Never writes."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        decisions: Callable[[str], Mapping[tuple[str, int], QuarantineDecision]],
    ):
        self.connection = connection
        self.decisions = decisions  # raw table -> (file, line) -> the steward's latest decision

    def roster(self) -> tuple[set[str], set[str]]:
        stores = self.connection.execute("select distinct store_id from raw.reference_stores").fetchall()
        staff = self.connection.execute("select distinct staff_id from raw.reference_staff").fetchall()
        return {r[0] for r in stores}, {r[0] for r in staff}

    def keys_loaded_elsewhere(
        self, suite: TableSuite, batch: pd.DataFrame, days: list[str]
    ) -> frozenset[str]:
        """Those of the batch's record keys that raw.* already holds from a day outside ``days``: a
        join inside DuckDB, so no day's keys travel to Python (the whole history used to)."""
        if suite.record_key is None or suite.record_key_sql is None or batch.empty:
            return frozenset()
        keys = suite.keys(batch).dropna().drop_duplicates()
        if keys.empty:
            return frozenset()
        self.connection.register("batch_keys", pa.table({"key": pa.array(keys.astype(str), pa.string())}))
        try:
            rows = self.connection.execute(
                _sql("keys_loaded_elsewhere")
                .replace("{raw_table}", _quoted(suite.raw_table))
                .replace("{record_key}", suite.record_key_sql),
                [days],
            ).fetchall()
        finally:
            self.connection.unregister("batch_keys")
        return frozenset(r[0] for r in rows)

    def earlier_delivery(self, checksums: list[str], day: str) -> tuple[str, str, str] | None:
        """(checksum, file, day) of one of ``checksums`` already loaded for another day."""
        row = self.connection.execute(_sql("earlier_delivery"), [checksums, day]).fetchone()
        return None if row is None else (row[0], row[1], str(row[2]))

    def loaded_volumes(self, raw_table: str, before: str) -> dict[str, int]:
        """Rows delivered per loaded day of ``raw_table`` before ``before``."""
        rows = self.connection.execute(_sql("loaded_volumes"), [raw_table, before]).fetchall()
        return {str(day): int(rows_in) for day, rows_in in rows}


def _quoted(identifier: str) -> str:
    """Identifiers come from the suites' registry, never from input; quote them anyway."""
    return '"' + identifier.replace('"', '""') + '"'


def judge(
    source: GatedSource,
    deliveries: Sequence[Delivery],
    history: History,
    runner: GxRunner,
    settings: QualitySettings,
    timezone: str,
) -> tuple[PartitionVerdict, ...]:
    """One verdict per delivered day, in day order."""
    deliveries = sorted(deliveries, key=lambda d: d.day)
    readable = {d.day: d for d in deliveries if d.unreadable is None}
    early_reasons = _delivery_reasons(deliveries, history)
    rules = rule_context(history, readable.values(), settings, timezone)
    frames: dict[str, dict[str, pd.DataFrame | None]] = {
        day: dict(delivery.frames) for day, delivery in readable.items()
    }
    quarantine: dict[str, dict[str, pd.DataFrame]] = {day: {} for day in readable}
    row_records: dict[str, list[ExpectationRecord]] = {d.day: [] for d in deliveries}
    for table in (t for t in source.tables if t in SUITES):
        loaded, held, records = judge_table(
            SUITES[table], {day: frames[day].get(table) for day in sorted(frames)}, runner, rules, history
        )
        for day in sorted(frames):
            row_records[day] += records[day]
            if loaded[day] is None:
                continue
            held_rows = held.get(day, pd.DataFrame(columns=QUARANTINE_BOOKKEEPING))
            frames[day][table] = loaded[day]
            quarantine[day][table] = held_rows
            if (answers_table := source.answers_of.get(table)) and frames[day].get(answers_table) is not None:
                frames[day][answers_table], quarantine[day][answers_table] = _answers_follow(
                    frames[day][answers_table], held_rows
                )
    last_day = deliveries[-1].day if deliveries else ""
    volumes = {t: history.loaded_volumes(t, last_day) for t in source.tables if t in VOLUME_CHECKED}
    verdicts = []
    for delivery in deliveries:
        verdict = _partition_verdict(
            source,
            delivery,
            early_reasons.get(delivery.day, ()),
            row_records[delivery.day],
            frames.get(delivery.day),
            quarantine.get(delivery.day, {}),
            volumes,
            settings,
        )
        verdicts.append(verdict)
        if verdict.written:  # the next days' trailing volumes see this one as loaded
            for table in verdict.tables:
                if table.raw_table in volumes:
                    audits = [a for a in verdict.audits if a.raw_table == table.raw_table]
                    volumes[table.raw_table].pop(delivery.day, None)
                    if audits:
                        volumes[table.raw_table][delivery.day] = sum(a.rows_in for a in audits)
    return tuple(verdicts)


def _delivery_reasons(deliveries: Sequence[Delivery], history: History) -> dict[str, tuple[str, ...]]:
    """Why a day is blocked before any row is judged: a file that could not be read, or a file
    delivered twice (same bytes under two names, on another day of this run, or already loaded for
    another day), which would double its rows. Header-only files are alike by nature and never count."""
    reasons: dict[str, tuple[str, ...]] = {}
    delivered_in_run: dict[str, tuple[str, str]] = {}  # checksum -> (file, day)
    for delivery in deliveries:
        if delivery.unreadable is not None:
            reasons[delivery.day] = (delivery.unreadable,)
        elif repeat := _repeated_delivery(delivery, delivered_in_run, history):
            reasons[delivery.day] = (repeat,)
    return reasons


def _repeated_delivery(
    delivery: Delivery, delivered_in_run: dict[str, tuple[str, str]], history: History
) -> str | None:
    mine: dict[str, str] = {}
    for audit in delivery.audits:
        if audit.rows_in == 0:
            continue
        if audit.checksum in mine and mine[audit.checksum] != audit.file:
            return f"{audit.file}: the same file as {mine[audit.checksum]}, delivered twice"
        if audit.checksum in delivered_in_run and delivered_in_run[audit.checksum][1] != delivery.day:
            earlier_file, earlier_day = delivered_in_run[audit.checksum]
            return f"{audit.file}: the same file as {earlier_file}, delivered for {earlier_day}"
        mine.setdefault(audit.checksum, audit.file)
    delivered_in_run.update({checksum: (file, delivery.day) for checksum, file in mine.items()})
    if not mine:
        return None
    earlier = history.earlier_delivery(list(mine), delivery.day)
    if earlier:
        checksum, file, day = earlier
        return f"{mine[checksum]}: the same file as {file}, already loaded for {day}"
    return None


def rule_context(
    history: History, deliveries: Iterable[Delivery], settings: QualitySettings, timezone: str
) -> RuleContext:
    """The roster as loaded so far plus any roster delivered in this run, and the mapped surveys."""
    stores, staff = history.roster()
    for delivery in deliveries:
        if (frame := delivery.frames.get("reference_stores")) is not None:
            stores |= set(frame["store_id"].dropna())
        if (frame := delivery.frames.get("reference_staff")) is not None:
            staff |= set(frame["staff_id"].dropna())
    return RuleContext(
        store_ids=frozenset(stores),
        staff_ids=frozenset(staff),
        survey_ids=frozenset(m.survey_id for m in load_mappings()),
        loaded_keys=frozenset(),
        now=pd.Timestamp.now(tz="UTC"),
        timezone=timezone,
        max_text_length=settings.max_text_length,
    )


def _answers_follow(answers: pd.DataFrame, held_responses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A quarantined response takes its answers with it, under the response's failed rules."""
    reasons = (
        dict(zip(held_responses["response_id"], held_responses["_failed_expectations"], strict=True))
        if len(held_responses)
        else {}
    )
    moved = answers["response_id"].isin(list(reasons))
    return answers[~moved], answers[moved].assign(
        _failed_expectations=answers.loc[moved, "response_id"].map(reasons)
    )


def _partition_verdict(
    source: GatedSource,
    delivery: Delivery,
    early_reasons: tuple[str, ...],
    row_records: list[ExpectationRecord],
    frames: dict[str, pd.DataFrame | None] | None,
    quarantine: dict[str, pd.DataFrame],
    volumes: dict[str, dict[str, int]],
    settings: QualitySettings,
) -> PartitionVerdict:
    """One day's partition rules over its judged rows, and the day's verdict."""
    readable = delivery.unreadable is None
    records = [file_rule(table, reason) for reason in early_reasons for table in source.tables] + row_records
    reasons = list(early_reasons)
    audits = _audits_after_gate(delivery, frames or {}, quarantine)
    rows_in = {
        t: sum(a.rows_in for a in delivery.audits if a.raw_table == t) if readable else 0
        for t in source.tables
    }
    for table in source.tables:
        if not readable or table not in SUITES:
            continue
        held = len(quarantine.get(table, ()))
        partition_rules = [quarantine_share_rule(table, rows_in[table], held, settings)]
        if table in VOLUME_CHECKED:
            trailing = [
                rows for day, rows in sorted(volumes[table].items(), reverse=True) if day < delivery.day
            ]
            partition_rules.append(
                volume_rule(table, rows_in[table], trailing[: settings.volume_trailing_partitions], settings)
            )
        for record in filter(None, partition_rules):
            records.append(record)
            if not record.success and record.severity == ERROR:
                reasons.append(f"raw.{table} {delivery.day}: {record.samples[0]}")
    blocked = bool(reasons)
    tables = tuple(
        TableVerdict(
            table,
            rows_in[table],
            None if blocked else (frames or {}).get(table),
            quarantine.get(table),
            not blocked and all(r.success for r in records if r.raw_table == table),
        )
        for table in source.tables
    )
    return PartitionVerdict(source.name, delivery, tables, audits, tuple(records), tuple(reasons))


def _audits_after_gate(
    delivery: Delivery, frames: dict[str, pd.DataFrame | None], quarantine: dict[str, pd.DataFrame]
) -> tuple[FileAudit, ...]:
    """The delivery's audit rows with rows_loaded / rows_quarantined counted per file after the gate
    (tables without a suite load as read)."""
    counted = {}
    for table, held in quarantine.items():
        loaded = frames.get(table)
        loaded_per_file = loaded["_source_file"].value_counts() if loaded is not None and len(loaded) else {}
        held_per_file = held["_source_file"].value_counts() if len(held) else {}
        counted[table] = (loaded_per_file, held_per_file)
    audits = []
    for audit in delivery.audits:
        if audit.raw_table not in counted:
            audits.append(audit)
            continue
        loaded_per_file, held_per_file = counted[audit.raw_table]
        audits.append(
            replace(
                audit,
                rows_loaded=int(loaded_per_file.get(audit.file, 0)),
                rows_quarantined=int(held_per_file.get(audit.file, 0)),
            )
        )
    return tuple(audits)


def apply_decisions(
    frame: pd.DataFrame, decisions: Mapping[tuple[str, int], QuarantineDecision]
) -> pd.DataFrame:
    """Apply released rows' corrections; mark released and rejected rows."""
    frame = frame.copy()
    keys = list(zip(frame["_source_file"], frame["_source_row"].astype(int), strict=True))
    chosen = [decisions.get(key) for key in keys] if decisions else [None] * len(keys)
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
    frames_by_day: dict[str, pd.DataFrame | None],
    runner: GxRunner,
    rules: RuleContext,
    history: History,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, pd.DataFrame], dict[str, list[ExpectationRecord]]]:
    """Split each day's rows into (loaded, quarantined) and the per-day expectation records. The
    steward's decisions apply first, so a corrected key is the key judged against history."""
    days = [day for day, frame in frames_by_day.items() if frame is not None and len(frame)]
    loaded: dict[str, pd.DataFrame | None] = dict(frames_by_day)
    quarantined: dict[str, pd.DataFrame] = {}
    records: dict[str, list[ExpectationRecord]] = {day: [] for day in frames_by_day}
    if not days:
        return loaded, quarantined, records
    decisions = history.decisions(suite.raw_table)
    batch = pd.concat(
        [apply_decisions(frames_by_day[day], decisions).assign(_partition_date=day) for day in days],
        ignore_index=True,
    )
    batch[ROW_ID] = range(len(batch))
    loaded_keys = history.keys_loaded_elsewhere(suite, batch, sorted(frames_by_day))
    result = runner.validate(suite, batch, replace(rules, loaded_keys=loaded_keys))
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
