"""Benchmark: each insight model's Dagster asset as the pipeline runs it, on a copy of a built warehouse.

Copies the warehouse (never writes to the original), then for each model materializes its asset
with Dagster's ``materialize()`` and the project's Warehouse resource — the whole asset path:
reading the marts, the model, replacing its tables — and times it two ways: the wall time of the
``materialize()`` call (Dagster's per-run cost included) and the asset step alone (Dagster's step
statistics). Just before each model, the baseline: the SELECTs its asset runs, alone, fetched
into pandas as the asset fetches them (the SQL is imported from the asset modules), so the ratio
step / baseline is the model's own cost over reading its input. Samples the load average, since
the cores are shared, and appends a dated section to bench/RESULTS.md.

    python bench/bench_models.py [--warehouse /tmp/benchhome/warehouse.duckdb]
        [--copy-to /tmp/bench_models] [--repeat 1] [--no-append]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster
import duckdb
import sklearn
from dagster import AssetsDefinition, DagsterInstance, materialize

from assets import churn, insights, integrity, kano, money, peak_end
from cxlake.insights.churn import choose_windows
from cxlake.insights.churn import load_settings as churn_settings
from cxlake.insights.drivers import load_settings as driver_settings
from cxlake.insights.kano import load_kano_survey
from cxlake.insights.money import load_settings as money_settings
from cxlake.insights.peak_end import JOURNEY
from cxlake.insights.peak_end import load_settings as peak_end_settings
from cxlake.metrics import settings as metric_settings
from cxlake.pipeline.resources import Warehouse

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
Reads = Callable[[duckdb.DuckDBPyConnection], dict[str, int]]


def _rows(connection: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    """Run one of an asset's SELECTs as the asset does (into pandas) and count its rows."""
    return len(connection.execute(sql, params or []).df())


def driver_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    exclude = [driver_settings().exclude_suspect]
    return {
        "responses": _rows(connection, insights.RESPONSES, exclude),
        "ratings": _rows(connection, insights.RATINGS, exclude),
        "touchpoints": _rows(connection, insights.DRIVERS),
    }


def kano_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    params = [load_kano_survey().survey_id, list(metric_settings().countable.statuses)]
    return {"answers": _rows(connection, kano.ANSWERS, params)}


def churn_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    connection.execute(churn.DAYS).fetchall()
    has_cases = connection.execute(churn.HAS_CASES).fetchone()[0] > 0
    return {
        "members": _rows(connection, churn.CUSTOMERS),
        "purchases": _rows(connection, churn.PURCHASES),
        "responses": _rows(connection, churn.RESPONSES, [churn_settings().exclude_suspect]),
        "negative reviews": _rows(connection, churn.NEGATIVE_REVIEWS),
        "cases": _rows(connection, churn.CASES) if has_cases else 0,
    }


def peak_end_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    stages = peak_end.read_stages(connection)  # SELECTs only: the columns and the touchpoints
    csat = ", ".join(f"cast(journeys.csat_{tp} as double) as {tp}" for tp in stages.get(JOURNEY, []))
    sql = peak_end.JOURNEYS.format(csat=csat)
    return {"journeys": _rows(connection, sql, [peak_end_settings().exclude_suspect])}


def money_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    outcomes = connection.execute(money.OUTCOMES).df()
    rows = {"answers with outcomes": len(outcomes)}
    if outcomes.empty:
        return rows
    window_days = int(outcomes["window_days"].iloc[0])
    last_day = outcomes["last_transaction_date"].iloc[0]
    rows["recent detractors"] = _rows(connection, money.RECENT_DETRACTORS, [last_day, window_days])
    if connection.execute(money.HAS_CASES).fetchone()[0] > 0:
        rows["open-case members"] = _rows(connection, money.OPEN_CASE_MEMBERS, [window_days])
    return rows


def effect_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    drivers = driver_reads(connection)
    return {"answers with outcomes": _rows(connection, money.OUTCOMES), **drivers}


def integrity_reads(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        "responses": _rows(connection, integrity.RESPONSES),
        "reviews": _rows(connection, integrity.REVIEWS),
        "stores": _rows(connection, "select store_id, store_name, region_id from marts.dim_store"),
        "staff": _rows(connection, integrity.STAFF),
    }


@dataclass(frozen=True)
class Model:
    name: str
    asset: AssetsDefinition
    reads: Reads
    grows: str  # what the model's own cost grows with ({placeholders} from scale_figures)


