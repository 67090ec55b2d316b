"""The shipped review-sentiment model: load it once, score many texts at once.

The model file is a joblib dict of fitted scikit-learn parts plus a JSON metadata file beside it
(version, scikit-learn version, training-data checksums, evaluation metrics). Pickles are only
safe to load with the scikit-learn minor version that wrote them, so :func:`load_model` refuses
any other. Features (see :func:`features`) are built here, not inside a pickled pipeline, so each
text is normalised and segmented once for every feature family.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn

from cxlake.text.segment import DEGREE_WORDS, NEGATIONS, clause_tokens

MODEL_NAME = "sentiment.joblib"
NEGATION_SCOPE = 3  # tokens after a negation word that are read as negated
_NEGATED = "¬"
_LOCK = threading.Lock()


class ModelVersionError(RuntimeError):
    """The model file was written by a scikit-learn minor version other than the installed one."""


@lru_cache(maxsize=1)
def hownet_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """HowNet positive and negative words (shipped in ``cxlake/text/data``; source in the file headers)."""
    lists = []
    for name in ("hownet_pos.txt", "hownet_neg.txt"):
        text = resources.files("cxlake.text").joinpath("data", name).read_text(encoding="utf-8")
        lists.append(frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")))
    return lists[0], lists[1]


@dataclass
class Prepared:
    """One segmentation of each text, shared by every feature family."""

    words: list[str] = field(default_factory=list)  # negation-marked tokens joined by spaces
    chars: list[str] = field(default_factory=list)  # normalised clauses joined by spaces
    lexicon: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))


def prepare(texts: Sequence[str]) -> Prepared:
    """Segment each text once: marked words, character text, HowNet counts with negation and degree.

    Lexicon columns: positive score, negative score, their difference, and log(1 + tokens).
    """
    positive, negative = hownet_lexicon()
    words, chars = [], []
    lexicon = np.zeros((len(texts), 4))
    for row, text in enumerate(texts):
        marked: list[str] = []
        clauses = clause_tokens(text or "")
        score_pos = score_neg = 0.0
        count = 0
        for clause in clauses:
            negated_left = 0
            degree = 1.0
            for token in clause:
                count += 1
                if token in NEGATIONS:
                    negated_left = NEGATION_SCOPE
                    marked.append(token)
                    continue
                if token in DEGREE_WORDS:
                    degree = DEGREE_WORDS[token]
                    marked.append(token)
                    continue
                polarity = (token in positive) - (token in negative)
                if negated_left:
                    marked.append(_NEGATED + token)
                    polarity = -polarity
                    negated_left -= 1
                else:
                    marked.append(token)
                if polarity > 0:
                    score_pos += degree
                elif polarity < 0:
                    score_neg += degree
                if polarity:
                    degree = 1.0
            marked.append("|")
        words.append(" ".join(marked))
        chars.append(" ".join("".join(clause) for clause in clauses))
        lexicon[row] = (score_pos, score_neg, score_pos - score_neg, np.log1p(count))
    return Prepared(words=words, chars=chars, lexicon=lexicon)


def features(parts: dict, prepared: Prepared) -> sp.csr_matrix:
    """The classifier's input: word TF-IDF, character TF-IDF and scaled lexicon columns side by side."""
    blocks = [parts["words"].transform(prepared.words), parts["chars"].transform(prepared.chars)]
    blocks.append(
        sp.csr_matrix(parts["lexicon_scaler"].transform(prepared.lexicon) * parts["lexicon_weight"])
    )
    return sp.hstack(blocks, format="csr")


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

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of positive for each text, 0..1 (0.5 is the decision threshold)."""
        if len(texts) == 0:
            return np.zeros(0)
        matrix = features(self.parts, prepare(list(texts)))
        raw = self.parts["classifier"].predict_proba(matrix)[:, 1]
        return shift_threshold(raw, self.parts["threshold"])


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
