"""Keywords of a group of reviews (a store, a touchpoint, a week): TF-IDF, TextRank and trends.

Pure functions over texts and counts; the pipeline decides the grouping. Both extractors read
the domain segmentation (:func:`cxlake.text.segment.tokens`: domain dictionary, normalised text,
stopwords removed): TF-IDF through jieba.analyse, TextRank as jieba.analyse counts and ranks, split
into per-review counts the pipeline stores and a ranking of any group's summed counts. Both keep
every content word, not only nouns: in reviews the adjectives (好吃, 难喝) are the point. As in
jieba.analyse, one-character words are not keywords, nor are negations and degree adverbs (不太,
有点: they say nothing alone), nor tokens without a letter (digits). The IDF comes from the
reviews themselves (:func:`build_idf`), since jieba's shipped IDF was counted on news text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from cxlake.access.pii import find_contacts
from cxlake.text.normalise import normalise
from cxlake.text.segment import DEGREE_WORDS, NEGATIONS, STOPWORDS, tokens

# jieba.analyse.TextRank's settings: a word links to the keywords among the next span - 1 words;
# its rank is ten sweeps of damped PageRank.
TEXTRANK_SPAN = 5
_TEXTRANK_SWEEPS = 10
_TEXTRANK_DAMPING = 0.85
# Modifiers of the next word: kept in tokens() for the sentiment features, never keywords themselves.
_MODIFIERS = NEGATIONS | DEGREE_WORDS.keys()


class _DomainTokenizer:
    """Gives jieba.analyse.TFIDF our segmentation (keywords only) instead of jieba's global tokenizer."""

    def cut(self, sentence: str) -> Iterator[str]:
        return iter([w for w in tokens(sentence) if is_keyword(w)])


@lru_cache(maxsize=1)
def _analyse():
    """jieba.analyse, imported when first used: its import loads jieba's news IDF and POS tagger
    (about 1.5 s), which per-row scoring does not need."""
    import jieba.analyse

    return jieba.analyse


@lru_cache(maxsize=1)
def _review_tfidf() -> type:
    class ReviewTFIDF(_analyse().TFIDF):
        """jieba.analyse.TFIDF with our IDF and segmentation (its own __init__ reads the news IDF)."""

        def __init__(self, idf: Mapping[str, float]) -> None:  # no super(): it would load the news IDF
            self.tokenizer = _DomainTokenizer()
            self.stop_words = set(STOPWORDS)
            self.idf_freq = dict(idf)
            self.median_idf = median_idf(idf)

    return ReviewTFIDF


@lru_cache(maxsize=1 << 16)  # called once per token; a corpus has far fewer distinct words
def is_keyword(word: str) -> bool:
    """jieba.analyse's rule (two characters or more, not a stopword), and not a negation or degree
    adverb, and at least one letter (so no digits-only token; CJK characters are letters)."""
    word = word.strip().lower()
    return (
        len(word) >= 2
        and word not in STOPWORDS
        and word not in _MODIFIERS
        and any(char.isalpha() for char in word)
    )


@dataclass(frozen=True)
class DocumentFrequency:
    """How many documents use each word, out of how many: the counts behind an IDF, kept so that a
    corpus's IDF can take in a new batch without segmenting the corpus again."""

    documents: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)


def document_frequency(documents: Iterable[Iterable[str]]) -> DocumentFrequency:
    """Counts over already segmented documents (a word counts once per document)."""
    counts: Counter[str] = Counter()
    total = 0
    for words in documents:
        total += 1
        counts.update(set(words))
    return DocumentFrequency(total, counts)


def build_idf_from_tokens(
    documents: Iterable[Sequence[str]], background: DocumentFrequency | None = None
) -> dict[str, float]:
    """Smoothed IDF, log((1 + n) / (1 + df)) + 1, over already segmented documents plus the
    ``background`` documents' counts."""
    batch = document_frequency(documents)
    frequency = Counter(background.counts) if background else Counter()
    frequency.update(batch.counts)
    count = batch.documents + (background.documents if background else 0)
    return {word: math.log((1 + count) / (1 + df)) + 1.0 for word, df in frequency.items()}


def build_idf(texts: Iterable[str]) -> dict[str, float]:
    """IDF of each word over ``texts`` (one document per text)."""
    return build_idf_from_tokens(tokens(text) for text in texts)


