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
# Concession: a clause before one opening with 但是/不过/就是…, or the part of a clause before 但/但是
# inside it, is conceded; the verdict is what follows (价格有点贵，但是很好吃). A conceded clause's
# pivots become one _CONCEDED, and its lexicon scores go to their own columns, so 贵 and ⊖ are not
# learned as praise from the corpora's many concessions (see :func:`_concede`). 不过 at the end of a
# clause (再好不过) and 就是 other than after a polarity word (这就是, 就是好吃) are no contrast.
_CONCEDED = "让"
_CONTRAST_OPENING = frozenset({"但是", "但", "可是", "不过", "然而", "只是", "就是", "可惜", "无奈"})
_CONTRAST_INSIDE = frozenset({"但是", "但", "可是", "然而", "不过"})
_CONTRAST_AFTER_A_WORD = frozenset({"就是", "只是"})  # inside a clause after a polarity word: 不错就是慢
# Wishes: after 希望/建议/能不能…, or in 要是…就好了, praise is what is missing (希望快点, 服务好一点
# 就好了) unless it asks for more of the same (希望下次还有这么好的体验, 希望越做越好).
_WISHES = frozenset({"希望", "建议", "最好", "能否", "可否", "能不能", "可不可以", "麻烦"})
_CONDITIONS = frozenset({"要是", "如果", "若是", "假如", "若"})
_WISH_FULFILLED = frozenset({"好", "更好", "完美", "棒"})  # 就好了: the end of a wish, not praise
_MORE = frozenset({"再", "更", "更加", "多"})  # before a praise word in a wish: there is too little
_COMPARATIVES = frozenset({"点", "一点", "些", "一些", "点儿", "一点儿"})
# Degree words that make an excess word (excess_words.txt) a complaint: 偏甜, 有点小, 太挤.
_EXCESS_DEGREES = frozenset(
    {"偏", "有点", "有点儿", "有些", "略", "略微", "略显", "稍", "稍微", "稍稍", "太", "过于", "太过"}
)
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
LEXICON_COLUMNS = (
    "positive",
    "negative",
    "last_positive",
    "last_negative",
    "conceded_positive",
    "conceded_negative",
)


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
    # the pivots as the labelled corpora are learned from (:func:`_concede`); built for training only
    training_pivots: list[str] = field(default_factory=list)
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
            training_pivots=rows(self.training_pivots),
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


