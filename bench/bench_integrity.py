"""Benchmark: survey-integrity detection against the demo generator's planted gaming store.

For each seed: generate the demo chain (small scale), run the whole pipeline (`cxlake run`), then
compare marts.mart_integrity_store / mart_integrity_staff and fct_survey_responses.is_suspect
with truth.json "planted" (gaming_store_id, gaming_staff_ids, gaming_response_keys). Reports the
thresholds of cxlake/config/integrity.yaml, the detection rate (planted store / staff flagged),
the false-flag rate (honest stores / staff flagged) and suspect-response recall and precision,
and, for the score-gain rule (gain_vs_behaviour), the gaming store's NPS change against its
peers' (its gaming starts part-way, truth "gaming_start_date") and which subjects it hits; appends
the result to bench/RESULTS.md.

    python bench/bench_integrity.py [--seeds 10] [--days 30] [--first-seed 1] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from assets.integrity import REVIEWS, read_responses
from cxlake.generator import generate
from cxlake.integrity import GAIN_TEST, assess, load_config
from orchestration.runner import run_pipeline

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START = date(2026, 3, 2)


@dataclass(frozen=True)
class SeedResult:
    seed: int
    seconds: float
    stores: int
    store_found: bool
    honest_stores_flagged: int
    staff: int
    planted_staff: int
    planted_staff_judged: int
    planted_staff_found: int
    honest_staff_flagged: int
    planted_responses: int
    suspects: int
    suspects_planted: int
    store_reasons: str
    gain_change: float  # the gaming store's NPS change, earlier to later window, minus its peers'
    gain_p: float  # its one-sided p (before Holm); nan when not tested
    gain_hits_gaming: int  # of the gaming store and its planted staff, hit by the gain rule
    gain_hits_honest: int  # honest stores and staff hit by it


def gain_evidence(warehouse: Path) -> pd.DataFrame:
    """The gain rule's evidence rows for stores and staff, recomputed from the built warehouse as
    the integrity asset computes them (the marts keep only the reasons)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        responses, reviews = read_responses(connection), connection.execute(REVIEWS).df()
    evidence = assess(responses, load_config(), reviews).evidence
    gain_rules = [rule.id for rule in load_config().rules if rule.test == GAIN_TEST]
    return evidence[evidence["rule_id"].isin(gain_rules)].set_index("subject_id")


def run_seed(seed: int, days: int, folder: Path) -> SeedResult:
    started = time.perf_counter()
    landing = folder / "landing"
    generate(landing, scale="small", seed=seed, start=START, days=days, progress=False)
    outcome = run_pipeline(landing, folder / "warehouse.duckdb")
    if not outcome.success:
        raise RuntimeError(f"seed {seed}: the pipeline run failed")
    planted = json.loads((landing / "truth.json").read_text("utf-8"))["planted"]
    gaming_store, gaming_staff = planted["gaming_store_id"], set(planted["gaming_staff_ids"])
    gaming_keys = set(planted["gaming_response_keys"])
    minimum = load_config().min_responses["staff"]
    with duckdb.connect(str(outcome.serving_path), read_only=True) as connection:
        stores = connection.execute("select * from marts.mart_integrity_store").df()
        staff = connection.execute("select * from marts.mart_integrity_staff").df()
        suspects = {
            key
            for (key,) in connection.execute(
                "select response_key from marts.fct_survey_responses where is_suspect"
            ).fetchall()
        }
    gain = gain_evidence(folder / "warehouse.duckdb")
    hits = set(gain.index[gain["is_hit"]])
    gaming_row = gain.loc[gaming_store] if gaming_store in gain.index else None
    flagged_stores = set(stores.loc[stores["is_flagged"], "store_id"])
    flagged_staff = set(staff.loc[staff["is_flagged"], "staff_id"])
    judged = set(staff.loc[staff["responses"] >= minimum, "staff_id"])
    return SeedResult(
        seed=seed,
        seconds=time.perf_counter() - started,
        stores=len(stores),
        store_found=gaming_store in flagged_stores,
        honest_stores_flagged=len(flagged_stores - {gaming_store}),
        staff=len(staff),
        planted_staff=len(gaming_staff),
        planted_staff_judged=len(gaming_staff & judged),
        planted_staff_found=len(gaming_staff & flagged_staff),
        honest_staff_flagged=len(flagged_staff - gaming_staff),
        planted_responses=len(gaming_keys),
        suspects=len(suspects),
        suspects_planted=len(suspects & gaming_keys),
        store_reasons=stores.set_index("store_id").at[gaming_store, "reasons"],
        gain_change=float("nan")
        if gaming_row is None
        else float(gaming_row["statistic"] - gaming_row["peer_statistic"]),
        gain_p=float("nan") if gaming_row is None else float(gaming_row["p_value"]),
        gain_hits_gaming=len(hits & ({gaming_store} | gaming_staff)),
        gain_hits_honest=len(hits - ({gaming_store} | gaming_staff)),
    )


