"""Personal data in what customers write, found after normalisation and masked: the one masker.

Customers write contact details in every form a filter does not expect: full-width digits (１３８…),
Chinese numerals (一三八 / 幺三八 / 壹叁捌), circled or superscript digits, digits split by dots,
slashes, underscores or zero-width spaces, ``+86`` / ``0086`` prefixes, full-width ``＠`` and ``。``,
``(at)`` / ``dot`` spelled out, non-Latin local parts, WeChat ids and QQ numbers after their keyword.
So the text is first *folded* one character at a time (NFKC, then every digit of any script and every
Chinese numeral to an ASCII digit), the rules run on the folded text, and each match is masked in the
*original* text through the fold's position map: the rest of a comment keeps its own punctuation.

Which numbers are contact details is decided by their digits, not by where they stand: an 11-digit
mobile starting 13-19, a landline with its area code, anything after ``+`` or ``0086``, an ID-card
number, a card number that passes Luhn, and any 5+ digits right after a word like 电话 / call / QQ.
Prices (35元), dates (2026-03-04), times (12:30), counts and store ids (S001) stay as written.

DuckDB has NFC but no NFKC, and its RE2 has no look-around, so the rules run in Python and the SQL
side calls them as vectorised (Arrow) functions that :func:`register` adds to a connection;
``roles.masked_sql`` is the only SQL that names them. A connection without them fails, never leaks.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import duckdb
import pyarrow as pa

# --- Folding: one original character -> its folded text -------------------------------------------

# Chinese numerals that people write digit by digit (常用 and 大写 forms, 幺 for 1, 两 for 2, ○/〇 for 0).
CHINESE_DIGITS = {
    **dict.fromkeys("零〇○洞", "0"),
    **dict.fromkeys("一幺壹", "1"),
    **dict.fromkeys("二两兩贰貳", "2"),
    **dict.fromkeys("三叁參", "3"),
    **dict.fromkeys("四肆", "4"),
    **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆陸", "6"),
    **dict.fromkeys("七柒", "7"),
    **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖", "9"),
}
# NFKC keeps these apart from their ASCII look-alikes; for contact details they mean the same.
_LOOK_ALIKES = {"\u2212": "-", "\u3002": ".", "\uff61": "."}


@cache
def _fold_char(char: str, numerals: bool = True) -> str:
    """NFKC of one character, digits of any script (and Chinese numerals if ``numerals``) as ASCII digits.

    Format characters (zero-width space, soft hyphen, BOM...) fold to a space: invisible between
    digits, they are only a separator.
    """
    if numerals and char in CHINESE_DIGITS:
        return CHINESE_DIGITS[char]
    if char in _LOOK_ALIKES:
        return _LOOK_ALIKES[char]
    if unicodedata.category(char) == "Cf":
        return " "
    folded = []
    for part in unicodedata.normalize("NFKC", char):
        digit = unicodedata.digit(part, None)  # also ¹, ①, ❶, 𝟏 and other scripts' digits
        folded.append(str(digit) if digit is not None else part)
    return "".join(folded)


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that learns each character's fold the first time it meets it, so a
    text is folded in C; only texts with a finding pay for the Python loop of :func:`fold`."""

    def __init__(self, numerals: bool) -> None:
        super().__init__()
        self.numerals = numerals

    def __missing__(self, code: int) -> str:
        char = chr(code)
        self[code] = folded = char if char.isascii() else _fold_char(char, self.numerals)
        return folded


_FOLD_TABLES = {numerals: _FoldTable(numerals) for numerals in (False, True)}


