"""Benchmark: the churn-risk model on held-out time against a recency-only baseline.

Generates the demo chain, runs the whole pipeline (`cxlake run`, which writes marts.mart_churn_risk),
then evaluates the model the asset uses on the warehouse: trained on the earlier cut-offs, judged on
the later one (AUC, Brier score, log loss, a reliability table), beside the recency-only baseline,
with the fit time; optionally the isotonic-calibrated gradient boosting too. Checks the generator's
planted churn: detractors riskier than promoters, and among detractors those whose case the store
did not work (truth.json "case_work": they churn) riskier than those it worked (they recover).
Appends the result to bench/RESULTS.md.

    python bench/bench_churn.py [--scale small] [--days 30] [--seed 42] [--keep FOLDER [--reuse]]
                                [--gradient-boosting]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from assets.churn import read_churn_data
from cxlake.generator import generate
from cxlake.insights.churn import Evaluation, churn_risk, load_settings
from orchestration.runner import run_pipeline

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START = date(2026, 3, 2)

LATEST_CASE = """
    select transactions.customer_id, responses.response_key
    from marts.fct_survey_responses as responses
    inner join marts.fct_transactions as transactions
        on responses.transaction_id = transactions.transaction_id
    where transactions.customer_id is not null
    qualify row_number() over (
        partition by transactions.customer_id order by responses.responded_at desc
    ) = 1
"""


def reliability_rows(evaluation: Evaluation) -> str:
    model, baseline = evaluation.reliability, evaluation.baseline_reliability
    return "\n".join(
        f"| {m.bin} | {m.n:,} | {m.p_low:.3f} to {m.p_high:.3f} | {m.mean_predicted:.3f} "
        f"| {m.observed_rate:.3f} | {b.mean_predicted:.3f} | {b.observed_rate:.3f} |"
        for m, b in zip(model.itertuples(), baseline.itertuples(), strict=True)
    )


def evaluation_line(name: str, evaluation: Evaluation, seconds: float) -> str:
    return (
        f"| {name} | {evaluation.auc:.3f} | {evaluation.brier:.4f} | {evaluation.log_loss:.4f} "
        f"| {evaluation.fit_seconds:.2f} | {seconds:.1f} |"
    )


def build(scale: str, days: int, seed: int, folder: Path) -> tuple[Path, str]:
    """Generate and run the whole pipeline in ``folder``: the serving copy and what it took."""
    started = time.perf_counter()
    generate(folder / "landing", scale=scale, seed=seed, start=START, days=days, progress=False)
    generated = time.perf_counter() - started
    outcome = run_pipeline(folder / "landing", folder / "warehouse.duckdb")
    if not outcome.success:
        raise RuntimeError("the pipeline run failed")
    pipeline = time.perf_counter() - started - generated
    took = (
        f"data generated in {generated:.0f} s, whole pipeline (writing marts.mart_churn_risk) "
        f"{pipeline:.0f} s on a machine shared with other runs"
    )
    return outcome.serving_path, took


def measure(scale: str, days: int, seed: int, folder: Path, boosting: bool, reuse: bool) -> str:
    landing = folder / "landing"
    if reuse:
        serving, took = folder / "serving.duckdb", "an earlier build of the same arguments (--reuse)"
    else:
        serving, took = build(scale, days, seed, folder)
    truth = json.loads((landing / "truth.json").read_text("utf-8"))
    settings = load_settings()
    with duckdb.connect(str(serving), read_only=True) as connection:
        published = connection.execute("select * from marts.mart_churn_risk").df()
        latest = connection.execute(LATEST_CASE).df()
        read_started = time.perf_counter()
        data = read_churn_data(connection, settings)
        read_seconds = time.perf_counter() - read_started
    runs = {}
    for name in ("logistic", "gradient_boosting") if boosting else ("logistic",):
        run_started = time.perf_counter()
        runs[name] = (churn_risk(data, replace(settings, model=name)), time.perf_counter() - run_started)
    result, _ = runs["logistic"]
    evaluation = result.evaluation
    # the asset wrote the same scores (the model is deterministic)
    written = published.set_index("customer_id")[["churn_probability", "value_at_risk"]]
    computed = result.mart.set_index("customer_id")[written.columns].reindex(written.index)
    pd.testing.assert_frame_equal(computed, written, check_exact=False, rtol=1e-9)
    mart = result.mart
    by_category = mart.groupby(mart["last_nps_category"].fillna("no answer"))["churn_probability"].agg(
        ["mean", "size"]
    )
    worked = pd.DataFrame(truth["case_work"])[["response_key", "worked"]]
    cased = mart.merge(latest.merge(worked, on="response_key"), on="customer_id")
    planted = cased.groupby("worked")["churn_probability"].agg(["mean", "size"])
    windows = evaluation.windows
    members = len(data.customers)
    category_rows = "\n".join(
        f"| {name} | {row['mean']:.3f} | {int(row['size']):,} |" for name, row in by_category.iterrows()
    )
    lines = "\n".join(evaluation_line(n, r.evaluation, s) for n, (r, s) in runs.items())
    title = f"Churn risk on held-out time: {scale} scale, {days} days"
    flag = " --gradient-boosting" if boosting else ""
    listed = mart[mart["is_watch_listed"]]
    return f"""
