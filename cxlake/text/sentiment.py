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
_POSITIVE_CLASS, _NEGATIVE_CLASS = "⊕", "⊖"  # pivots standing for any positive / negative word
_NUMERALS = frozenset("一二两三四五六七八九十半几百0123456789")
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


@lru_cache(maxsize=1)
def word_polarity() -> dict[str, int]:
    """+1 or -1 for each word that carries feeling. HowNet's words that it lists on one side only,
    overridden by the aspect tagger's review words (慢, 贵, 久 are complaints in a review; HowNet
    lists 贵 on both sides and 慢 on neither) and by ``review_polarity.txt`` (排队, 卡: complaints
    whose negation is praise)."""
    from cxlake.text.aspects import POLARITY

    positive, negative = hownet_lexicon()
    polarity = dict.fromkeys(positive - negative, 1) | dict.fromkeys(negative - positive, -1)
    polarity |= {word: 1 if weight > 0 else -1 for word, weight in POLARITY.items() if weight}
    review_words = resources.files("cxlake.text").joinpath("lexicons", "review_polarity.txt")
    for line in review_words.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, value = line.split("\t")
            polarity[word] = int(value)
    return polarity


@lru_cache(maxsize=65_536)
def _pieces(token: str) -> tuple[str, ...]:
    """A token jieba kept whole from a negation or degree word and a polarity word (很快, 不太好,
    太慢, 不久), cut in two so that the polarity word is read, and negated, as itself. A token that
    is a polarity, negation or degree word of its own (不错, 不满, 不少) stays whole."""
    polarity = word_polarity()
    if len(token) < 2 or token in polarity or token in NEGATIONS or token in DEGREE_WORDS:
        return (token,)
    for cut in range(len(token) - 1, 0, -1):
        head, rest = token[:cut], token[cut:]
        if (head in NEGATIONS or head in DEGREE_WORDS) and rest in polarity:
            return head, rest
    return (token,)


def _not_a_verdict(tokens: list[str], position: int) -> bool:
    """A polarity word that does not judge here: 快 before a number means "nearly" (等了快二十分钟),
    and a word followed by 得 (or its common typo 的) and a polarity word later in the clause is
    judged by that complement (等得不久, 贵得离谱)."""
    following = tokens[position + 1] if position + 1 < len(tokens) else ""
    if tokens[position] == "快" and following[:1] in _NUMERALS:
        return True
    polarity = word_polarity()
    return following in ("得", "的") and any(token in polarity for token in tokens[position + 2 :])


def _read_clause(clause: list[str], marked: list[str], pivots: list[str]) -> tuple[float, float]:
    """Mark negated tokens, collect pivots, and return the clause's positive and negative scores
    (each polarity word weighted by the degree adverb before it, its polarity flipped by a negation).

    A polarity word adds its class to the pivots, after any negation: ⊕ for 好 and for 不脏, ⊖ for
    脏 and for 不太好. A negated polarity word is only that class, and its negation leaves the
    pivots: the corpora have too few 不敷衍 or 不太友好 for a weight of their own, while a lone 不
    learns the feeling of the complaints it mostly appears in (不送, 不给退). A negation that finds
    no polarity word in its scope stays, as that evidence. A degree word before a polarity word
    leaves the pivots too (it weights the lexicon score): alone, 真的 or 有点 learned the feeling of
    the words they most often modify in the corpora, and outvoted the word of a short comment
    (真的绝了, 有点贵). This costs about 0.01 of cross-domain macro-F1 (bench/RESULTS.md).
    """
    polarity_of = word_polarity()
    pivot = pivot_words()
    score_pos = score_neg = 0.0
    negated_left = 0
    negation_at: int | None = None  # where the open negation sits in ``pivots``
    degree_at: int | None = None  # where the open degree word sits in ``pivots``
    degree = 1.0
    tokens = [piece for whole in clause for piece in _pieces(whole)]
    for position, token in enumerate(tokens):
        if token in NEGATIONS:
            negated_left = NEGATION_SCOPE
            negation_at = len(pivots)
            marked.append(token)
            pivots.append(token)
            continue
        if token in DEGREE_WORDS:
            degree = DEGREE_WORDS[token]
            degree_at = len(pivots)
            marked.append(token)
            pivots.append(token)
            continue
        polarity = polarity_of.get(token, 0)
        if polarity and _not_a_verdict(tokens, position):
            marked.append(token)
            continue
        negated = negated_left > 0
        if negated:
            negated_left -= 1
            token = _NEGATED + token
        marked.append(token)
        if not polarity:
            if token.removeprefix(_NEGATED) in pivot:
                pivots.append(token)
            continue
        if degree_at is not None:
            del pivots[degree_at]
            if negation_at is not None and negation_at > degree_at:
                negation_at -= 1
            degree_at = None
        if negated:
            polarity = -polarity
            if negation_at is not None:
                del pivots[negation_at]
                negation_at = None
        else:
            pivots.append(token)
        pivots.append(_POSITIVE_CLASS if polarity > 0 else _NEGATIVE_CLASS)
        if polarity > 0:
            score_pos += degree
        else:
            score_neg += degree
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
