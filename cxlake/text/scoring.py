"""Score any table of review texts: sentiment, keywords and aspects per row, on every core.

Each text is segmented once: its jieba tokens feed the sentiment model, the row's keywords (only
those travel back from a worker) and the model's reading of the aspect clauses that have no
polarity word (aspects are matched on characters, see :mod:`cxlake.text.aspects`). Big inputs go
to a fork-based process pool in chunks, in order; what the workers need (model, tokenizer,
lexicon) is loaded once in the parent before forking, and the parent's objects are frozen out of
the garbage collector first, so each worker starts warm, does not copy the parent's memory by
touching it, and nothing is pickled but texts and results.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cxlake.delivered_files import decode_text
from cxlake.exports import OutputEncodingError, write_csv
from cxlake.journey import Touchpoint, load_touchpoints
from cxlake.text.aspects import CONTRAST_WORDS, Fallback, format_aspects, rules_identity, tag_normalised
from cxlake.text.keywords import (
    DocumentFrequency,
    build_idf_from_tokens,
    contact_details,
    is_contact_piece,
    is_keyword,
    median_idf,
    rank_keywords,
)
from cxlake.text.normalise import normalise
from cxlake.text.segment import split_clauses
from cxlake.text.sentiment import SEGMENT_HMM, SentimentModel, label, load_model, prepare_segmented

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
    keywords: Counter[str]  # how often the row uses each keyword (is_keyword), first seen first
    aspects: str


_JOB: _Job | None = None  # set in the parent before forking; the workers inherit it


def _default_signals() -> None:
    """A forked worker starts with the parent's signal handlers. In a Dagster step those defer
    SIGTERM (raise_interrupts_as), so the pool's terminate() could not stop a worker waiting for
    work and the run hung at its end; a worker dies on SIGTERM and leaves Ctrl-C to the parent."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _score_chunk(texts: Sequence[str]) -> list[_Scored]:
    """Score one chunk with the job the process was forked with; empty texts get empty results.

    The cycle collector is paused meanwhile: scoring makes millions of small objects and no
    cycles, and each collection it triggered walked the whole heap for nothing (about a tenth of the time).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _score_texts_of_chunk(texts)
    finally:
        if paused:
            gc.enable()


def _score_texts_of_chunk(texts: Sequence[str]) -> list[_Scored]:
    assert _JOB is not None, "the scoring job is set before any chunk is scored"
    present = [i for i, text in enumerate(texts) if text.strip()]
    written = [texts[i] for i in present]
    results = [_Scored(None, Counter(), "")] * len(texts)
    if not written:
        return results
    normalised = [normalise(text) for text in written]
    clauses = [split_clauses(text, hmm=SEGMENT_HMM) for text in normalised]
    prepared = prepare_segmented(normalised, clauses, _JOB.model.families)
    probabilities = _JOB.model.predict_prepared(prepared)
    fallback = _clause_probability(_JOB.model, _pieces_between_contrasts(clauses))
    tags = tag_normalised(normalised, _JOB.touchpoints, fallback)
    for index, text, tokens, probability, tagged in zip(
        present, written, prepared.tokens, probabilities, tags, strict=True
    ):
        keywords = Counter(_keyword_tokens(tokens, contact_details(text)))
        results[index] = _Scored(float(probability), keywords, format_aspects(tagged))
    return results


def _pieces_between_contrasts(clauses: Sequence[Sequence[list[str]]]) -> dict[str, list[str]]:
    """The tokens of each clause piece between contrast words (好吃 | 但是 | 太慢了), keyed by the
    piece's text: the aspect tagger cuts its clauses at the same words, so this finds their tokens."""
    pieces: dict[str, list[str]] = {}
    for text_clauses in clauses:
        for clause in text_clauses:
            piece: list[str] = []
            for token in clause:
                if token not in CONTRAST_WORDS:
                    piece.append(token)
                elif piece:
                    pieces["".join(piece)] = piece
                    piece = []
            if piece:
                pieces["".join(piece)] = piece
    return pieces