def fold(text: str, numerals: bool = True) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original one it came from.

    Without ``numerals`` Chinese numerals stay as they are: in 张三@qq.com the 三 is part of a name.
    """
    table = _FOLD_TABLES[numerals]
    origin: list[int] = []
    for index, char in enumerate(text):
        origin.extend([index] * len(table[ord(char)]))
    return text.translate(table), origin


# --- The rules, on folded text ----------------------------------------------------------------------

# Between two digits of one number: spaces, dashes, dots, commas, slashes, underscores, brackets (1 to 3
# of them). Full-width forms are folded to these first.
_SEP = r"[\s\-.,_/\\·・、~|*()\[\]{}（）【】〔〕「」<>《》‐‑‒–—―]"
_GAP = rf"{_SEP}{{0,3}}"


def _digits(count: str) -> str:
    """``count`` more digits, each possibly after a separator (``count`` is a regex quantifier body)."""
    return rf"(?:{_GAP}\d){{{count}}}"


_AT = r"(?:\s*[@#]+\s*|\s*[(\[（【]\s*at\s*[)\]）】]\s*|\s+at\s+|\s*艾特\s*)"
_DOT = r"(?:\s*\.\s*|\s*[(\[（【]\s*dot\s*[)\]）】]\s*|\s+dot\s+|点)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Providers people name without a top-level domain ("123456@qq").
_BARE_PROVIDERS = r"(?:qq|163|126|139|sina|sohu|gmail|hotmail|outlook|foxmail|yahoo|icloud|aliyun)"
_EMAIL = re.compile(
    # local part: an ASCII run, or a run of non-ASCII letters (用户名@…, имя@…), never both (see tests);
    # each tried only where its run starts, so a long text is scanned once, not once per character
    rf"(?:(?<![a-z0-9._%+\-])[a-z0-9._%+\-]+|(?<![^\W\d_a-z])[^\W\d_a-z]+){_AT}"
    rf"(?:{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:[a-z]{{2,24}}|中国|公司|网络)(?![a-z])"
    rf"|{_BARE_PROVIDERS}(?![a-z0-9]))",
    re.IGNORECASE,
)
_WECHAT = re.compile(
    r"(?<![a-z])(?:(?:微信|威信|薇信|v信|weixin|wechat|vx|wx)(?:\s*(?:号|id|账号))?"
    r"(?:\s*[:：=是为]\s*|\s+|(?=[a-z]))|v\s*[:：]\s*)"
    r"(?P<id>[a-z][a-z0-9_\-]{5,19})(?![a-z0-9_\-])",
    re.IGNORECASE,
)
_QQ = re.compile(
    rf"(?<![a-z])(?:qq|扣扣|企鹅)(?:号|号码)?[\s:：=是为]*(?P<id>[1-9]{_digits('4,10')})(?!\d)",
    re.IGNORECASE,
)
# 18 digits, the last one may be X: a resident ID card.
_ID_CARD = re.compile(rf"(?<!\d)[1-9]{_digits('16')}{_GAP}[\dx](?![\da-z])", re.IGNORECASE)
# 15 to 19 digits starting 3-6 (Amex, Visa, Mastercard, UnionPay): a bank card if Luhn agrees.
_CARD = re.compile(rf"(?<!\d)[3-6]{_digits('14,18')}(?!{_GAP}\d)")
_COUNTRY = rf"(?:\+{_GAP}|00{_GAP})?86{_GAP}"
_MOBILE = re.compile(rf"(?<![\d+])(?:{_COUNTRY})?1{_GAP}[3-9]{_digits('9')}(?!\d)")
# 0 + area code (10, 2x or three digits from 3) + 7-8 digits, or the same after +86 without the 0;
# 6 digits after three of the area code is no Chinese landline but a Taiwanese mobile (0912-345-678).
_AREA = rf"(?:1{_GAP}0|2{_GAP}\d|[3-9]{_GAP}\d{_GAP}\d)"
_LANDLINE = re.compile(
    rf"(?<![\d+])(?:[(（]\s*0{_GAP}|0{_GAP}|{_COUNTRY}){_AREA}{_GAP}\d{_digits('5,7')}(?!\d)"
)
_INTERNATIONAL = re.compile(rf"\+{_GAP}[1-9]{_digits('6,14')}(?!\d)")
# A number of 5+ digits shortly after a word that announces one is a phone, whatever its shape.
_ANNOUNCED = re.compile(
    r"(?:电话|手机|手机号|号码|座机|热线|联系|联系方式|致电|回电|来电|打给|拨打|call|tel|phone|mobile|mob)"
    rf"[^\d\n]{{0,6}}?(?P<id>\d{_digits('4,')})",
    re.IGNORECASE,
)


def _is_card(digits: str) -> bool:
    """Luhn's check, which bank card numbers pass and nine in ten other long numbers fail."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass(frozen=True)
