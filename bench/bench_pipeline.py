"""Benchmark: cxlake's ingest + dbt build against plain DuckDB loading the same files.

Generates the demo chain at a stated scale, then, in the same run and on the same files:
  baseline  - plain DuckDB: one `read_csv` per CSV file pattern into a table (what a notebook would do)
  cxlake    - `cxlake run`: ingestion assets (every delivered file, audit, lineage columns, idempotent
              per day), the configuration tables, `dbt build` (models and all their tests), publish
Reports seconds and the ratio cxlake / baseline, and appends the result to bench/RESULTS.md.

    python bench/bench_pipeline.py [--scale medium] [--days 90] [--seed 42]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from assets.ingestion.loading import prepare_warehouse, replace_partition
from assets.ingestion.sources import SOURCES
from cxlake.generator import generate
from orchestration.runner import run_pipeline

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# The CSV deliveries a plain DuckDB load can take in one read_csv each (the survey exports need
# a parser for their multi-row headers and GB18030, which plain read_csv cannot do).
BASELINE_TABLES = {
    "crm_customers": "crm/*/customers.csv",
    "pos_transactions": "pos/*/transactions.csv",
    "pos_transaction_lines": "pos/*/transaction_lines.csv",
    "survey_invitations": "survey_invitations/*/invitations.csv",
}


def plain_duckdb_load(landing: Path, database: Path) -> tuple[float, int]:
    started = time.perf_counter()
    rows = 0
    with duckdb.connect(str(database)) as connection:
        for table, pattern in BASELINE_TABLES.items():
            connection.execute(
                f"create table {table} as select * from read_csv(?, header = true, all_varchar = true)",
                [str(landing / pattern)],
            )
            rows += connection.execute(f"select count(*) from {table}").fetchone()[0]
    return time.perf_counter() - started, rows


def cxlake_csv_ingestion(landing: Path, database: Path) -> tuple[float, int]:
    """The ingestion code of the same four CSV deliveries, day by day, without Dagster around it."""
    started = time.perf_counter()
    rows = 0
    with duckdb.connect(str(database)) as connection:
        for source in SOURCES:
            if source.name not in {"crm", "pos", "survey_invitations"}:
                continue
            prepare_warehouse(connection, list(source.tables))
            for folder in sorted((landing / source.name).iterdir()):
                load = source.load_partition(landing, folder, folder.name)
                replace_partition(connection, source.name, list(source.tables), load)
                rows += sum(len(frame) for frame in load.frames.values())
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cxlake-bench-"))
    try:
        landing = work / "landing"
        started = time.perf_counter()
        summary = generate(
            landing, scale=args.scale, seed=args.seed, start=date(2026, 1, 1), days=args.days, progress=False
        )
        generate_seconds = time.perf_counter() - started

        baseline_seconds, baseline_rows = plain_duckdb_load(landing, work / "baseline.duckdb")
        csv_seconds, csv_rows = cxlake_csv_ingestion(landing, work / "ingest_only.duckdb")

        started = time.perf_counter()
        outcome = run_pipeline(landing, work / "warehouse.duckdb")
        pipeline_seconds = time.perf_counter() - started
        if not outcome.success:
            raise SystemExit("pipeline run failed")
        with duckdb.connect(str(outcome.serving_path), read_only=True) as connection:
            transactions = connection.execute("select count(*) from marts.fct_transactions").fetchone()[0]
            responses = connection.execute("select count(*) from marts.fct_survey_responses").fetchone()[0]
            loaded = connection.execute("select sum(rows_loaded) from dq.load_audit").fetchone()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}"
    )
    rows = [
        (
            f"baseline: plain DuckDB `read_csv` of the CSV deliveries ({baseline_rows:,} rows)",
            baseline_seconds,
        ),
        (f"cxlake ingestion of the same CSV deliveries ({csv_rows:,} rows)", csv_seconds),
        (
            "cxlake run: every source + configuration + `dbt build` (models, tests) + publish",
            pipeline_seconds,
        ),
    ]
    table = "\n".join(
        f"| {what} | {seconds:.1f} | {seconds / baseline_seconds:.1f} |" for what, seconds in rows
    )
    report = f"""
## Ingest + dbt build vs plain DuckDB: {args.scale} scale, {args.days} days ({stamp})
Machine: {machine}.
Data: seed {args.seed}; {transactions:,} transactions, {responses:,} survey responses,
{loaded:,} delivered rows in {sum(summary.files.values()):,} files (generated in {generate_seconds:.1f} s).

| what | seconds | ratio to baseline |
| --- | ---: | ---: |
{table}

The baseline copies four CSV patterns into untyped tables. cxlake's ingestion also decodes and
checks every file, records file and physical line of every row, audits each file and replaces each
day in its own transaction; the full run adds the survey exports, review JSON, `dbt build` of all
models with their tests, and the published serving copy.
"""
    print(report)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(report)


if __name__ == "__main__":
    main()
