"""The shipped review-sentiment model: load it once, score many texts at once.

The model file is a joblib dict of fitted scikit-learn parts plus a JSON metadata file beside it
(version, scikit-learn version, training-data checksums, evaluation metrics). Pickles are only
safe to load with the scikit-learn minor version that wrote them, so :func:`load_model` refuses
any other. The model is an ensemble of separately calibrated parts (pivot-word LR, HowNet
score LR; see cxlake.text.training) whose probabilities are averaged. Each text is normalised and
segmented once, by :func:`prepare`, for every part; callers that need the tokens too (keywords)
use :meth:`SentimentModel.predict_prepared` on the same :class:`Prepared`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import joblib
import numpy as np
import sklearn

from cxlake.text.normalise import normalise
from cxlake.text.segment import DEGREE_WORDS, NEGATIONS, split_clauses

MODEL_NAME = "sentiment.joblib"
NEGATION_SCOPE = 3  # tokens after a negation word that are read as negated
_NEGATED = "¬"
_LOCK = threading.Lock()


class ModelVersionError(RuntimeError):
    """The model file was written by a scikit-learn minor version other than the installed one."""


@lru_cache(maxsize=1)
def hownet_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """HowNet positive and negative words (in ``cxlake/text/lexicons``; source in the file headers)."""
    lists = []
    for name in ("hownet_pos.txt", "hownet_neg.txt"):
        text = resources.files("cxlake.text").joinpath("lexicons", name).read_text(encoding="utf-8")
        lists.append(frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")))
    return lists[0], lists[1]


SEGMENT_HMM = False  # jieba without its HMM: a third faster, and the model is trained on the same cut
LEXICON_COLUMNS = ("positive", "negative", "last_positive", "last_negative")


@lru_cache(maxsize=1)
def pivot_words() -> frozenset[str]:
    """Words that carry feeling in any service domain: HowNet's, the aspect tagger's polarity words,
    negations and degree adverbs. Topic nouns (房间, 外卖) are left out: their priors do not transfer."""
    from cxlake.text.aspects import POLARITY

    positive, negative = hownet_lexicon()
    return positive | negative | frozenset(POLARITY) | NEGATIONS | frozenset(DEGREE_WORDS)


@dataclass
class Prepared:
    """One segmentation of each text, shared by every feature family and by keyword extraction."""

    normalised: list[str] = field(default_factory=list)  # each text through normalise()
    tokens: list[list[str]] = field(default_factory=list)  # plain tokens, punctuation gone, in order
    words: list[str] = field(default_factory=list)  # negation-marked tokens, "|" ends a clause
    pivots: list[str] = field(default_factory=list)  # the sentiment-bearing subset of ``words``
    chars: list[str] = field(default_factory=list)  # normalised clauses joined by spaces
    lexicon: np.ndarray = field(default_factory=lambda: np.zeros((0, len(LEXICON_COLUMNS))))

    def subset(self, index: Sequence[int]) -> Prepared:
        """The rows at ``index`` (cross-validation folds); a family left unbuilt stays empty."""

        def rows(values: list) -> list:
            return [values[i] for i in index] if values else []

        return Prepared(
            normalised=rows(self.normalised),
            tokens=rows(self.tokens),
            words=rows(self.words),
            pivots=rows(self.pivots),
            chars=rows(self.chars),
            lexicon=self.lexicon[np.asarray(index, dtype=int)],
        )


def _read_clause(clause: list[str], marked: list[str], pivots: list[str]) -> tuple[float, float]:
    """Mark negated tokens, collect pivots, and return the clause's HowNet positive and negative scores
    (each word weighted by the degree adverb before it, its polarity flipped by a negation)."""
    positive, negative = hownet_lexicon()
    pivot = pivot_words()
    score_pos = score_neg = 0.0
    negated_left = 0
    degree = 1.0
    for token in clause:
        if token in NEGATIONS:
            negated_left = NEGATION_SCOPE
            marked.append(token)
            pivots.append(token)
            continue
        if token in DEGREE_WORDS:
            degree = DEGREE_WORDS[token]
            marked.append(token)
            pivots.append(token)
            continue
        polarity = (token in positive) - (token in negative)
        if negated_left:
            token = _NEGATED + token
            polarity = -polarity
            negated_left -= 1
        marked.append(token)
        if polarity or token.removeprefix(_NEGATED) in pivot:
            pivots.append(token)
        if polarity > 0:
            score_pos += degree
        elif polarity < 0:
            score_neg += degree
        if polarity:
            degree = 1.0
    marked.append("|")
    return score_pos, score_neg


def prepare(texts: Sequence[str]) -> Prepared:
    """Normalise and segment each text once (one jieba call per text), then read it clause by clause
    (see :func:`prepare_segmented`)."""
    normalised = [normalise(text or "") for text in texts]
    return prepare_segmented(normalised, [split_clauses(text, hmm=SEGMENT_HMM) for text in normalised])


def prepare_segmented(
    normalised: Sequence[str],
    clauses: Sequence[Sequence[list[str]]],
    families: Collection[str] = ("words", "chars"),
) -> Prepared:
    """:func:`prepare` for texts already segmented into clauses by :func:`split_clauses` with
    :data:`SEGMENT_HMM`, so a caller holding the tokens (the scoring pipeline's aspect clauses)
    does not pay for jieba twice. Of the optional text families, only those in ``families`` are
    built (a model that reads neither, as :attr:`SentimentModel.families` says, saves their joins);
    tokens, pivots and lexicon scores always are.

    Lexicon columns (:data:`LEXICON_COLUMNS`): HowNet positive and negative scores of the text and
    of its last clause (the verdict often comes last). No length column: how long reviews run
    depends on the domain, not on the feeling.
    """
    prepared = Prepared(lexicon=np.zeros((len(normalised), len(LEXICON_COLUMNS))))
    for row, (text, text_clauses) in enumerate(zip(normalised, clauses, strict=True)):
        marked: list[str] = []
        pivots: list[str] = []
        plain: list[str] = []
        score_pos = score_neg = last_pos = last_neg = 0.0
        for clause in text_clauses:
            plain += clause
            last_pos, last_neg = _read_clause(clause, marked, pivots)
            score_pos += last_pos
            score_neg += last_neg
        prepared.normalised.append(text)
        prepared.tokens.append(plain)
        if "words" in families:
            prepared.words.append(" ".join(marked))
        prepared.pivots.append(" ".join(pivots))
        if "chars" in families:
            prepared.chars.append(" ".join("".join(clause) for clause in text_clauses))
        prepared.lexicon[row] = (score_pos, score_neg, last_pos, last_neg)
    return prepared


def family_input(prepared: Prepared, family: str):
    """What one feature family's pipeline reads: a list of strings, or the lexicon matrix."""
    return getattr(prepared, family)


def part_probability(part: dict, prepared: Prepared) -> np.ndarray:
    """One calibrated part: its pipeline's decision value through its Platt scaling."""
    decision = part["pipeline"].decision_function(family_input(prepared, part["family"]))
    return part["platt"].predict_proba(decision.reshape(-1, 1))[:, 1]


def shift_threshold(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Move a probability so that ``threshold`` lands on 0.5, keeping :func:`label`'s cut fixed."""
    p = np.clip(probability, 1e-9, 1 - 1e-9)
    logit = np.log(p / (1 - p)) - np.log(threshold / (1 - threshold))
    return 1.0 / (1.0 + np.exp(-logit))


@dataclass
class SentimentModel:
    """Fitted parts plus their metadata; ``predict_proba`` is the probability that a text is positive."""

    parts: dict
    metadata: dict

    @property
    def version(self) -> str:
        return self.metadata["version"]

    @property
    def families(self) -> frozenset[str]:
        """The feature families the parts read (see :class:`Prepared`)."""
        return frozenset(part["family"] for part in self.parts["parts"])

    def predict_prepared(self, prepared: Prepared) -> np.ndarray:
        """Probability of positive for texts already through :func:`prepare`: the mean of the
        calibrated parts, moved so the training-time cut lands on 0.5."""
        if not prepared.tokens:
            return np.zeros(0)
        probability = np.mean([part_probability(part, prepared) for part in self.parts["parts"]], axis=0)
        return shift_threshold(probability, self.parts["threshold"])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of positive for each text, 0..1 (0.5 is the decision threshold)."""
        return self.predict_prepared(prepare(list(texts)))


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(str(resources.files("cxlake.text").joinpath("models", MODEL_NAME)))


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def read_model(path: Path) -> SentimentModel:
    """Load a model file after checking its scikit-learn version (uncached; see :func:`load_model`)."""
    meta_file = metadata_path(path)
    if not path.exists() or not meta_file.exists():
        raise FileNotFoundError(
            f"sentiment model not found: {path} (and {meta_file.name}); run `cxlake train-sentiment`"
        )
    metadata = json.loads(meta_file.read_text(encoding="utf-8"))
    saved = metadata.get("sklearn_version", "unknown")
    if _minor(saved) != _minor(sklearn.__version__):
        raise ModelVersionError(
            f"{path.name} was saved with scikit-learn {saved} but {sklearn.__version__} is installed; "
            f"install scikit-learn=={_minor(saved)}.* or retrain with `cxlake train-sentiment`"
        )
    return SentimentModel(parts=joblib.load(path), metadata=metadata)


_CACHE: dict[Path, SentimentModel] = {}


def load_model(path: Path | None = None) -> SentimentModel:
    """The model at ``path`` (default: the shipped one), loaded once per process."""
    resolved = (path or default_model_path()).resolve()
    with _LOCK:
        if resolved not in _CACHE:
            _CACHE[resolved] = read_model(resolved)
        return _CACHE[resolved]


def label(probability: float) -> str:
    """'positive' at or above 0.5, else 'negative'."""
    return "positive" if probability >= 0.5 else "negative"
