"""Personal data in what customers write, found after normalisation and masked: the one masker.

Customers write contact details in every form a filter does not expect: full-width digits (１３８…),
Chinese numerals (一三八 / 幺三八 / 壹叁捌), circled or superscript digits, digits split by dots,
slashes, underscores or zero-width spaces, ``+86`` / ``0086`` prefixes, full-width ``＠`` and ``。``,
``(at)`` / ``dot`` spelled out, non-Latin local parts, WeChat ids and QQ numbers after their keyword,
digits between emoji, letters standing in for digits (l38OOl38OOO), digits said in English or pinyin
(one three eight / yao san ba), WeChat under its filter-dodging names (威信, 薇信, 卫星, 加v, +v).
So the text is first *folded* one character at a time (NFKC, then every digit of any script and every
Chinese numeral to an ASCII digit), the rules run on the folded text, and each match is masked in the
*original* text through the fold's position map: the rest of a comment keeps its own punctuation.
Texts with Latin letters get two more folds, rewritten from that one (look-alikes, spoken digits).

Which numbers are contact details is decided by their digits, not by where they stand: an 11-digit
mobile starting 13-19, a landline with its area code, anything after ``+`` or ``0086``, an ID-card
number, a card number that passes Luhn, and any 5+ digits right after a word like 电话 / call / QQ.
Prices (35元), dates (2026-03-04), times (12:30), counts and store ids (S001) stay as written.

Personal names are out of scope: a name in free text ("王经理", "Amy") cannot be told from a word
without a name list or a model, and guessing would mask half the menu. Columns that hold a name are
masked by :func:`mask_name`; free text is masked for the ways to *reach* a customer.

DuckDB has NFC but no NFKC, and its RE2 has no look-around, so the rules run in Python and the SQL
side calls them as Python functions that :func:`register` adds to a connection;
``roles.masked_sql`` is the only SQL that names them. A connection without them fails, never leaks.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Literal

import duckdb

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
# NFKC keeps these apart from their ASCII look-alikes; for contact details they mean the same. A phone
# emoji announces a number as "tel" does, and ➕ is the plus of "➕V" (add me on WeChat). ★ and ☆ stay
# themselves rather than fold to a space as other symbols do: "wf★qq.com（★换成@）" is an address.
_LOOK_ALIKES = {
    "\u2212": "-",
    "\u3002": ".",
    "\uff61": ".",
    "★": "★",
    "☆": "☆",
    **dict.fromkeys("☎☏✆📞📱", "tel"),
    **dict.fromkeys("➕✚", "+"),
}


@cache
def _fold_char(char: str, numerals: bool = True) -> str:
    """NFKC of one character, digits of any script (and Chinese numerals if ``numerals``) as ASCII digits.

    Format characters (zero-width space, soft hyphen, BOM...) and symbols (emoji, ★, ❤) fold to a
    space: between digits they are only a separator. Combining marks fold to nothing, so the keycap
    1️⃣ is a 1, and a Latin letter with an accent to its base letter (josé@…, yāo sān bā).
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
        category = unicodedata.category(part)
        if digit is not None:
            folded.append(str(digit))
        elif category in ("Mn", "Me"):
            continue
        elif category in ("So", "Sk"):
            folded.append(" ")
        elif not part.isascii() and (base := unicodedata.normalize("NFD", part)[0]).isascii():
            folded.append(base)
        else:
            folded.append(part)
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
_SEP = r"[\s\-.,_/\\·・、~|*★☆()\[\]{}（）【】〔〕「」<>《》‐‑‒–—―]"
_GAP = rf"{_SEP}{{0,3}}"


def _digits(count: str) -> str:
    """``count`` more digits, each possibly after a separator (``count`` is a regex quantifier body)."""
    return rf"(?:{_GAP}\d){{{count}}}"


