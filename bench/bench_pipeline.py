"""Benchmark: the path users run (`cxlake ingest`, `cxlake run`) against plain DuckDB on the same files.

In one run and on the same landing folder (generated at a stated scale, or given with --landing):
  plain POS      - DuckDB `read_csv` of every POS file into typed tables (what a notebook would do)
  plain loading  - the same for the four CSV deliveries plain `read_csv` can take and the app's
                   JSON-lines events (`read_json`)
  POS ingestion  - `cxlake ingest --source reference --source pos`: reading, the quality gate
                   (row rules, history checks, partition rules), quarantine, the load audit, Dagster
  full run       - `cxlake run`: every source, the configuration tables, `dbt build` (models and
                   their tests), the Python models, publish
  marts' SQL     - the models' own execution time in that run's `dbt build` (dbt's run_results.json)
  one-day run    - `cxlake run --start D --end D` of the last day on the full run's warehouse
Each cxlake step runs as the command a user types, in its own process (its peak memory measured);
the load average is recorded around each, since other work on the machine makes timings noisy.
Appends the result to bench/RESULTS.md.

    python bench/bench_pipeline.py [--scale medium] [--days 90] [--seed 42] [--landing DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from cxlake.generator import generate
from cxlake.pipeline.dbt_project import DBT_PROJECT_DIR

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
CXLAKE = str(Path(sys.executable).parent / "cxlake")

# The CSV deliveries a plain DuckDB load can take in one read_csv each, with their columns' types (the
# survey exports need a parser for their multi-row headers and GB18030, which plain read_csv cannot do).
TIMESTAMP, MONEY = "TIMESTAMPTZ", "DECIMAL(12,2)"
PLAIN_TABLES = {
    "pos_transactions": (
        "pos/*/transactions.csv",
        {
            "transaction_id": "VARCHAR", "store_id": "VARCHAR", "staff_id": "VARCHAR",
            "customer_id": "VARCHAR", "channel": "VARCHAR", "ordered_at": TIMESTAMP, "ready_at": TIMESTAMP,
            "amount": MONEY,
            "refund_amount": MONEY, "is_remake": "INTEGER",
        },
    ),
    "pos_transaction_lines": (
        "pos/*/transaction_lines.csv",
        {
            "transaction_id": "VARCHAR", "line_number": "INTEGER", "product_id": "VARCHAR",
            "product_name": "VARCHAR", "category": "VARCHAR", "quantity": "INTEGER", "unit_price": MONEY,
            "line_amount": MONEY,
        },
    ),
    "crm_customers": ("crm/*/customers.csv", None),
    "survey_invitations": ("survey_invitations/*/invitations.csv", None),
    # the app's events: DuckDB's JSON-lines reader, the same typed-table treatment
    "app_events": (
        "app_events/*/events_*.jsonl",
        {
            "event_id": "VARCHAR", "occurred_at": TIMESTAMP, "received_at": TIMESTAMP, "device_id": "VARCHAR",
            "member_id": "VARCHAR", "session_hint": "VARCHAR", "event_type": "VARCHAR", "page": "VARCHAR",
            "item": "VARCHAR", "price": MONEY, "order_id": "VARCHAR", "dwell_ms": "BIGINT",
            "store_id": "VARCHAR", "error_code": "VARCHAR", "app_version": "VARCHAR",
        },
    ),
}  # fmt: skip
POS_TABLES = ("pos_transactions", "pos_transaction_lines")


@dataclass(frozen=True)
class Step:
    seconds: float
    peak_mb: float | None
    load: tuple[float, float]  # 1-minute load average before and after


def plain_load(landing: Path, database: Path, tables: tuple[str, ...]) -> tuple[Step, int]:
    """DuckDB's own reader into typed tables (types sniffed where not listed), in this process."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    rows = 0
    with duckdb.connect(str(database)) as connection:
        for table in tables:
            pattern, types = PLAIN_TABLES[table]
            typed = ", columns = $types" if types else ""
            reader = (
                f"read_json($files, format = 'newline_delimited'{typed})"
                if pattern.endswith(".jsonl")
                else f"read_csv($files, header = true{typed})"
            )
            connection.execute(
                f"create table {table} as select * from {reader}",
                {"files": str(landing / pattern), **({"types": types} if types else {})},
            )
            rows += connection.execute(f"select count(*) from {table}").fetchone()[0]
    return Step(time.perf_counter() - started, None, (load_before, os.getloadavg()[0])), rows


