"""Benchmark: key-driver analysis against the demo generator's planted driver weights.

Generates the demo chain (medium scale by default), runs the whole pipeline (`cxlake run`, which
writes marts.mart_key_drivers), then compares the company-level relative weights with truth.json
"planted" driver_weights (Spearman's rho; taste is planted strongest) and looks up the planted slow
store's speed row (its quadrant should be concentrate_here). Also times the key-driver model alone
on the built warehouse, and appends the result to bench/RESULTS.md.

    python bench/bench_drivers.py [--scale medium] [--days 90] [--seed 42] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
from scipy.stats import spearmanr

from assets.insights import key_driver_table
from cxlake.generator import generate
from cxlake.insights.drivers import NOT_ENOUGH_RESPONSES, load_settings
from orchestration.runner import run_pipeline

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START = date(2026, 3, 2)


def measure(scale: str, days: int, seed: int, folder: Path) -> str:
    started = time.perf_counter()
    landing = folder / "landing"
    generate(landing, scale=scale, seed=seed, start=START, days=days, progress=False)
    generated = time.perf_counter() - started
    outcome = run_pipeline(landing, folder / "warehouse.duckdb")
    if not outcome.success:
        raise RuntimeError("the pipeline run failed")
    pipeline = time.perf_counter() - started - generated
    planted = json.loads((landing / "truth.json").read_text("utf-8"))["planted"]
    settings = load_settings()
    with duckdb.connect(str(outcome.serving_path), read_only=True) as connection:
        mart = connection.execute("select * from marts.mart_key_drivers").df()
        responses = connection.execute(
            "select count(*) from marts.fct_survey_responses where is_countable and not is_suspect"
            " and nps_score is not null"
        ).fetchone()[0]
        model_started = time.perf_counter()
        recomputed = key_driver_table(connection, settings)
        model_seconds = time.perf_counter() - model_started
    # the same seed, the same table (raises with the first difference otherwise)
    pd.testing.assert_frame_equal(recomputed.reset_index(drop=True), mart, check_dtype=False)
    weights = planted["driver_weights"]
    company = mart[mart["scope_level"] == "chain"].sort_values("relative_weight", ascending=False)
    rho = spearmanr(company["relative_weight"], [weights[d] for d in company["driver"]]).statistic
    planted_order = sorted(weights, key=weights.get, reverse=True)
    slow = planted["slow_store_id"]
    speed = mart[(mart["scope_level"] == "store") & (mart["driver"] == "speed")].set_index("scope_id")
    stores_modelled = speed[speed["quadrant"] != NOT_ENOUGH_RESPONSES]
    concentrate = (stores_modelled["quadrant"] == "concentrate_here").sum()
    rows = "\n".join(
        f"| {r.driver} | {weights[r.driver]:.2f} | {r.relative_weight:.4f} "
        f"| {r.ci_low:.4f} to {r.ci_high:.4f} | {r.relative_weight_share:.3f} "
        f"| {r.satisfaction:.2f} | {r.quadrant} | {r.n:,} |"
        for r in company.itertuples()
    )
    slow_row = speed.loc[slow]
    title = f"Key drivers against the planted driver weights: {scale} scale, {days} days"
    return f"""
## {title} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

`python bench/bench_drivers.py --scale {scale} --days {days} --seed {seed}` on {platform.node()} \
({platform.machine()}): {responses:,} countable non-suspect responses with a recommend score; data \
generated in {generated:.0f} s, whole pipeline (writing marts.mart_key_drivers) {pipeline:.0f} s; the \
key-driver model alone (company, {mart.query("scope_level == 'region'")["scope_id"].nunique()} regions, \
{speed.index.nunique()} stores; {settings.bootstrap_repetitions} bootstrap resamples each) \
{model_seconds:.1f} s, and re-running it wrote the same table.

Company ranking: {", ".join(company["driver"])} (planted: {", ".join(planted_order)}); \
**Spearman rho {rho:.3f}**, taste first: {"yes" if company["driver"].iloc[0] == "taste" else "NO"}.

| driver | planted weight | relative weight | 95% interval | share of R² | mean CSAT | quadrant | n |
| --- | ---: | ---: | --- | ---: | ---: | --- | ---: |
{rows}

R² {company["relative_weight"].sum():.3f}. A missing rating (a touchpoint the customer did not meet)
takes the driver's mean, so a weight reflects the touchpoint's reach (n) and the spread of its ratings
as well as its planted per-customer weight: delivery (delivery orders only) and app (app and delivery
orders) weigh less company-wide, and value, planted lowest and so least piled up at 5, spreads more
than staff.

Planted slow store {slow}: speed {slow_row["quadrant"]} (weight {slow_row["relative_weight"]:.3f}, \
mean CSAT {slow_row["satisfaction"]:.2f}, lowest of {len(speed)} stores: \
{"yes" if speed["satisfaction"].idxmin() == slow else "NO"}; n {slow_row["n"]:,}). Speed is \
concentrate_here in {concentrate} of {len(stores_modelled)} modelled stores (its satisfaction is below \
the other drivers' almost everywhere; the slow store's is far below).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--keep", type=Path, help="Build in this folder and keep it (default: a temp folder)."
    )
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        text = measure(args.scale, args.days, args.seed, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="cxlake-bench-drivers-") as folder:
            text = measure(args.scale, args.days, args.seed, Path(folder))
    print(text)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(text)


if __name__ == "__main__":
    main()