_AT_SIGN = r"(?:\s*[@#★☆]+\s*|\s*[(\[（【]\s*at?\s*[)\]）】]\s*|\s*艾特\s*)"
_DOT = r"(?:\s*\.\s*|\s*[(\[（【]\s*dot\s*[)\]）】]\s*|\s+dot\s+|\s*点\s*)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN_NAME = rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:[a-z]{{2,24}}|中国|公司|网络)(?![a-z])"
# Providers people name without a top-level domain ("123456@qq"); after a spelled-out " at " only those
# that are no English word ("meet at outlook" is a place, "wf at qq" an address).
_BARE_PROVIDERS = r"(?:qq|163|126|139|sina|sohu|gmail|hotmail|outlook|foxmail|yahoo|icloud|aliyun)"
_EMAIL = re.compile(
    # local part: an ASCII run, or a run of non-ASCII letters (用户名@…, имя@…), never both (see tests);
    # each tried only where its run starts, so a long text is scanned once, not once per character
    rf"(?:(?<![a-z0-9._%+\-])[a-z0-9._%+\-]+|(?<![^\W\d_a-z])[^\W\d_a-z]+)"
    rf"(?:{_AT_SIGN}(?:{_DOMAIN_NAME}|{_BARE_PROVIDERS}(?![a-z0-9]))"
    rf"|\s+at\s+(?:{_DOMAIN_NAME}|(?:qq|163|126|139|gmail|foxmail|hotmail)(?![a-z0-9])))",
    re.IGNORECASE,
)
# What customers call WeChat to get past a filter: 微信 and its homophones (威信, 薇信, 徽信, 维信, 唯信,
# 魏信, 卫星 "satellite"), 绿泡泡 "green bubble", v信 / 微x / vx / wx, and "add me" forms: 加v, +v, 私v,
# 加微, 加薇. Spelled with a space (we chat, wei xin) it needs a colon: "we chat together" is English.
_WECHAT_WORD = r"(?:[微威薇徽维唯魏卫v]信|[微薇v]x|卫星|绿泡泡|wechat|weixin|vx|wx)"
_WECHAT_ADD = r"(?:加|\+|add|私)\s*[v微薇威]"
_WECHAT_SPACED = r"(?:we\s+chat|wei\s+xin)"
_ID_WORD = r"(?:\s*(?:号码|号|id|账号|帐号))?"
_WECHAT = re.compile(
    rf"(?<![a-z])(?:(?:(?P<word>{_WECHAT_WORD})|(?P<add>{_WECHAT_ADD})){_ID_WORD}"
    r"(?:(?P<sep>\s*[:：=是为]\s*)|(?P<space>\s+)|(?=[a-z]))"
    rf"|{_WECHAT_SPACED}{_ID_WORD}\s*[:：=是为]\s*|v\s*[:：]\s*)"
    r"(?P<id>[a-z][a-z0-9_\-]{5,19})(?![a-z0-9_\-])",
    re.IGNORECASE,
)
# Units that make a number after a keyword an amount, not an id ("微信支付 12800 元", "抖音 100000 赞").
_NOT_AMOUNT = (
    r"(?!\s*(?:元|块|圆|rmb|¥|%|分|秒|次|个|杯|份|人|天|ml|毫升|克|kg|万|千|赞|粉|关注|收藏|转发|评论|播放))"
)
# A WeChat id made of digits (a QQ number or an old account); a phone after the keyword stays a phone.
_WECHAT_NUMBER = re.compile(
    rf"(?<![a-z])(?:{_WECHAT_WORD}|{_WECHAT_ADD}|{_WECHAT_SPACED}){_ID_WORD}[\s:：=是为]*"
    rf"(?P<id>[1-9]{_digits('5,10')})(?!{_GAP}\d){_NOT_AMOUNT}",
    re.IGNORECASE,
)
# Other apps' accounts: Weibo (an @handle or an id), DingTalk, Douyin, Xiaohongshu, Kuaishou, Alipay,
# Taobao / Wangwang and the foreign messengers. An Alipay account is most often a phone or an e-mail
# address, which their own rules find first.
_ACCOUNT = re.compile(
    r"(?<![a-z])(?:(?P<word>微博|钉钉|抖音|小红书|快手|支付宝|淘宝|旺旺|weibo|dingtalk|douyin|alipay|skype"
    rf"|telegram|whatsapp|instagram)){_ID_WORD}(?:(?P<sep>\s*[:：=是为]\s*)|(?P<space>\s+)|(?=@))"
    r"(?P<id>@[^\s@,，。.!！?？:：;；、()（）\[\]【】]{1,20}|[a-z0-9][a-z0-9_\-.]{2,29}[a-z0-9_])"
    rf"(?![a-z0-9_\-]){_NOT_AMOUNT}",
    re.IGNORECASE,
)