# Pipeline order: integrity first (fct_survey_responses.is_suspect is built from its table).
MODELS = [
    Model(
        "integrity (survey_integrity: 3 tables)",
        integrity.survey_integrity,
        integrity_reads,
        "countable responses ({responses:,}); per-subject peer tests over {stores} stores and "
        "{staff} staff (fixed by the chain, not by days)",
    ),
    Model(
        "key drivers (mart_key_drivers)",
        insights.key_drivers,
        driver_reads,
        "respondents ({respondents:,}) x {driver_reps} bootstrap resamples x 3 scope levels "
        "({scopes} scopes, each resampling its own respondents)",
    ),
    Model(
        "Kano (mart_kano)",
        kano.kano,
        kano_reads,
        "Kano answers ({kano_answers:,}), linear, no resampling (a study is fielded now and then)",
    ),
    Model(
        "peak-end (mart_peak_end)",
        peak_end.peak_end,
        peak_end_reads,
        "respondents with a journey ({journeys:,}) x 3 scope levels x {stages} stages; "
        "closed-form OLS, no resampling",
    ),
    Model(
        "churn (mart_churn_risk)",
        churn.churn_risk_scores,
        churn_reads,
        "members active in a look-back (of {members:,}; {scored:,} scored) x cut-offs ({cutoffs}, "
        "one per {step} days after a 28-day look-back and two 14-day horizons: grows with the days "
        "as well as the members); purchases ({purchases:,}) scanned per cut-off; reasons per scored "
        "member",
    ),
    Model(
        "money: experience (mart_experience_money)",
        money.experience_money_asset,
        money_reads,
        "counted members ({members_counted:,}) x {money_reps} bootstrap resamples x 3 scope levels "
        "({money_scopes} scopes)",
    ),
    Model(
        "money: CSAT effect (mart_csat_revenue_effect)",
        money.csat_revenue_effect_asset,
        effect_reads,
        "respondents ({respondents:,}) x {money_reps} bootstrap fits (chain only); the "
        "key-driver frame is read again",
    ),
]