## {title} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

`python bench/bench_churn.py --scale {scale} --days {days} --seed {seed}{flag}` \
on {platform.node()} ({platform.machine()}): {members:,} members, {len(data.purchases):,} member \
purchases; {took}; reading the marts {read_seconds:.1f} s.

Windows fitted to the {days} days: horizon **{windows.horizon_days} days** (churned = no purchase in \
them), look-back {windows.lookback_days} days; trained on the cut-off(s) \
{", ".join(d.isoformat() for d in windows.train_cutoffs)} ({evaluation.n_train:,} member snapshots, \
{evaluation.train_churn_rate:.1%} churned), judged on {windows.test_cutoff} ({evaluation.n_test:,} \
members, {evaluation.test_churn_rate:.1%} churned); scored at {windows.score_cutoff}.

| model | AUC | Brier | log loss | fit (s) | whole run (s) |
| --- | ---: | ---: | ---: | ---: | ---: |
{lines}
| recency-only baseline | {evaluation.baseline_auc:.3f} | {evaluation.baseline_brier:.4f} \
| {evaluation.baseline_log_loss:.4f} | | |

"Whole run": evaluation, refit on every labelled cut-off, scoring, reasons and the watch list.

Reliability on the test cut-off (equal-count bins of the logistic model's probability; the baseline's
own bins beside it):

| bin | n | predicted range | mean predicted | observed | baseline predicted | baseline observed |
| ---: | ---: | --- | ---: | ---: | ---: | ---: |
{reliability_rows(evaluation)}

Planted churn (a detractor buys at {truth["planted"]["churn_purchase_rate_factor"]} of their rate \
from the day after the answer unless the store works the case, then \
{truth["planted"]["recovered_purchase_rate_factor"]}): mean churn probability at \
{windows.score_cutoff} by the member's last NPS answer

| last NPS answer | mean probability | members |
| --- | ---: | ---: |
{category_rows}

and among members whose latest answer opened a detractor case: case worked (planted recovery) \
{planted.loc[True, "mean"]:.3f} (n {int(planted.loc[True, "size"]):,}), not worked (planted churn) \
{planted.loc[False, "mean"]:.3f} (n {int(planted.loc[False, "size"]):,}): the model cannot see the \
planted work (the demo's cases stay open until `cxlake cases replay-demo`), only the purchases after it.
Watch lists: {len(listed)} members in {listed["store_id"].nunique()} stores, value at risk \
{listed["value_at_risk"].sum():,.0f} yuan of \
{mart["value_at_risk"].sum():,.0f} over the horizon.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=("small", "medium", "large"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--gradient-boosting", action="store_true", help="Also evaluate gradient boosting.")
    parser.add_argument(
        "--keep", type=Path, help="Build in this folder and keep it (default: a temp folder)."
    )
    parser.add_argument(
        "--reuse", action="store_true", help="Measure the build an earlier --keep run left in --keep."
    )
    args = parser.parse_args()
    if args.reuse and not (args.keep and (args.keep / "serving.duckdb").is_file()):
        parser.error("--reuse needs --keep FOLDER holding an earlier build (serving.duckdb)")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        text = measure(args.scale, args.days, args.seed, args.keep, args.gradient_boosting, args.reuse)
    else:
        with tempfile.TemporaryDirectory(prefix="cxlake-bench-churn-") as folder:
            text = measure(args.scale, args.days, args.seed, Path(folder), args.gradient_boosting, False)
    print(text)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(text)


if __name__ == "__main__":
    main()