def _plausible_id(match: re.Match[str]) -> bool:
    """Whether what follows a messenger keyword is an id rather than the sentence going on: a Latin
    keyword and a bare space before a plain word ("paid by wechat because") is English, a word glued
    to 加v ("加vanilla") is an order, and a number of fewer than six digits is no account."""
    found, word = match["id"], match.groupdict().get("word")
    if found.isdigit():
        return len(found) >= 6
    if match.groupdict().get("add") is not None and not (match["sep"] or match["space"]):
        return False
    plain_word = found.isalpha() and found.isascii()
    return not (plain_word and word is not None and word.isascii() and not match["sep"])


_QQ = re.compile(
    rf"(?<![a-z])(?:qq|扣扣|企鹅)(?:号|号码)?[\s:：=是为]*(?P<id>[1-9]{_digits('4,10')})(?!\d)",
    re.IGNORECASE,
)
# 18 digits, the last one may be X: a resident ID card.
_ID_CARD = re.compile(rf"(?<!\d)[1-9]{_digits('16')}{_GAP}[\dx](?![\da-z])(?!{_GAP}\d)", re.IGNORECASE)
_DIGIT_BEFORE = re.compile(rf"\d{_GAP}$")
_TWO_DIGITS = re.compile(r"\d\d")


def _stands_alone(match: re.Match[str]) -> bool:
    """Whether ``match`` is no slice of a longer list of single digits (评分 5 5 4 5 3 …): 18 of them
    are no ID card. A number written in groups stays masked after a stray digit ("5 110101 1990…")."""
    spaced = _TWO_DIGITS.search(match[0]) is None
    return not (spaced and _DIGIT_BEFORE.search(match.string, max(0, match.start() - 4), match.start()))


# 15 to 19 digits starting 3-6 (Amex, Visa, Mastercard, UnionPay): a bank card if Luhn agrees.
_CARD = re.compile(rf"(?<!\d)[3-6]{_digits('14,18')}(?!{_GAP}\d)")
# After a word that names a card, 12 to 19 digits are one whether Luhn agrees or not.
_CARD_ANNOUNCED = re.compile(
    rf"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|card\s*(?:no|number|#))[^\d\n]{{0,6}}?"
    rf"(?P<id>\d{_digits('11,18')})(?!{_GAP}\d)",
    re.IGNORECASE,
)
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
# A local number (7 or 8 digits, no area code) is masked only within a few characters after a word
# that dials it (打, 拨, 呼, 找, ring) or the words above. By its shape alone it is just as likely an
# order number, an amount in fen or a pickup code, and masking those would destroy what a comment
# says; a local number without its area code and with no such word near it is the smaller leak.
_LOCAL = re.compile(
    rf"(?:打|拨|呼|找|ring)[^\d\n]{{0,4}}?(?P<id>[2-9]{_digits('6,7')})(?!{_GAP}\d){_NOT_AMOUNT}",
    re.IGNORECASE,
)