def cxlake(*args: str) -> Step:
    """One cxlake command as a user runs it, with its wall time and peak memory (via GNU time)."""
    timed = ["/usr/bin/time", "-f", "peak_kb=%M"] if Path("/usr/bin/time").exists() else []
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    completed = subprocess.run([*timed, CXLAKE, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = [line for line in completed.stderr.splitlines() if line.startswith("peak_kb=")]
    if completed.returncode != 0 and "held back" not in completed.stdout + completed.stderr:
        raise SystemExit(
            f"cxlake {' '.join(args)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    peak_mb = int(peak[-1].split("=")[1]) / 1024 if peak else None
    return Step(seconds, peak_mb, (load_before, os.getloadavg()[0]))


def dbt_model_seconds(since: float) -> tuple[float, float]:
    """Seconds the models and the tests took in the `dbt build`s that finished after ``since``,
    as dbt measured each node (the SQL in DuckDB, without the run's fixed costs)."""
    models = tests = 0.0
    for path in DBT_PROJECT_DIR.joinpath("target").rglob("run_results.json"):
        if path.stat().st_mtime < since:
            continue
        for node in json.loads(path.read_text(encoding="utf-8"))["results"]:
            if node["unique_id"].startswith("model."):
                models += node["execution_time"]
            elif node["unique_id"].startswith("test.") or node["unique_id"].startswith("unit_test."):
                tests += node["execution_time"]
    return models, tests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--landing", type=Path, help="an already generated landing folder to re-use")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cxlake-bench-"))
    try:
        landing = args.landing or work / "landing"
        if args.landing is None:
            generate(
                landing,
                scale=args.scale,
                seed=args.seed,
                start=date(2026, 1, 1),
                days=args.days,
                progress=False,
            )
        days = sorted(p.name for p in (landing / "pos").iterdir())
        plain_pos, pos_rows = plain_load(landing, work / "plain_pos.duckdb", POS_TABLES)
        plain_all, plain_rows = plain_load(landing, work / "plain.duckdb", tuple(PLAIN_TABLES))
        ingest_pos = cxlake(
            "ingest", "--landing", str(landing), "--warehouse", str(work / "pos.duckdb"),
            "--source", "reference", "--source", "pos",
        )  # fmt: skip
        full_started = time.time()
        full = cxlake("run", "--landing", str(landing), "--warehouse", str(work / "warehouse.duckdb"))
        model_seconds, test_seconds = dbt_model_seconds(full_started)
        one_day = cxlake(
            "run", "--landing", str(landing), "--warehouse", str(work / "warehouse.duckdb"),
            "--start", days[-1], "--end", days[-1],
        )  # fmt: skip
        with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as connection:
            loaded, quarantined = connection.execute(
                "select sum(rows_loaded), sum(rows_quarantined) from dq.load_audit"
            ).fetchone()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = render(args, days, pos_rows, plain_rows, loaded, quarantined, plain_pos, plain_all, ingest_pos,
                    full, model_seconds, test_seconds, one_day)  # fmt: skip
    print(report)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(report)


def render(args, days, pos_rows, plain_rows, loaded, quarantined, plain_pos, plain_all, ingest_pos, full,
           model_seconds, test_seconds, one_day) -> str:  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}"
    )

    def row(what: str, step: Step, goal: str = "") -> str:
        peak = f"{step.peak_mb:,.0f}" if step.peak_mb else "-"
        return f"| {what} | {step.seconds:.1f} | {peak} | {step.load[0]:.1f} / {step.load[1]:.1f} | {goal} |"

    pos_speed = plain_pos.seconds / ingest_pos.seconds
    full_ratio = full.seconds / (plain_all.seconds + model_seconds)
    one_day_share = one_day.seconds / full.seconds
    return f"""
## The path users run vs plain DuckDB: {args.scale} scale, {len(days)} days ({stamp})
Machine: {machine}. Seed {args.seed}; {loaded:,} rows loaded and {quarantined:,} quarantined by the full run.

| what | seconds | peak MB | load avg before / after | goal |
| --- | ---: | ---: | ---: | --- |
{row(f"plain DuckDB `read_csv` of the POS files into typed tables ({pos_rows:,} rows)", plain_pos)}
{row(f"plain DuckDB `read_csv` / `read_json` of the five deliveries ({plain_rows:,} rows)", plain_all)}
{
        row(
            "`cxlake ingest --source reference --source pos` (gate, quarantine, audit, Dagster)",
            ingest_pos,
            f"speed {pos_speed:.2f}x of plain POS (goal >= 0.5x)",
        )
    }
{
        row(
            "`cxlake run`, every source, dbt build, models, publish",
            full,
            f"{full_ratio:.1f}x plain loading + the models' SQL (goal <= 4x)",
        )
    }
{
        row(
            f"`cxlake run --start {days[-1]} --end {days[-1]}` on that warehouse",
            one_day,
            f"{one_day_share:.0%} of the full run (goal <= 15%)",
        )
    }

The models' SQL in the full run's `dbt build`: {model_seconds:.1f} s as dbt timed each model (its
tests another {test_seconds:.1f} s); "plain loading + the models' SQL" is {
        plain_all.seconds + model_seconds:.1f} s.
"""


if __name__ == "__main__":
    main()