def top_tfidf(words: Sequence[str], idf: Mapping[str, float], top_k: int, default_idf: float) -> list[str]:
    """The ``top_k`` keywords of one segmented text, ranked as jieba.analyse.TFIDF ranks them
    (count x IDF, first seen first on ties); a word missing from ``idf`` gets ``default_idf``."""
    return rank_keywords(Counter(w for w in words if is_keyword(w)), idf, top_k, default_idf)


def rank_keywords(
    counts: Mapping[str, int], idf: Mapping[str, float], top_k: int, default_idf: float
) -> list[str]:
    """:func:`top_tfidf` for a text's keyword counts (in first-seen order) already taken."""
    ranked = sorted(counts, key=lambda w: counts[w] * idf.get(w, default_idf), reverse=True)
    return ranked[:top_k]


def median_idf(idf: Mapping[str, float]) -> float:
    """jieba.analyse's default for unseen words (the upper median, as jieba computes it)."""
    return sorted(idf.values())[len(idf) // 2] if idf else 1.0


def tfidf_keywords(texts: Iterable[str], idf: Mapping[str, float], top_k: int = 20) -> list[str]:
    """Top TF-IDF keywords of a group of reviews (jieba.analyse.TFIDF with ``idf`` and our segmentation)."""
    return _review_tfidf()(idf).extract_tags("\n".join(texts), topK=top_k)


def contact_details(text: str) -> list[str]:
    """The phone numbers, e-mail addresses and chat ids a customer wrote into ``text``, found in the
    text as written (normalising drops the @ and _ that tell them) and normalised like the tokens."""
    return [normalise(text[found.start : found.end]).lower() for found in find_contacts(text)]


def is_contact_piece(word: str, details: Sequence[str]) -> bool:
    """Whether ``word`` is a piece of one of ``details`` (`zhangsan` of zhangsan@163.com): such a
    piece is never a keyword, as keyword lists and central words would leak what masked text hides."""
    return any(word.lower() in detail for detail in details)


def review_cooccurrences(text: str, span: int = TEXTRANK_SPAN) -> Counter[tuple[str, str]]:
    """TextRank's edges of one review: how often each keyword is followed by another keyword
    (itself included) less than ``span`` words later on the same line, counted as
    jieba.analyse.TextRank counts them. A word that is no keyword (a negation, one character, a
    piece of a contact detail) keeps its place in the window but is no node; a stopword has no place.

    Depends on the text alone, so the pipeline stores it per review and a page sums any group's
    (:func:`central_words`); the sum over a group equals TextRank's counts over the group's texts,
    since no edge crosses from one review to the next."""
    details = contact_details(text)
    pairs: Counter[tuple[str, str]] = Counter()
    for line in text.split("\n"):
        words = [w if is_keyword(w) and not is_contact_piece(w, details) else None for w in tokens(line)]
        for position, word in enumerate(words):
            if word is None:
                continue
            for other in words[position + 1 : position + span]:
                if other is not None:
                    pairs[(word, other)] += 1
    return pairs


def central_words(cooccurrences: Mapping[tuple[str, str], int], top_k: int = 20) -> list[str]:
    """The ``top_k`` words of highest TextRank over ``cooccurrences`` ((word, following word) ->
    count, as :func:`review_cooccurrences` gives and sums), best first, ties by word.

    jieba.analyse.TextRank's ranking (its UndirectWeightedGraph.rank: an undirected graph whose edge
    weights are the counts, ten in-place sweeps over the words in sorted order, damping 0.85),
    restated here so that a page ranks a summed graph without importing jieba.analyse (which
    loads jieba's news IDF and tagger, about a second). Edges are added in sorted order, so the
    same counts give the same floats however they were summed."""
    neighbours: dict[str, list[tuple[str, float]]] = {}
    for (word, other), count in sorted(cooccurrences.items()):
        neighbours.setdefault(word, []).append((other, float(count)))
        neighbours.setdefault(other, []).append((word, float(count)))
    if not neighbours:
        return []
    weight_sums = {word: sum(weight for _, weight in edges) for word, edges in neighbours.items()}
    rank = dict.fromkeys(neighbours, 1.0 / len(neighbours))
    order = sorted(neighbours)
    for _ in range(_TEXTRANK_SWEEPS):
        for word in order:
            rank[word] = (1 - _TEXTRANK_DAMPING) + _TEXTRANK_DAMPING * sum(
                weight / weight_sums[other] * rank[other] for other, weight in neighbours[word]
            )
    return sorted(rank, key=lambda word: (-rank[word], word))[:top_k]


def textrank_keywords(texts: Iterable[str], top_k: int = 20) -> list[str]:
    """Top TextRank keywords of a group of reviews (jieba.analyse.TextRank's counts and ranking over
    our segmentation); words co-occur only within one review."""
    total: Counter[tuple[str, str]] = Counter()
    for text in texts:
        total.update(review_cooccurrences(text))
    return central_words(total, top_k)


@dataclass(frozen=True)
class PeriodCounts:
    """A period's reviews with a text, and how many of them name each keyword: :func:`trending`'s input."""

    reviews: int
    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reviews < 0:
            raise ValueError(f"a period has {self.reviews} reviews; it cannot have fewer than none")
        for word, count in self.counts.items():
            if not 0 <= count <= self.reviews:
                raise ValueError(
                    f"keyword {word!r}: {count} reviews name it, of {self.reviews} in the period"
                )


def keyword_counts(texts: Iterable[str]) -> PeriodCounts:
    """How many of ``texts`` use each keyword (a text counts once per word), out of how many texts."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        counts.update({w for w in tokens(text) if is_keyword(w)})
    return PeriodCounts(total, counts)


TRENDING_COLUMNS = ("keyword", "current", "previous", "current_share", "previous_share", "lift", "p_value")


def trending(
    current: PeriodCounts,
    previous: PeriodCounts,
    min_count: int = 3,
    false_discovery_rate: float = 0.05,
) -> pd.DataFrame:
    """Keywords named by a larger share of this period's reviews than of the previous period's,
    beyond what chance gives, most lifted first (ties by keyword).

    A word's share is the reviews naming it over the period's reviews, so a busier period lifts
    no word, and a word as common before as now (咖啡 for a coffee chain) has a lift near 1 and is
    no trend however often it is used. Each word named in at least ``min_count`` reviews this
    period is tested: ``p_value`` is a one-sided Fisher exact test (are its reviews drawn more
    from this period than the two periods' sizes say?), adjusted by Benjamini-Hochberg over the
    words tested, and the words kept are those at or under ``false_discovery_rate``. ``lift``
    is the ratio of the shares, each smoothed by half a review so that a word new this period
    has a finite lift and a word seen in one review before is not lifted a hundredfold.

    A previous period without reviews gives nothing to compare with: ValueError, which callers
    show as such instead of lifting every word from zero.
    """
    if previous.reviews == 0:
        raise ValueError("the previous period has no reviews: there is nothing to compare with")
    tested = sorted(word for word, count in current.counts.items() if count >= min_count)
    now = np.array([current.counts[word] for word in tested], dtype=np.int64)
    before = np.array([previous.counts.get(word, 0) for word in tested], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "keyword": pd.array(tested, dtype="string"),
            "current": now,
            "previous": before,
            "current_share": now / current.reviews if current.reviews else np.zeros(len(tested)),
            "previous_share": before / previous.reviews,
            "lift": ((now + 0.5) / (current.reviews + 1)) / ((before + 0.5) / (previous.reviews + 1)),
            "p_value": _benjamini_hochberg(_fisher_greater(now, before, current.reviews, previous.reviews)),
        },
        columns=list(TRENDING_COLUMNS),
    )
    rising = frame[(frame["p_value"] <= false_discovery_rate) & (frame["lift"] > 1)]
    return rising.sort_values(["lift", "keyword"], ascending=[False, True], ignore_index=True)


def _fisher_greater(now: np.ndarray, before: np.ndarray, reviews_now: int, reviews_before: int) -> np.ndarray:
    """One-sided Fisher exact p-values: P(at least ``now`` of a word's reviews fall in this period)
    when its ``now + before`` reviews are drawn without replacement from both periods' reviews."""
    from scipy.stats import hypergeom  # only when trends are asked for: scipy.stats takes a moment to import

    if len(now) == 0:
        return np.zeros(0)
    return hypergeom.sf(now - 1, reviews_now + reviews_before, now + before, reviews_now)


def _benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """p-values adjusted for testing many words at once (Benjamini-Hochberg step-up, capped at 1)."""
    count = len(p_values)
    if count == 0:
        return p_values
    order = np.argsort(p_values)
    scaled = p_values[order] * count / np.arange(1, count + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty(count)
    result[order] = np.minimum(adjusted, 1.0)
    return result