def _is_card(digits: str) -> bool:
    """Luhn's check, which bank card numbers pass and nine in ten other long numbers fail."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


# --- Folds made only for texts that need them: look-alike letters and spoken digits -------------------

# l, I and | for 1, O and o for 0 (and their Cyrillic and Greek twins), inside a run of 7+ digit-like
# characters that holds real digits and touches no other letter (l38OOl38OOO, I3800I38000): a word
# is never such a run.
_LOOKALIKES = "lI|ІΙOoОоΟο"
_LOOKALIKE = str.maketrans(_LOOKALIKES, "11111000000")
_LOOKALIKE_RUN = re.compile(
    rf"(?<![A-Za-zА-яΑ-ω])[\d{_LOOKALIKES}](?:{_GAP}[\d{_LOOKALIKES}]){{6,}}(?![A-Za-zА-яΑ-ω])"
)
# Digits said in English or pinyin ("one three eight", "oh" for zero, "double eight", yao san ba).
_SPOKEN = {
    **dict.fromkeys(("zero", "oh", "o", "ling", "dong"), "0"),
    **dict.fromkeys(("one", "yao", "yi"), "1"),
    **dict.fromkeys(("two", "er", "liang"), "2"),
    **dict.fromkeys(("three", "san"), "3"),
    **dict.fromkeys(("four", "si"), "4"),
    **dict.fromkeys(("five", "wu"), "5"),
    **dict.fromkeys(("six", "liu"), "6"),
    **dict.fromkeys(("seven", "qi"), "7"),
    **dict.fromkeys(("eight", "ba"), "8"),
    **dict.fromkeys(("nine", "jiu"), "9"),
}
_SPOKEN_WORD = "|".join(sorted(_SPOKEN, key=len, reverse=True))
_SPOKEN_TOKEN = rf"(?:(?:double|triple)[\s\-]*)?(?:{_SPOKEN_WORD}|\d)"
# Five or more of them in a row, the first a word (digits before it are read as they are), touching no
# other letter; pinyin is often written without spaces.
_SPOKEN_RUN = re.compile(
    rf"(?<![a-z])(?:(?:double|triple)[\s\-]*)?(?:{_SPOKEN_WORD})(?:[\s,\-.]*{_SPOKEN_TOKEN}){{4,}}(?![a-z])",
    re.IGNORECASE | re.ASCII,
)
_SPOKEN_PART = re.compile(rf"(?:(double|triple)[\s\-]*)?({_SPOKEN_WORD}|\d)", re.IGNORECASE | re.ASCII)
_LATIN = re.compile(f"[A-Za-z{_LOOKALIKES}]")

# A rewritten fold: its text and, for each of its characters, the span of the base fold it stands for.
_Rewritten = tuple[str, list[int], list[int]]


def _lookalikes(base: str) -> _Rewritten | None:
    """``base`` with look-alike letters read as digits inside digit runs; None if it has none."""
    pieces, last = [], 0
    for match in _LOOKALIKE_RUN.finditer(base):
        run = match[0]
        if sum(char.isdigit() for char in run) >= 2 and run.translate(_LOOKALIKE) != run:
            pieces += [base[last : match.start()], run.translate(_LOOKALIKE)]
            last = match.end()
    if not pieces:
        return None
    positions = list(range(len(base)))
    return "".join(pieces) + base[last:], positions, [position + 1 for position in positions]


def _spoken(base: str) -> _Rewritten | None:
    """``base`` with runs of spoken digits written as digits (separators kept); None if it has none.
    Each digit maps back to the whole word it was said with, so the mask covers "eight", not "e"."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last = 0
    for run in _SPOKEN_RUN.finditer(base):
        for part in _SPOKEN_PART.finditer(base, run.start(), run.end()):
            kept = base[last : part.start()]
            pieces.append(kept)
            starts += range(last, part.start())
            ends += range(last + 1, part.start() + 1)
            repeat = {"double": 2, "triple": 3}.get((part[1] or "").lower(), 1)
            digits = (part[2] if part[2].isdigit() else _SPOKEN[part[2].lower()]) * repeat
            pieces.append(digits)
            starts += [part.start()] * len(digits)
            ends += [part.end()] * len(digits)
            last = part.end()
    if not pieces:
        return None
    pieces.append(base[last:])
    starts += range(last, len(base))
    ends += range(last + 1, len(base) + 1)
    return "".join(pieces), starts, ends


_REWRITES: dict[str, Callable[[str], _Rewritten | None]] = {"lookalike": _lookalikes, "spoken": _spoken}


