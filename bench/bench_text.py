"""Benchmark: reviews per second through the text pipeline, against bare jieba in the same run.

Builds a 40k-row CSV from the two real corpora (both, repeated as needed, shuffled with a seed),
then times on the same texts:
  bare jieba        jieba.lcut of each text (jieba's own dictionary), two forked workers
  text pipeline     cxlake.text.scoring.score_texts: normalise, segment, sentiment model,
                    aspects with model fallback, keywords; two forked workers
  score-reviews     the command end to end in a fresh process: imports, model load, read the
                    CSV, score, write the CSV
The goal: the pipeline at 0.7x or more of bare jieba, score-reviews at 3,000 rows/s or more.
Other engineers share these 2 cores, and one timing swings by a tenth or more either way, so the
three are timed ``--rounds`` times, interleaved (jieba, pipeline, command, jieba, ...), and each
one's best round is reported (as timeit does), with every round's ratio beside it. Replaces its
section of bench/RESULTS.md (the machine's load average, taken just before, is in it).

    python bench/bench_text.py [--rows 40000] [--rounds 3] [--data ../shared/data/reviews]
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import jieba
from eval_sentiment import load_line, replace_section  # bench/ is on sys.path when run as a script

from cxlake.text.scoring import default_workers, score_texts
from cxlake.text.sentiment import load_model

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Review text pipeline vs bare jieba"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reviews"
CORPORA = ("waimai_10k.csv", "ChnSentiCorp_htl_all.csv")
SEED = 20261123
CLI = (  # the command alone, without loading the other commands
    "import typer; from cxlake.cli.text import score_reviews_command; typer.run(score_reviews_command)"
)


def build_texts(data: Path, rows: int) -> list[str]:
    """``rows`` reviews: both corpora in full, repeated, shuffled."""
    reviews: list[str] = []
    for name in CORPORA:
        with (data / name).open(encoding="utf-8", newline="") as handle:
            reviews += [row["review"] for row in csv.DictReader(handle)]
    texts = (reviews * (rows // len(reviews) + 1))[:rows]
    random.Random(SEED).shuffle(texts)
    return texts


def _lcut_chunk(texts: list[str]) -> int:
    return sum(len(jieba.lcut(text)) for text in texts)


def bare_jieba(texts: list[str], workers: int) -> float:
    """Seconds for jieba.lcut over ``texts`` on ``workers`` forked processes (dictionary loaded first)."""
    jieba.initialize()
    started = time.perf_counter()
    chunks = [texts[i : i + 2_000] for i in range(0, len(texts), 2_000)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        sum(pool.imap(_lcut_chunk, chunks))
    return time.perf_counter() - started


def pipeline(texts: list[str], workers: int) -> float:
    load_model()
    score_texts(texts[:50], workers=1)  # warm: tokenizer, converter, lexicon
    started = time.perf_counter()
    score_texts(texts, workers=workers)
    return time.perf_counter() - started


def end_to_end(texts: list[str], scratch: Path) -> float:
    source, out = scratch / "reviews.csv", scratch / "scored.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review_id", "review"])
        writer.writerows((f"R{i:06d}", text) for i, text in enumerate(texts))
    started = time.perf_counter()
    command = [sys.executable, "-c", CLI, str(source), "--text-column", "review", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load = load_line()
    workers = min(2, default_workers())
    texts = build_texts(args.data, args.rows)
    chars = sum(len(t) for t in texts)
    timings: dict[str, list[float]] = {"jieba": [], "pipeline": [], "cli": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.rounds):
            timings["jieba"].append(bare_jieba(texts, workers))
            timings["pipeline"].append(pipeline(texts, workers))
            timings["cli"].append(end_to_end(texts, Path(scratch)))
    jieba_seconds, pipeline_seconds, cli_seconds = (min(timings[k]) for k in ("jieba", "pipeline", "cli"))
    round_ratios = ", ".join(
        f"{jieba / piped:.2f}" for jieba, piped in zip(timings["jieba"], timings["pipeline"], strict=True)
    )
    rows = len(texts)
    lines = [
        f"{HEADING}: {rows:,} reviews ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        f"Machine: {platform.machine()}, {default_workers()} cores, Python {platform.python_version()}, "
        f"jieba {jieba.__version__}; {workers} forked workers; sentiment model {load_model().version}; "
        f"load average {load} just before the run (other engineers share the cores).",
        f"Data: {' + '.join(CORPORA)} repeated and shuffled (seed {SEED}), {chars / rows:.0f} characters "
        "per review on average.",
        "",
        "| what | seconds | reviews/s | ratio to bare jieba |",
        "| --- | ---: | ---: | ---: |",
        f"| bare `jieba.lcut` | {jieba_seconds:.1f} | {rows / jieba_seconds:,.0f} | 1.00 |",
        f"| text pipeline (`score_texts`: sentiment, aspects, keywords) | {pipeline_seconds:.1f} "
        f"| {rows / pipeline_seconds:,.0f} | {jieba_seconds / pipeline_seconds:.2f} |",
        f"| `cxlake score-reviews` end to end (new process, read + score + write CSV) | {cli_seconds:.1f} "
        f"| {rows / cli_seconds:,.0f} | {jieba_seconds / cli_seconds:.2f} |",
        "",
        f"Best of {args.rounds} interleaved rounds each; the pipeline's ratio to bare jieba round by round: "
        f"{round_ratios}.",
        "Goals: the pipeline at 0.7x of bare jieba or better; score-reviews at 3,000 rows/s or more.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    replace_section(HEADING, report)


if __name__ == "__main__":
    main()