def _clause_probability(model: SentimentModel, known: dict[str, list[str]]) -> Fallback:
    """The aspect tagger's fallback: P(positive) of clauses, from tokens already cut where the
    clause is a known piece (nearly always), else segmenting the clause."""

    def probability(aspect_clauses: list[str]) -> np.ndarray:
        segmented = [
            [known[clause]] if clause in known else split_clauses(clause, hmm=SEGMENT_HMM)
            for clause in aspect_clauses
        ]
        return model.predict_prepared(prepare_segmented(aspect_clauses, segmented, model.families))

    return probability


def _keyword_tokens(tokens: Sequence[str], contact_details: Sequence[str] = ()) -> list[str]:
    """Only keywords count in the IDF and the ranking, so other tokens are dropped early; so is a
    piece of a contact detail (:func:`cxlake.text.keywords.is_contact_piece`)."""
    return [token for token in tokens if is_keyword(token) and not is_contact_piece(token, contact_details)]


def rules_version(touchpoints: Sequence[Touchpoint] | None = None) -> str:
    """``rules-<hash>`` of everything besides the model that decides a row's scores: the word lists
    in ``cxlake/text/lexicons`` (domain dictionary, stopwords, negations, HowNet), the aspect
    tagger's rules and the journey map's aspect keywords. The pipeline rescores a text scored
    under other rules, as it does for another model version."""
    touchpoints = touchpoints if touchpoints is not None else load_touchpoints()
    lexicons = resources.files("cxlake.text").joinpath("lexicons")
    word_lists = sorted((f.name, f.read_text(encoding="utf-8")) for f in lexicons.iterdir() if f.is_file())
    contact_rules = resources.files("cxlake.access").joinpath("pii.py").read_text(encoding="utf-8")
    identity = [
        word_lists,
        hashlib.sha256(contact_rules.encode()).hexdigest(),  # what keywords leave out
        rules_identity(),
        [(tp.id, list(tp.review_aspect_keywords)) for tp in touchpoints],
        TOP_KEYWORDS,
        SEGMENT_HMM,
    ]
    digest = hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
    return f"rules-{digest[:12]}"


def default_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def score_texts(
    texts: Sequence[str],
    model: SentimentModel | None = None,
    touchpoints: Sequence[Touchpoint] | None = None,
    workers: int | None = None,
    background: DocumentFrequency | None = None,
    with_terms: bool = False,
) -> pd.DataFrame:
    """The four score columns for ``texts``, one row each, in order (all strings; blank for empty text).

    Keywords are each row's top TF-IDF words against the IDF of ``texts`` plus the ``background``
    documents (the rest of a corpus, from :func:`document_frequency` of its ``keyword_terms``), so
    a day's batch ranks its words against every review, not against the day alone. ``with_terms``
    adds ``keyword_terms``: each row's keywords, each as often as the text uses it, in first-seen
    order (blank text: <NA>, as it is no document): what a corpus-wide ranking needs, kept per text.
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
            gc.freeze()  # a worker's collector then never walks, and so never copies, the parent's objects
            try:
                pool = multiprocessing.get_context("fork").Pool(workers, initializer=_default_signals)
                with pool:
                    scored = [row for chunk in pool.imap(_score_chunk, chunks) for row in chunk]
                    pool.close()  # workers end on their own once the queue is empty: no terminate()
                    pool.join()
            finally:
                gc.unfreeze()
    finally:
        _JOB = None
    idf = build_idf_from_tokens((row.keywords for row in scored if row.probability is not None), background)
    unseen = median_idf(idf)
    columns = {
        "sentiment_score": ["" if r.probability is None else f"{r.probability:.4f}" for r in scored],
        "sentiment_label": ["" if r.probability is None else label(r.probability) for r in scored],
        "keywords": [" ".join(rank_keywords(r.keywords, idf, TOP_KEYWORDS, unseen)) for r in scored],
        "aspects": [r.aspects for r in scored],
    }
    if with_terms:
        columns["keyword_terms"] = [
            None if r.probability is None else " ".join(r.keywords.elements()) for r in scored
        ]
    return pd.DataFrame(columns, dtype="string")


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
    try:
        write_csv(scored, out_path, encoding)
    except OutputEncodingError as error:
        raise ScoringError(str(error)) from None
    return len(scored)