# A long number named as an order, a transaction or an invoice is one, even where its digits pass
# Luhn like a card's (one in ten does) or are 18 like an ID card's; an 11-digit mobile is too short
# to be taken for one, so "订单号 13800138000" is still masked.
_ORDER_NUMBER = re.compile(
    r"(?:订单号|订单编号|单号|流水号|交易号|交易单号|发票号|快递单号|运单号|order\s*(?:no|number|id|#))"
    rf"[\s:：#是为.]*(?P<id>[a-z]{{0,4}}\d{_digits('11,')})(?!{_GAP}\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Rule:
    label: str | None  # None: what it finds is no contact detail, and keeps later rules off it
    pattern: re.Pattern[str]
    # What a text must show before the rule runs (see _gates): most texts skip every rule, and the
    # e-mail pattern, which tries every run of letters, only runs where there is an @-like sign.
    gate: Literal["at", "messenger", "digits"]
    group: str | int = 0
    accept: Callable[[re.Match[str]], bool] | None = None
    # Rules for numbers read every fold of a text, in order: "digits" (Chinese numerals read as digits),
    # "plain" (they are not: 13800138000一般 is a phone before the word 一般) and the rewritten folds
    # (numerals that begin a word, look-alike letters, spoken digits). Rules for words read "plain"
    # only: in 张三@qq.com the 三 is a name.
    numbers: bool = True


# In priority order: where two rules overlap, the earlier one masks.
RULES = (
    _Rule(None, _ORDER_NUMBER, "digits", "id"),
    _Rule("email", _EMAIL, "at", numbers=False),
    _Rule("wechat", _WECHAT, "messenger", "id", _plausible_id, numbers=False),
    _Rule("qq", _QQ, "digits", "id"),
    _Rule("card", _CARD_ANNOUNCED, "digits", "id"),
    _Rule("id", _ID_CARD, "digits", accept=_stands_alone),
    _Rule(
        "card",
        _CARD,
        "digits",
        accept=lambda match: _stands_alone(match) and _is_card(re.sub(r"\D", "", match[0])),
    ),
    _Rule("phone", _MOBILE, "digits"),
    _Rule("phone", _LANDLINE, "digits"),
    _Rule("phone", _INTERNATIONAL, "digits"),
    _Rule("phone", _ANNOUNCED, "digits", "id"),
    _Rule("phone", _LOCAL, "digits", "id"),
    _Rule("wechat", _WECHAT_NUMBER, "messenger", "id", _plausible_id),
    _Rule("account", _ACCOUNT, "messenger", "id", _plausible_id, numbers=False),
)
_FIVE_DIGITS = re.compile(r"\d(?:\D{0,3}\d){4}")
_AT_HINT = re.compile("[@#★☆aA]|艾特")  # "at" and "(a)" hold an a
# Every messenger keyword above starts with a Latin letter or one of these (whole words where their
# first character is common: 支持, 奶绿, 红茶, 很快).
_MESSENGER = re.compile(r"[a-zA-Z微威薇徽维唯魏]|卫星|绿泡泡|钉钉|抖音|小红书|快手|支付宝|淘宝|旺旺")
# Both of them in one pattern, which most comments fail.
_WORD_HINT = re.compile(r"[a-zA-Z微威薇徽维唯魏@#★☆]|卫星|绿泡泡|钉钉|抖音|小红书|快手|支付宝|淘宝|旺旺|艾特")


def _gates(folded: str) -> set[str]:
    """The rule gates ``folded`` opens, by plain substring tests and two one-character classes (a
    pattern per rule costs more than the rest of a clean comment's check): supersets of what the
    rules' patterns need."""
    gates = set()
    if _WORD_HINT.search(folded):
        if _AT_HINT.search(folded):
            gates.add("at")
        if _MESSENGER.search(folded):
            gates.add("messenger")
    if _FIVE_DIGITS.search(folded):
        gates.add("digits")
    return gates


LABELS = tuple(dict.fromkeys(rule.label for rule in RULES if rule.label is not None))


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


@dataclass
class _Fold:
    """One fold of a text, with the way back to the original: a character fold's position map (built
    the first time a rule matches in it), or a rewritten fold's spans in the digits fold."""

    name: str
    text: str
    gates: set[str]
    numerals: bool = True
    rewritten: tuple[list[int], list[int]] | None = None
    origin: list[int] | None = None


# A Chinese numeral that begins a word (一般, 一直, 两个) is no digit of the number written before it:
# 一三八零零一三八零零零一般 holds a mobile, not a 12-digit number.
_NUMERAL_IN_WORD = re.compile(rf"[{''.join(CHINESE_DIGITS)}](?=[^\W\d_a-zA-Z{''.join(CHINESE_DIGITS)}])")


def _numeral_words(plain: str, digits: str) -> _Rewritten | None:
    """``digits`` with the numerals that begin a word put back (both folds map one to one there)."""
    chars = list(digits)
    for match in _NUMERAL_IN_WORD.finditer(plain):
        chars[match.start()] = match[0]
    if chars == list(digits):
        return None
    positions = list(range(len(digits)))
    return "".join(chars), positions, [position + 1 for position in positions]


def _folds(text: str, digits: str, gates: set[str]) -> list[_Fold]:
    """The folds of ``text`` that differ from each other, ``digits`` (its digits fold) first."""
    folds = [_Fold("digits", digits, gates)]
    plain = text.translate(_FOLD_TABLES[False])
    if plain != digits:
        folds.append(_Fold("plain", plain, _gates(plain), numerals=False))
        if (words := _numeral_words(plain, digits)) is not None:
            folds.append(_Fold("words", words[0], _gates(words[0]), rewritten=words[1:]))
    if _LATIN.search(digits):  # look-alikes and spoken digits are Latin letters
        for name, rewrite in _REWRITES.items():
            if (rewritten := rewrite(digits)) is not None:
                folds.append(_Fold(name, rewritten[0], _gates(rewritten[0]), rewritten=rewritten[1:]))
    return folds


def _span(text: str, folds: list[_Fold], fold_: _Fold, start: int, end: int) -> tuple[int, int]:
    """Where ``[start, end)`` of ``fold_`` stands in ``text``."""
    if fold_.rewritten is not None:
        starts, ends = fold_.rewritten
        return _span(text, folds, folds[0], starts[start], ends[end - 1])
    if fold_.origin is None:
        fold_.origin = fold(text, fold_.numerals)[1]
    start, end = fold_.origin[start], fold_.origin[end - 1] + 1
    while end < len(text) and not text[end].translate(_FOLD_TABLES[True]):
        end += 1  # the combining marks that fold to nothing go with the character before them (1️⃣)
    return start, end


def find_contacts(text: str) -> list[Finding]:
    """Every contact detail in ``text``, in order, none overlapping."""
    if not text:
        return []
    digits = text.translate(_FOLD_TABLES[True])
    gates = _gates(digits)
    if not gates:  # every Latin letter opens a gate: look-alikes and spoken digits are no way around
        return []
    folds = _folds(text, digits, gates)
    plain = next((fold_ for fold_ in folds if fold_.name == "plain"), folds[0])
    taken: list[Finding] = []
    for rule in RULES:
        for fold_ in folds if rule.numbers else (plain,):
            if rule.gate not in fold_.gates:
                continue
            for match in rule.pattern.finditer(fold_.text):
                if rule.accept is not None and not rule.accept(match):
                    continue
                start, end = _span(text, folds, fold_, *match.span(rule.group))
                found = _with_brackets(text, Finding(rule.label or "", start, end))
                if not any(found.start < other.end and other.start < found.end for other in taken):
                    taken.append(found)
    return sorted((found for found in taken if found.label), key=lambda finding: finding.start)


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


def register(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Add the masking functions to ``connection`` (and its cursors); a second call changes nothing.

    They are plain (row at a time) Python functions, not Arrow ones: DuckDB 1.5 never returns from
    an Arrow function's result read under ``trim(coalesce(...))`` in a filter, a shape a page's
    query may well take over a masked view, and the maskers call Python once per value either way.
    NULL stays NULL without a call.
    """
    for kind, masker in MASKERS.items():
        # DuckDB refuses a second function of the same name; listing duckdb_functions() first to
        # avoid that cost 0.1 s per connection (thousands of built-ins), which every door paid.
        with suppress(duckdb.NotImplementedException):
            connection.create_function(sql_function(kind), masker, ["VARCHAR"], "VARCHAR")
    return connection