@lru_cache(maxsize=1)
def excess_words() -> frozenset[str]:
    """Complaints under a degree word of :data:`_EXCESS_DEGREES` (lexicons/excess_words.txt)."""
    text = resources.files("cxlake.text").joinpath("lexicons", "excess_words.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=65_536)
def _pieces(token: str) -> tuple[str, ...]:
    """A token jieba kept whole from a negation or degree word and a polarity word (很快, 不太好,
    太慢, 不久), cut in two so that the polarity word is read, and negated, as itself. A token that
    is a polarity, negation or degree word of its own (不错, 不满, 不少) stays whole. A degree word
    and an excess word (有点小) are cut too, and so is a polarity word and a comparative (快点)."""
    polarity = word_polarity()
    if len(token) < 2 or token in polarity or token in NEGATIONS or token in DEGREE_WORDS:
        return (token,)
    for cut in range(len(token) - 1, 0, -1):
        head, rest = token[:cut], token[cut:]
        if (head in NEGATIONS or head in DEGREE_WORDS) and rest in polarity:
            return head, rest
        if head in _EXCESS_DEGREES and rest in excess_words():
            return head, rest
        if head in polarity and rest in _COMPARATIVES:
            return head, rest
    return (token,)


def _not_a_verdict(tokens: list[str], position: int) -> bool:
    """A polarity word that does not judge here: 快 before a number means "nearly" (等了快二十分钟),
    and a word followed by 得 (or its common typo 的) and a polarity word later in the clause is
    judged by that complement (等得不久, 贵得离谱)."""
    following = tokens[position + 1] if position + 1 < len(tokens) else ""
    if tokens[position] == "快" and following[:1] in _NUMERALS and following not in _COMPARATIVES:
        return True
    polarity = word_polarity()
    return following in ("得", "的") and any(token in polarity for token in tokens[position + 2 :])


def _is_wish(tokens: list[str], position: int) -> bool:
    """A wish opens here: 希望, 建议, 能不能 (jieba: 能 不能), or 要是/如果 with 就好了 later."""
    token = tokens[position]
    if token in _WISHES or (token == "能" and tokens[position + 1 : position + 2] == ["不能"]):
        return True
    return token in _CONDITIONS and _wish_fulfilled_at(tokens, position) is not None


def _wish_fulfilled_at(tokens: list[str], start: int) -> int | None:
    """Where the 好 of a 就(更)好了 after ``start`` sits, if any: the end of a wish, not praise."""
    for position in range(start + 1, len(tokens) - 1):
        if tokens[position] != "就":
            continue
        after = position + 1
        while after < len(tokens) - 1 and tokens[after] in DEGREE_WORDS:
            after += 1
        if tokens[after] in _WISH_FULFILLED:
            return after
    return None


def _read_clause(clause: list[str], marked: list[str], pivots: list[str]) -> tuple[float, float]:
    """Mark negated tokens, collect pivots, and return the clause's positive and negative scores
    (each polarity word weighted by the degree adverb before it, its polarity flipped by a negation).

    A polarity word adds its class to the pivots, after any negation: ⊕ for 好 and for 不脏, ⊖ for
    脏 and for 不太好. A negated polarity word is only that class, and its negation leaves the
    pivots: the corpora have too few 不敷衍 or 不太友好 for a weight of their own, while a lone 不
    learns the feeling of the complaints it mostly appears in (不送, 不给退). A negation that finds
    no polarity word in its scope stays, as that evidence, except 不够, which makes the word after it
    a complaint (不够大). A degree word before a polarity word leaves the pivots too (it weights the
    lexicon score): alone, 真的 or 有点 learned the feeling of the words they most often modify in
    the corpora, and outvoted the word of a short comment (真的绝了). This costs about 0.01 of
    cross-domain macro-F1 (bench/RESULTS.md).

    Read as complaints, each only its class ⊖ like a negated word (their words' weights learned the
    corpora's concessions): an excess word under a mild or excess degree word (偏贵, 有点小, 太挤),
    and in a wish (:data:`_WISHES`) any polarity word but praise that asks for more of the same
    (希望改进, 希望快点, 好一点就好了; not 希望下次还有这么好的体验), and all of them where the
    wish asks for a comparative (最好把音乐关小一点); a wish word that judges no word stays, as
    evidence (希望一直保持), like a negation. 稍微有点 is one degree. Conceded clauses are handled
    by the caller (:func:`_concede`).
    """
    polarity_of = word_polarity()
    excess = excess_words()
    pivot = pivot_words()
    score_pos = score_neg = 0.0
    negated_left = 0
    negation_at: int | None = None  # where the open negation sits in ``pivots``
    degree_at: int | None = None  # where the open degree word sits in ``pivots``
    degree = 1.0
    degree_word = ""
    wish = change = False  # change: the wish asks for a comparative (服务好一点, 把音乐关小一点)
    wish_at: int | None = None  # where the open wish word sits in ``pivots``
    no_verdict_at: int | None = None  # the 好 of a wish's 就好了
    tokens = [piece for whole in clause for piece in _pieces(whole)]
    first = len(pivots)  # a consumed negation, degree or wish word is blanked, and blanks dropped at the end
    for position, token in enumerate(tokens):
        if token == "不能" and wish and tokens[position - 1] == "能":
            marked.append(token)  # the rest of 能不能, opened at 能
            continue
        if _is_wish(tokens, position):
            wish = True
            change = any(later in _COMPARATIVES for later in tokens[position + 1 :])
            no_verdict_at = _wish_fulfilled_at(tokens, position)
            negated_left, negation_at = 0, None
            wish_at = len(pivots)
            marked.append(token)
            pivots.append(token)
            continue
        if token in NEGATIONS:
            negated_left = NEGATION_SCOPE
            negation_at = len(pivots)
            marked.append(token)
            pivots.append(token)
            continue
        if change and token in _COMPARATIVES:
            marked.append(token)  # the 一点 of 好一点: part of the wish, no degree
            continue
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        if token in DEGREE_WORDS or (token in _EXCESS_DEGREES and following in excess):
            if degree_at is not None and degree_at == len(pivots) - 1:
                pivots[degree_at] = ""  # 稍微有点: the last degree word weights the word
            degree = DEGREE_WORDS.get(token, 1.0)
            degree_word = token
            degree_at = len(pivots)
            marked.append(token)
            pivots.append(token)
            continue
        polarity = polarity_of.get(token, 0)
        if position == no_verdict_at or (polarity and _not_a_verdict(tokens, position)):
            marked.append(token)
            continue
        excessive = degree_word in _EXCESS_DEGREES and token in excess
        if excessive:
            polarity = -1  # 偏甜 is a complaint, and 不会太甜 praise
        negated = negated_left > 0
        if negated:
            negated_left -= 1
            token = _NEGATED + token
        marked.append(token)
        if negated and negation_at is not None and pivots[negation_at] == "不够":
            polarity = 1  # 不够 + any word: that word was wanted (不够大, 不够冷, 不够热情)
        if not polarity:
            if token.removeprefix(_NEGATED) in pivot:
                pivots.append(token)
            continue
        if degree_at is not None:
            pivots[degree_at] = ""
            degree_at = None
        if negated:
            polarity = -polarity
            if negation_at is not None:
                pivots[negation_at] = ""
                negation_at = None
        wanted = wish and (
            change
            or polarity < 0
            or negated
            or following in _COMPARATIVES
            or (position and tokens[position - 1] in _MORE)
            or degree_word in _MORE
        )
        if wish_at is not None:
            pivots[wish_at] = ""  # the wish is read in the word it judges
            wish_at = None
        if wanted:
            polarity = -1
        elif not (negated or excessive):
            pivots.append(token)
        pivots.append(_POSITIVE_CLASS if polarity > 0 else _NEGATIVE_CLASS)
        if polarity > 0:
            score_pos += degree
        else:
            score_neg += degree
        degree = 1.0
        degree_word = ""
    if change and not score_neg:  # 能不能关小一点: a change asked for without a polarity word
        if wish_at is not None:
            pivots[wish_at] = ""
        pivots.append(_NEGATIVE_CLASS)
        score_neg += 1.0
    pivots[first:] = [kept for kept in pivots[first:] if kept]
    marked.append("|")
    return score_pos, score_neg


def _concede(pivots: list[str], spans: list[tuple[int, int]], complaint: bool, training: bool) -> None:
    """Replace the pivots of each conceded clause (``spans``), in place, by one :data:`_CONCEDED`,
    or, when the verdict is a complaint and the text is scored rather than learned from, drop them.

    Why two readings: the corpora's labels are the reviewer's overall verdict, and a review that
    praises, then complains after 但是 is labelled positive about half the time (waimai 38%, hotel
    53%; texts with a concession at all lean positive, so _CONCEDED learns praise). Learning from
    them as labelled keeps that evidence. Scoring follows the alert policy instead: a complaint
    after the contrast is the verdict (咖啡不错，但是出餐慢 raises an alert), while a conceded
    complaint before praise (稍微等了一下，但很值) stays conceded. bench/RESULTS.md has the figures.
    """
    for start, end in reversed(spans):
        if complaint and not training:
            del pivots[start:end]
        else:
            pivots[start:end] = [_CONCEDED]


def _concessions(clauses: Sequence[list[str]]) -> list[tuple[list[str], bool]]:
    """Each clause with whether it is conceded (see :data:`_CONCEDED`); a clause is cut where a
    contrast word stands inside it, and the contrast word itself is dropped."""
    polarity = word_polarity()
    read: list[tuple[list[str], bool]] = []
    for clause in clauses:
        if read and clause and clause[0] in _CONTRAST_OPENING:
            read[-1] = (read[-1][0], True)
            clause = clause[1:]
        start = 0
        for position in range(1, len(clause) - 1):
            inside = clause[position] in _CONTRAST_INSIDE and clause[position - 1] != "再"
            after_praise = clause[position] in _CONTRAST_AFTER_A_WORD and clause[position - 1] in polarity
            if inside or after_praise:
                read.append((clause[start:position], True))
                start = position + 1
        read.append((clause[start:], False))
    return [(clause, conceded) for clause, conceded in read if clause]


def prepare(texts: Sequence[str], training: bool = False) -> Prepared:
    """Normalise and segment each text once (one jieba call per text), then read it clause by clause
    (see :func:`prepare_segmented`; ``training`` builds the pivots learned from too)."""
    normalised = [normalise(text or "") for text in texts]
    clauses = [split_clauses(text, hmm=SEGMENT_HMM) for text in normalised]
    return prepare_segmented(normalised, clauses, training=training)


def prepare_segmented(
    normalised: Sequence[str],
    clauses: Sequence[Sequence[list[str]]],
    families: Collection[str] = ("words", "chars"),
    training: bool = False,
) -> Prepared:
    """:func:`prepare` for texts already segmented into clauses by :func:`split_clauses` with
    :data:`SEGMENT_HMM`, so a caller holding the tokens (the scoring pipeline's aspect clauses)
    does not pay for jieba twice. Of the optional text families, only those in ``families`` are
    built (a model that reads neither, as :attr:`SentimentModel.families` says, saves their joins);
    tokens, pivots and lexicon scores always are, and with ``training`` the pivots as learned from
    (:attr:`Prepared.training_pivots`, which differ from the scored ones in concessions only).

    Lexicon columns (:data:`LEXICON_COLUMNS`): HowNet positive and negative scores of the text and
    of its last clause (the verdict often comes last), and of its conceded clauses, which are kept
    out of the text's (价格有点贵，但是很好吃 is praise; see :func:`_concessions`). No length column:
    how long reviews run depends on the domain, not on the feeling.
    """
    prepared = Prepared(lexicon=np.zeros((len(normalised), len(LEXICON_COLUMNS))))
    for row, (text, text_clauses) in enumerate(zip(normalised, clauses, strict=True)):
        marked: list[str] = []
        pivots: list[str] = []
        score_pos = score_neg = last_pos = last_neg = conceded_pos = conceded_neg = 0.0
        plain = [token for clause in text_clauses for token in clause]
        conceded_at: list[tuple[int, int]] = []
        for clause, conceded in _concessions(text_clauses):
            first = len(pivots)
            last_pos, last_neg = _read_clause(clause, marked, pivots)
            if conceded:
                conceded_at.append((first, len(pivots)))
                conceded_pos += last_pos
                conceded_neg += last_neg
            else:
                score_pos += last_pos
                score_neg += last_neg
        if training:
            learned = list(pivots)
            _concede(learned, conceded_at, score_neg > score_pos, training=True)
            prepared.training_pivots.append(" ".join(learned))
        _concede(pivots, conceded_at, score_neg > score_pos, training=False)
        prepared.normalised.append(text)
        prepared.tokens.append(plain)
        if "words" in families:
            prepared.words.append(" ".join(marked))
        prepared.pivots.append(" ".join(pivots))
        if "chars" in families:
            prepared.chars.append(" ".join("".join(clause) for clause in text_clauses))
        prepared.lexicon[row] = (score_pos, score_neg, last_pos, last_neg, conceded_pos, conceded_neg)
    return prepared


def family_input(prepared: Prepared, family: str, training: bool = False):
    """What one feature family's pipeline reads: a list of strings, or the lexicon matrix; when
    ``training``, the pivots learned from (a model is fitted on :func:`prepare` with ``training``)."""
    if training and family == "pivots":
        if len(prepared.training_pivots) != len(prepared.pivots):
            raise ValueError("fitting needs texts prepared with training=True (Prepared.training_pivots)")
        return prepared.training_pivots
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
