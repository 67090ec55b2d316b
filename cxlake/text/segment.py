"""jieba segmentation with the CX domain dictionary, so 出餐, 小程序 and menu items stay whole.

A private ``jieba.Tokenizer`` (not jieba's global one) is built once on first use: loading the
domain words into the global tokenizer would change segmentation for any other jieba user in the
process. Word lists are data files in ``cxlake/text/lexicons/``.
"""

from __future__ import annotations

import logging
import re
import threading
from importlib import resources

import jieba

from cxlake.text.normalise import normalise, sentences

_WORD = re.compile(r"\w", re.UNICODE)
# Tokens that end a clause: the sentence punctuation of normalise.sentences, and whitespace (which
# also stands where a line break was, since normalise folds lines into spaces).
_CLAUSE_BREAKS = frozenset("。！？!?；;，,")
_LOCK = threading.Lock()
_TOKENIZER: jieba.Tokenizer | None = None


def _data_lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a packaged word list."""
    text = resources.files("cxlake.text").joinpath("lexicons", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _degree_words() -> dict[str, float]:
    weights: dict[str, float] = {}
    for line in _data_lines("degree_words.txt"):
        word, weight = line.split("\t")
        weights[word] = float(weight)
    return weights


STOPWORDS: frozenset[str] = frozenset(_data_lines("stopwords.txt"))
NEGATIONS: frozenset[str] = frozenset(_data_lines("negations.txt"))
DEGREE_WORDS: dict[str, float] = _degree_words()


def _tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer with the domain dictionary loaded; built once, thread-safe."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _LOCK:
            if _TOKENIZER is None:
                tokenizer = jieba.Tokenizer()
                jieba.setLogLevel(logging.WARNING)
                tokenizer.initialize()
                for line in _data_lines("user_dict.txt"):
                    word, freq, tag = line.split()
                    tokenizer.add_word(word, int(freq), tag)
                # negations and degree adverbs whole (不太, 一点也不), also when the HMM is off
                for word in sorted(NEGATIONS | DEGREE_WORDS.keys()):
                    if len(word) > 1:
                        tokenizer.add_word(word)
                _TOKENIZER = tokenizer
    return _TOKENIZER


def _words(normalised: str) -> list[str]:
    if not normalised:
        return []
    return [word.lower() for word in _tokenizer().lcut(normalised, HMM=True) if _WORD.search(word)]


def raw_tokens(text: str) -> list[str]:
    """Words of normalised text, ASCII lower-cased, without punctuation or spaces; stopwords kept."""
    return _words(normalise(text))


def split_clauses(normalised: str, hmm: bool = True) -> list[list[str]]:
    """Raw tokens of already normalised text, per clause, from ONE jieba call over the whole text.

    jieba cuts at punctuation anyway, so cutting once and splitting the token list at clause
    punctuation gives the clauses of :func:`sentences` at a fraction of the per-call overhead.
    ``hmm=False`` skips jieba's HMM guess at words missing from the dictionaries (about a third
    of jieba's time); unknown character runs then come out as single characters.
    """
    clauses: list[list[str]] = []
    current: list[str] = []
    for word in _tokenizer().lcut(normalised, HMM=hmm) if normalised else ():
        if word in _CLAUSE_BREAKS or word.isspace():
            if current:
                clauses.append(current)
                current = []
        elif word.isalnum() or _WORD.search(word):
            current.append(word.lower())
    if current:
        clauses.append(current)
    return clauses


def clause_tokens(text: str) -> list[list[str]]:
    """Raw tokens per clause of :func:`sentences`: a negation's scope ends where its clause does."""
    return [_words(clause) for clause in sentences(text)]


def tokens(text: str) -> list[str]:
    """Like :func:`raw_tokens` without stopwords: what keyword extraction and word counts use."""
    return [word for word in raw_tokens(text) if word not in STOPWORDS]