def thresholds_text() -> str:
    config = load_config()
    rules = "; ".join(
        f"{r.id} ({r.family}, {r.test}"
        + (f", diff >= {r.min_difference}, ratio >= {r.min_ratio}" if r.test == "share_vs_peers" else "")
        + (f", ratio <= {r.max_ratio}" if r.test == "variance_vs_peers" else "")
        + (f", >= {r.min_count} and share >= {r.min_share}" if r.test == "shared_device" else "")
        + (
            f", split {r.split}, >= {r.min_n} answers per window, gain >= {r.min_gain} points, "
            f"repeat within {r.repeat_within_days} days, behaviour n >= {r.min_behaviour_n}, "
            f"confirming behaviour p <= {r.confirm_p}"
            if r.test == GAIN_TEST
            else ""
        )
        + ")"
        for r in config.rules
    )
    return (
        f"min responses: store {config.min_responses['store']}, staff {config.min_responses['staff']}; "
        f"Holm alpha {config.alpha}, confirming p {config.support_p}, strong p {config.strong_p}, "
        f"min families {config.min_families}. Rules: {rules}."
    )


def report(results: list[SeedResult], days: int) -> str:
    lines = [
        "",
        f"## Survey integrity: planted gaming store and staff ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`python bench/bench_integrity.py` on {platform.node()} ({platform.machine()}): "
        f"{len(results)} seeds, small scale (30 stores), {days} days from {START}, whole pipeline per seed.",
        "",
        f"Thresholds (cxlake/config/integrity.yaml): {thresholds_text()}",
        "",
        "| seed | seconds | gaming store flagged | its reasons | honest stores flagged "
        "| planted staff flagged (judged) | honest staff flagged | suspect responses | of them planted "
        "| planted marked | gaming store's NPS gain vs peers (p) | gain rule hits: planted, honest |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.seed} | {r.seconds:.0f} | {'yes' if r.store_found else 'NO'} | {r.store_reasons} | "
            f"{r.honest_stores_flagged} of {r.stores - 1} | {r.planted_staff_found} of {r.planted_staff} "
            f"({r.planted_staff_judged}) | {r.honest_staff_flagged} of {r.staff - r.planted_staff} | "
            f"{r.suspects} | {r.suspects_planted} | {r.suspects_planted} of {r.planted_responses} | "
            f"{r.gain_change:+.1f} ({r.gain_p:.3f}) | {r.gain_hits_gaming}, {r.gain_hits_honest} |"
        )
    n = len(results)
    honest_stores = sum(r.stores - 1 for r in results)
    honest_staff = sum(r.staff - r.planted_staff for r in results)
    planted_staff = sum(r.planted_staff for r in results)
    judged_staff = sum(r.planted_staff_judged for r in results)
    found_staff = sum(r.planted_staff_found for r in results)
    suspects = sum(r.suspects for r in results)
    planted_responses = sum(r.planted_responses for r in results)
    marked = sum(r.suspects_planted for r in results)
    mean_gain = pd.Series([r.gain_change for r in results]).mean()  # seeds where it was measured
    lines += [
        "",
        f"Detection: gaming store flagged on {sum(r.store_found for r in results)} of {n} seeds; planted "
        f"staff flagged {found_staff} of {planted_staff} ({found_staff} of {judged_staff} with at least "
        f"{load_config().min_responses['staff']} countable answers, the minimum to be judged).",
        f"False flags: honest stores {sum(r.honest_stores_flagged for r in results)} of {honest_stores} "
        f"({sum(r.honest_stores_flagged for r in results) / max(honest_stores, 1):.3f}); honest staff "
        f"{sum(r.honest_staff_flagged for r in results)} of {honest_staff} "
        f"({sum(r.honest_staff_flagged for r in results) / max(honest_staff, 1):.4f}).",
        f"Suspect responses: recall {marked / max(planted_responses, 1):.3f} "
        f"({marked} of {planted_responses} planted gamed answers marked), "
        f"precision {marked / max(suspects, 1):.3f} ({suspects} marked).",
        f"Score gain without behaviour: the planted store or staff hit on "
        f"{sum(r.gain_hits_gaming > 0 for r in results)} of {n} seeds; honest stores and staff hit "
        f"{sum(r.gain_hits_honest for r in results)} of {honest_stores + honest_staff}; the gaming "
        f"store's NPS change against its peers' averaged {mean_gain:+.1f} points.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--no-write", action="store_true", help="print the result, do not append it")
    args = parser.parse_args()
    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        with tempfile.TemporaryDirectory(prefix=f"cxlake_integrity_{seed}_") as folder:
            results.append(run_seed(seed, args.days, Path(folder)))
        print(results[-1], flush=True)
    text = report(results, args.days)
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