def scale_figures(connection: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The sizes the models' costs grow with, for the table's last column."""
    exclude = [driver_settings().exclude_suspect]
    respondents = connection.execute(insights.RESPONSES, exclude).df()
    stores_regions = connection.execute(
        "select count(distinct store_id), count(distinct region_id) from marts.dim_store"
    ).fetchone()
    first_day, last_day = connection.execute(churn.DAYS).fetchone()
    settings = churn_settings()
    outcomes = connection.execute(money.OUTCOMES).df()
    members = outcomes.drop_duplicates("customer_id")
    return {
        "responses": connection.execute(
            "select count(*) from intermediate.int_surveys__responses_flagged"
        ).fetchone()[0],
        "stores": stores_regions[0],
        "staff": connection.execute(integrity.STAFF).df()["staff_id"].nunique(),
        "respondents": len(respondents),
        "driver_reps": driver_settings().bootstrap_repetitions,
        "scopes": 1 + respondents["region_id"].nunique() + respondents["store_id"].nunique(),
        "kano_answers": kano_reads(connection)["answers"],
        "journeys": peak_end_reads(connection)["journeys"],
        "stages": len(peak_end.read_stages(connection)),
        "members": len(connection.execute(churn.CUSTOMERS).df()),
        "purchases": len(connection.execute(churn.PURCHASES).df()),
        "cutoffs": len(choose_windows(first_day, last_day, settings).train_cutoffs) + 1,
        "step": settings.cutoff_step_days,
        "scored": connection.execute("select count(*) from marts.mart_churn_risk").fetchone()[0],
        "members_counted": len(members),
        "money_reps": money_settings().bootstrap_repetitions,
        "money_scopes": 1 + members["region_id"].nunique() + members["store_id"].nunique(),
        "days": (last_day - first_day).days + 1,
    }


@dataclass
class Timing:
    baseline: list[float]
    wall: list[float]
    step: list[float]
    rows: dict[str, int]


def time_model(model: Model, database: Path, instance: DagsterInstance) -> tuple[float, float, float, dict]:
    """One round: the baseline SELECTs, then the asset materialized (wall and step seconds)."""
    with duckdb.connect(str(database)) as connection:
        started = time.perf_counter()
        rows = model.reads(connection)
        baseline = time.perf_counter() - started
    started = time.perf_counter()
    result = materialize(
        [model.asset], resources={"warehouse": Warehouse(path=str(database))}, instance=instance
    )
    wall = time.perf_counter() - started
    if not result.success:
        raise RuntimeError(f"{model.name}: the materialization failed (run {result.run_id})")
    (stats,) = instance.get_run_step_stats(result.run_id)
    return baseline, wall, stats.end_time - stats.start_time, rows


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A fresh copy of the warehouse (and its WAL, if one is pending) in ``folder``."""
    target = folder / source.name
    if target.resolve() == source.resolve():
        raise SystemExit(f"{target}: the copy would overwrite the original warehouse")
    if not source.is_file():
        raise SystemExit(f"{source}: no such warehouse file")
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        stale = target.with_name(target.name + suffix)
        stale.unlink(missing_ok=True)
        if source.with_name(source.name + suffix).is_file():
            shutil.copyfile(source.with_name(source.name + suffix), stale)
    return target


def report(
    timings: dict[str, Timing], figures: dict, loads: list[float], source: Path, repeat: int, total: float
) -> str:
    median = statistics.median
    lines = []
    for model in MODELS:
        t = timings[model.name]
        rows = ", ".join(f"{label} {n:,}" for label, n in t.rows.items())
        base, step = median(t.baseline), median(t.step)
        lines.append(
            f"| {model.name} | {median(t.wall):.1f} | {step:.1f} | {base:.2f} | {step / base:.0f} "
            f"| {sum(t.rows.values()):,} ({rows}) | {model.grows.format(**figures)} |"
        )
    wall = sum(median(t.wall) for t in timings.values())
    step = sum(median(t.step) for t in timings.values())
    base = sum(median(t.baseline) for t in timings.values())
    taken = f"median of {repeat} rounds" if repeat > 1 else "one round"
    steps = sorted(((median(t.step), name) for name, t in timings.items()), reverse=True)
    top = ", ".join(f"{name.split(' (')[0]} {seconds:.0f} s" for seconds, name in steps[:3])
    return f"""
## Insight models' assets: medium scale, {figures["days"]} days ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

`python bench/bench_models.py --warehouse {source} --repeat {repeat}` on {platform.node()} \
({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, duckdb \
{duckdb.__version__}, dagster {dagster.__version__}, scikit-learn {sklearn.__version__}); \
{taken}, on a copy of the warehouse. **Load average {min(loads):.1f} to {max(loads):.1f}** \
(1-minute, sampled before and after each model; the 2 cores were shared with other people's \
test runs, so every figure is slower than on an idle machine).

Each model's asset materialized with Dagster's `materialize()` and the project's Warehouse resource:
reads its marts, fits, replaces its tables. *wall* is the `materialize()` call (Dagster's per-run cost
included), *step* the asset step alone; *read* is the baseline, the same SELECTs alone into pandas,
just before; *step / read* is the model's own cost over reading its input.

| model (asset) | wall s | step s | read s | step / read | input rows | what grows with data size |
| --- | ---: | ---: | ---: | ---: | --- | --- |
{chr(10).join(lines)}
| **total** | **{wall:.1f}** | **{step:.1f}** | **{base:.2f}** | {step / base:.0f} | | |

All seven assets in {wall:.0f} s of `materialize()` calls ({step:.0f} s in the steps; the whole bench,
copy excluded, {total:.0f} s). The three largest ({top}) are {sum(s for s, _ in steps[:3]) / step:.0%}
of the step time; reading the input is {base / step:.0%} of it.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/benchhome/warehouse.duckdb"))
    parser.add_argument("--copy-to", type=Path, default=Path("/tmp/bench_models"))
    parser.add_argument("--repeat", type=int, default=1, help="Rounds per model; the table shows medians.")
    parser.add_argument("--no-append", action="store_true", help="Print only; leave bench/RESULTS.md.")
    args = parser.parse_args()
    database = copy_warehouse(args.warehouse.resolve(), args.copy_to)
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    timings: dict[str, Timing] = {}
    with DagsterInstance.ephemeral() as instance:
        for model in MODELS:
            timing = Timing([], [], [], {})
            for _ in range(args.repeat):
                baseline, wall, step, rows = time_model(model, database, instance)
                timing.baseline.append(baseline)
                timing.wall.append(wall)
                timing.step.append(step)
                timing.rows = rows
                loads.append(os.getloadavg()[0])
            timings[model.name] = timing
            print(f"{model.name}: wall {wall:.1f} s, step {step:.1f} s, read {baseline:.2f} s", flush=True)
    total = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as connection:
        figures = scale_figures(connection)
    text = report(timings, figures, loads, args.warehouse, args.repeat, total)
    print(text)
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write(text)


if __name__ == "__main__":
    main()