class _Rule:
    label: str
    pattern: re.Pattern[str]
    # What a text must show before the rule runs (see _gates): most texts skip every rule, and the
    # e-mail pattern, which tries every run of letters, only runs where there is an @-like sign.
    gate: Literal["at", "wechat", "digits"]
    group: str | int = 0
    accept: Callable[[str], bool] | None = None
    numerals: bool = True  # whether the rule reads Chinese numerals as digits


# In priority order: where two rules overlap, the earlier one masks.
RULES = (
    _Rule("email", _EMAIL, "at", numerals=False),
    _Rule("wechat", _WECHAT, "wechat", "id", numerals=False),
    _Rule("qq", _QQ, "digits", "id"),
    _Rule("id", _ID_CARD, "digits"),
    _Rule("card", _CARD, "digits", accept=lambda digits: _is_card(re.sub(r"\D", "", digits))),
    _Rule("phone", _MOBILE, "digits"),
    _Rule("phone", _LANDLINE, "digits"),
    _Rule("phone", _INTERNATIONAL, "digits"),
    _Rule("phone", _ANNOUNCED, "digits", "id"),
)
_FIVE_DIGITS = re.compile(r"\d(?:\D{0,3}\d){4}")


def _gates(folded: str) -> set[str]:
    """The rule gates ``folded`` opens, by plain substring tests (a regex per gate costs more than
    the rest of a clean comment's check): supersets of what the rules' patterns need."""
    lowered = folded.lower()
    gates = set()
    if "@" in folded or "#" in folded or "at" in lowered or "艾特" in folded:
        gates.add("at")
    if "v" in lowered or "w" in lowered or "微信" in folded or "威信" in folded or "薇信" in folded:
        gates.add("wechat")
    if _FIVE_DIGITS.search(folded):
        gates.add("digits")
    return gates


LABELS = tuple(dict.fromkeys(rule.label for rule in RULES))


@dataclass(frozen=True)
class Finding:
    """A contact detail in the original text: ``text[start:end]`` is what ``label`` says it is."""

    label: str
    start: int
    end: int


_BRACKETS = dict(zip("(（[【〔「<《{", ")）]】〕」>》}", strict=True))
_CLOSING = {close: open_ for open_, close in _BRACKETS.items()}


def _with_brackets(text: str, finding: Finding) -> Finding:
    """``finding`` widened by the bracket that opens or closes one inside it, so "(138)0013 8000"
    is masked whole rather than leaving a stray "(" before the mask."""
    opened: list[str] = []
    unopened = ""
    for char in text[finding.start : finding.end]:
        if char in _BRACKETS:
            opened.append(char)
        elif char in _CLOSING:
            if opened and opened[-1] == _CLOSING[char]:
                opened.pop()
            elif not opened and not unopened:
                unopened = _CLOSING[char]
    start, end = finding.start, finding.end
    if unopened and start > 0 and text[start - 1] == unopened:
        start -= 1
    if opened and end < len(text) and text[end] == _BRACKETS[opened[-1]]:
        end += 1
    return Finding(finding.label, start, end)


