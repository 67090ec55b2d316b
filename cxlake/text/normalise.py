"""One canonical form of review text, so segmentation, keywords and the sentiment model see the same thing.

Customers write in full-width forms, traditional characters and emoji; NFKC folds the widths,
OpenCC maps traditional to simplified, and anything that is neither a letter, a digit, whitespace
nor sentence punctuation (emoji, symbols, control and joiner characters) becomes a space.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import opencc

# Punctuation that survives normalisation: sentence and clause breaks, plus the few marks that
# carry tone (… ~) or quote a dish name. Full-width forms are already folded by NFKC.
_KEPT_PUNCTUATION = "。！？!?；;，,、：:.…~\"'“”‘’《》()-"
_DROPPED = re.compile(r"[^\w\s" + re.escape(_KEPT_PUNCTUATION) + r"]|_")
_SPACES = re.compile(r"\s+")
_LINES = re.compile(r"[\r\n\u2028\u2029]+")
_SENTENCE_BREAK = re.compile(r"[。！？!?；;，,]+")
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    """OpenCC loads its dictionaries once; built on first use, not at import."""
    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    # One OpenCC object shared across threads: its convert is not documented as thread-safe.
    with _LOCK:
        return _converter().convert(text)


def _clean_line(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _DROPPED.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalise(text: str) -> str:
    """NFKC, traditional -> simplified, emoji and symbols dropped, whitespace collapsed to one space."""
    if not text:
        return ""
    return _to_simplified(_clean_line(text))


def sentences(text: str) -> list[str]:
    """Clauses of a review: split on newlines and 。！？!?；;，, after normalising; empty pieces dropped."""
    if not text:
        return []
    return [piece for line in _LINES.split(text) for piece in split_sentences(normalise(line))]


def split_sentences(normalised: str) -> list[str]:
    """Clauses of text that is already :func:`normalise`-d (one line): split on 。！？!?；;，,."""
    return [piece for piece in (p.strip() for p in _SENTENCE_BREAK.split(normalised)) if piece]
