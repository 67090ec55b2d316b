"""Score any table of review texts: sentiment, keywords and aspects per row, on every core.

Each text is segmented once: the sentiment model's own preparation (normalised clauses, jieba
tokens) also gives the row's keyword tokens (only those travel back from a worker); aspects are
matched on characters (see :mod:`cxlake.text.aspects`). Big inputs go to a fork-based process
pool in chunks, in order; what the workers need (model, tokenizer, lexicon) is loaded once in the
parent before forking, so each worker starts warm and nothing is pickled but texts and results.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cxlake.delivered_files import decode_text
from cxlake.journey import Touchpoint, load_touchpoints
from cxlake.text.aspects import format_aspects, tag_normalised
from cxlake.text.keywords import build_idf_from_tokens, is_keyword, median_idf, top_tfidf
from cxlake.text.normalise import normalise
from cxlake.text.segment import split_clauses
from cxlake.text.sentiment import SEGMENT_HMM, SentimentModel, label, load_model, prepare

SCORE_COLUMNS = ("sentiment_score", "sentiment_label", "keywords", "aspects")
POOL_MIN_ROWS = 2_000  # below this a pool costs more than it saves
CHUNK_ROWS = 2_000
TOP_KEYWORDS = 5


class ScoringError(ValueError):
    """An input that cannot be scored; the message names the file and the reason, in one line."""


@dataclass(frozen=True)
class _Job:
    model: SentimentModel
    touchpoints: tuple[Touchpoint, ...]


@dataclass(frozen=True)
class _Scored:
    """One row's results before keywords, which need the IDF of the whole input."""

    probability: float | None
    keywords: list[str]  # the row's keyword tokens (is_keyword), in text order, repeats kept
    aspects: str


_JOB: _Job | None = None  # set in the parent before forking; the workers inherit it


def _score_chunk(texts: Sequence[str]) -> list[_Scored]:
    """Score one chunk with the job the process was forked with; empty texts get empty results."""
    assert _JOB is not None, "the scoring job is set before any chunk is scored"
    present = [i for i, text in enumerate(texts) if text.strip()]
    written = [texts[i] for i in present]
    results = [_Scored(None, [], "")] * len(texts)
    if not written:
        return results
    prepared = prepare(written)
    probabilities = _JOB.model.predict_prepared(prepared)
    tags = tag_normalised(prepared.normalised, _JOB.touchpoints, _JOB.model.predict_proba)
    for index, tokens, probability, tagged in zip(present, prepared.tokens, probabilities, tags, strict=True):
        results[index] = _Scored(float(probability), _keyword_tokens(tokens), format_aspects(tagged))
    return results


def _keyword_tokens(tokens: Sequence[str]) -> list[str]:
    """Only keywords count in the IDF and the ranking, so other tokens are dropped early."""
    return [token for token in tokens if is_keyword(token)]


def corpus_idf(texts: Iterable[str]) -> dict[str, float]:
    """The IDF of a whole corpus (all reviews, not one day's), segmented exactly as
    :func:`score_texts` segments, for its ``idf``: a word every day's reviews use then ranks low
    even in a batch where it is rare. Blank texts are not documents."""
    return build_idf_from_tokens(
        _keyword_tokens(
            [word for clause in split_clauses(normalise(text), hmm=SEGMENT_HMM) for word in clause]
        )
        for text in texts
        if text.strip()
    )


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def score_texts(
    texts: Sequence[str],
    model: SentimentModel | None = None,
    touchpoints: Sequence[Touchpoint] | None = None,
    workers: int | None = None,
    idf: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The four score columns for ``texts``, one row each, in order (all strings; blank for empty text).

    Keywords are each row's top TF-IDF words against ``idf`` (see :func:`corpus_idf`), by default
    the IDF of ``texts`` themselves (a file scored on its own).
    """
    global _JOB
    _JOB = _Job(model or load_model(), tuple(touchpoints if touchpoints is not None else load_touchpoints()))
    texts = list(texts)
    workers = workers or default_workers()
    try:
        if len(texts) < POOL_MIN_ROWS or workers < 2:
            scored = _score_chunk(texts)
        else:
            _score_chunk(["预热 warm-up"])  # tokenizer, converter and lexicon loaded once, before the fork
            chunks = [texts[i : i + CHUNK_ROWS] for i in range(0, len(texts), CHUNK_ROWS)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                scored = [row for chunk in pool.imap(_score_chunk, chunks) for row in chunk]
    finally:
        _JOB = None
    if idf is None:
        idf = build_idf_from_tokens(row.keywords for row in scored if row.probability is not None)
    unseen = median_idf(idf)
    return pd.DataFrame(
        {
            "sentiment_score": ["" if r.probability is None else f"{r.probability:.4f}" for r in scored],
            "sentiment_label": ["" if r.probability is None else label(r.probability) for r in scored],
            "keywords": [" ".join(top_tfidf(r.keywords, idf, TOP_KEYWORDS, unseen)) for r in scored],
            "aspects": [r.aspects for r in scored],
        },
        dtype="string",
    )


def score_frame(frame: pd.DataFrame, text_column: str, **options) -> pd.DataFrame:
    """``frame`` with the score columns appended (replaced if it already has them), rows in order."""
    if text_column not in frame.columns:
        raise ScoringError(f"no column {text_column!r}; columns: {', '.join(map(str, frame.columns))}")
    scores = score_texts(frame[text_column].fillna("").astype(str).tolist(), **options)
    scores.index = frame.index
    out = frame.copy()
    for column in SCORE_COLUMNS:
        out[column] = scores[column]
    return out


def read_text_csv(path: Path) -> pd.DataFrame:
    """Every column as text, exactly as written (UTF-8, UTF-8 with BOM, UTF-16 or GB18030, detected)."""
    text = decode_text(path.read_bytes(), path)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ScoringError(f"{path}: {' '.join(str(error).split())}") from None


def score_file(input_path: Path, text_column: str, out_path: Path, encoding: str = "utf-8", **options) -> int:
    """Score ``input_path`` into ``out_path`` (written in ``encoding``); returns the number of rows."""
    frame = read_text_csv(input_path)
    try:
        scored = score_frame(frame, text_column, **options)
    except ScoringError as error:
        raise ScoringError(f"{input_path}: {error}") from None
    data = scored.to_csv(index=False, lineterminator="\n")
    try:
        encoded = data.encode(encoding)
    except LookupError:
        raise ScoringError(f"unknown output encoding {encoding!r}") from None
    except UnicodeEncodeError as error:
        raise ScoringError(f"{out_path}: {encoding} cannot encode {error.object[error.start]!r}") from None
    out_path.write_bytes(encoded)
    return len(scored)