def find_contacts(text: str) -> list[Finding]:
    """Every contact detail in ``text``, in order, none overlapping."""
    if not text:
        return []
    folds = {True: text.translate(_FOLD_TABLES[True])}
    gates = _gates(folds[True])  # Chinese numerals open no gate, so one fold is enough to decide
    if not gates:
        return []
    origins: dict[bool, list[int]] = {}
    taken: list[Finding] = []
    for rule in RULES:
        if rule.gate not in gates:
            continue
        if rule.numerals not in folds:
            folds[rule.numerals] = text.translate(_FOLD_TABLES[rule.numerals])
        folded = folds[rule.numerals]
        for match in rule.pattern.finditer(folded):
            start, end = match.span(rule.group)
            if rule.accept is not None and not rule.accept(folded[start:end]):
                continue
            if rule.numerals not in origins:
                origins[rule.numerals] = fold(text, rule.numerals)[1]
            origin = origins[rule.numerals]
            found = _with_brackets(text, Finding(rule.label, origin[start], origin[end - 1] + 1))
            if not any(found.start < other.end and other.start < found.end for other in taken):
                taken.append(found)
    return sorted(taken, key=lambda finding: finding.start)


def mask_free_text(text: str | None) -> str | None:
    """``text`` with each contact detail replaced by its label (``[phone]``, ``[email]``...)."""
    if text is None:
        return None
    findings = find_contacts(text)
    if not findings:
        return text
    pieces: list[str] = []
    last = 0
    for finding in findings:
        pieces.append(text[last : finding.start])
        pieces.append(f"[{finding.label}]")
        last = finding.end
    pieces.append(text[last:])
    return "".join(pieces)


# --- Columns that hold one personal value -------------------------------------------------------------
# Masking keeps enough to recognise a record on a call-back list: the first character of a name, the
# last four characters of a phone, the mail domain, the first half of an IPv4 address.


def mask_name(value: str | None) -> str | None:
    return None if value is None else value[:1] + "**"


def mask_phone(value: str | None) -> str | None:
    return None if value is None else "*******" + value[-4:]


_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+", re.IGNORECASE)


def mask_email(value: str | None) -> str | None:
    """``***@`` and the domain if the part after the last @ (any width) is one, else ``***@***``."""
    if value is None:
        return None
    folded = unicodedata.normalize("NFKC", value).replace("\u3002", ".")
    _, at, domain = folded.rpartition("@")
    domain = domain.strip()
    return "***@" + (domain if at and _DOMAIN.fullmatch(domain) else "***")


def mask_ip(value: str | None) -> str | None:
    """An IPv4 address keeps its first two numbers (the network, enough to spot a bot farm)."""
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return "***"
    if address.version == 4:
        first, second, *_ = str(address).split(".")
        return f"{first}.{second}.*.*"
    return "***"


MASKERS: dict[str, Callable[[str | None], str | None]] = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "ip": mask_ip,
    "free_text": mask_free_text,
}


def mask(kind: str, value: object) -> object:
    """``value`` masked as ``kind``; values that are not text (numbers, dates, missing) are kept."""
    if kind not in MASKERS:
        raise ValueError(f"unknown PII kind {kind!r}; expected one of {', '.join(MASKERS)}")
    return MASKERS[kind](value) if isinstance(value, str) else value


# --- DuckDB ---------------------------------------------------------------------------------------------


def sql_function(kind: str) -> str:
    """The name of the SQL function that masks ``kind`` on a connection :func:`register` prepared."""
    if kind not in MASKERS:
        raise ValueError(f"unknown PII kind {kind!r}; expected one of {', '.join(MASKERS)}")
    return f"cx_mask_{kind}"


def _vectorised(masker: Callable[[str | None], str | None]) -> Callable[[pa.Array], pa.Array]:
    def apply(values: pa.Array) -> pa.Array:
        return pa.array([masker(value) for value in values.to_pylist()], type=pa.string())

    return apply


def register(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Add the masking functions to ``connection`` (and its cursors); a second call changes nothing."""
    present = {
        name for (name,) in connection.execute("select function_name from duckdb_functions()").fetchall()
    }
    for kind, masker in MASKERS.items():
        name = sql_function(kind)
        if name not in present:
            connection.create_function(name, _vectorised(masker), ["VARCHAR"], "VARCHAR", type="arrow")
    return connection
