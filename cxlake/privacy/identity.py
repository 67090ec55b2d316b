"""Who is being erased, and how each of their details is recognised in any text cxlake keeps.

A request names one detail (a customer id, a phone or an e-mail); the CRM rows holding it give the
rest (every id, phone, e-mail and name the person was delivered with). Phones are compared by their
national number, so ``+86 138 0013 8000``, ``138-0013-8000``, ``86-13800138000``, full-width or
Chinese-numeral digits all match ``13800138000``; e-mails case-insensitively after NFKC.

A name alone identifies nobody (two customers may share one), so a name is erased only inside a
record that the person's id, phone or e-mail identifies; ids, phones and e-mails are erased wherever
they appear, in any text.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from cxlake.access.pii import CHINESE_DIGITS, fold
from cxlake.invitations import split_name

# What replaces a detail inside a longer text; a cell that is nothing but the detail becomes empty.
ERASED = "[erased]"
PSEUDONYM_PREFIX = "ERASED-"
# A mainland mobile as written with a country prefix: 86 / +86 / 0086 and 11 digits starting with 1.
_COUNTRY_PREFIXES = ("0086", "86")
_MIN_PHONE_DIGITS = 7
# Between two digits of one written phone: up to three characters that are no letter or digit.
_PHONE_GAP = r"[^0-9A-Za-z]{0,3}"
_NUMERALS = str.maketrans(CHINESE_DIGITS)
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff61": "."})


class IdentityError(ValueError):
    """A request that names no usable detail (a phone without enough digits, an empty e-mail...)."""


def prefold(text: str) -> str:
    """A cheap fold for deciding whether a text may mention someone: NFKC (full-width digits and
    ``＠``) and Chinese numerals as digits. Exact matching folds per character (:func:`fold`)."""
    return unicodedata.normalize("NFKC", text).translate(_NUMERALS)


def national_phone(value: str) -> str:
    """The digits that identify a phone however it is written: a mainland mobile without its
    country prefix, any other number as its digits (at least seven)."""
    digits = re.sub(r"\D", "", fold(str(value))[0])
    for prefix in _COUNTRY_PREFIXES:
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) == 11 and rest.startswith("1"):
            digits = rest
            break
    if len(digits) < _MIN_PHONE_DIGITS:
        raise IdentityError(
            f"phone {value!r} has {len(digits)} digit(s); a phone has at least {_MIN_PHONE_DIGITS}"
        )
    return digits


def normal_email(value: str) -> str:
    """An e-mail address as compared: NFKC (full-width ``＠``, ``。``), trimmed, lower case."""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u3002", ".").strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise IdentityError(f"{value!r} is not an e-mail address")
    return text


def new_pseudonym() -> str:
    """A random stand-in for an erased customer id: it links the person's remaining rows (counts,
    scores) to each other and to nobody; nothing kept maps it back (an id passes the raw id rules)."""
    return PSEUDONYM_PREFIX + secrets.token_hex(8)


@dataclass(frozen=True)
class Person:
    """Every detail that identifies the person to erase; ``pseudonyms`` maps each customer id to its
    stand-in (an id already erased, ``ERASED-...``, is never erased again)."""

    customer_ids: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()  # national numbers (:func:`national_phone`)
    emails: tuple[str, ...] = ()  # :func:`normal_email`
    names: tuple[str, ...] = ()
    pseudonyms: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def of(
        cls,
        customer_ids: Iterable[str] = (),
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        names: Iterable[str] = (),
    ) -> Person:
        """The person with these details, each normalised and de-duplicated, ids given pseudonyms."""
        ids = tuple(sorted({str(i).strip() for i in customer_ids if str(i).strip()}))
        return cls(
            ids,
            tuple(sorted({national_phone(p) for p in phones if str(p).strip()})),
            tuple(sorted({normal_email(e) for e in emails if str(e).strip()})),
            tuple(sorted({str(n).strip() for n in names if str(n).strip()})),
            {i: new_pseudonym() for i in ids},
        )

    def is_empty(self) -> bool:
        return not (self.customer_ids or self.phones or self.emails)

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self)


@dataclass(frozen=True)
class Match:
    """One detail found in a text: ``text[start:end]`` is it; ``replacement`` what it becomes."""

    start: int
    end: int
    replacement: str


class Matcher:
    """Finds a person's details in text and says what each cell becomes once they are erased."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self._ids = [
            (re.compile(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![A-Za-z0-9])"), person.pseudonyms[i])
            for i in person.customer_ids
        ]
        prefix = rf"(?:(?:\+|00)?{_PHONE_GAP}86{_PHONE_GAP})?"
        self._phones = [
            re.compile(rf"(?<!\d){prefix}{_PHONE_GAP.join(phone)}(?!\d)") for phone in person.phones
        ]
        self._emails = [re.compile(re.escape(email), re.IGNORECASE) for email in person.emails]
        self._names = [re.compile(re.escape(name)) for name in sorted(person.names, key=len, reverse=True)]
        self._name_parts = {part for name in person.names for part in (name, *split_name(name)) if part}

    # --- cheap pre-filters ----------------------------------------------------------------------

    def may_mention(self, text: str) -> bool:
        """False only when ``text`` (a cell, a line, a whole file) surely holds no id, phone or
        e-mail of the person: a superset test, exact matching follows."""
        if any(i in text for i in self.person.customer_ids):
            return True
        if self.person.emails:
            # NFKC keeps the ideographic full stop of "gmail。com"; Chinese numerals stay (张三@qq.com)
            plain = unicodedata.normalize("NFKC", text).translate(_FULL_STOPS).lower()
            if any(e in plain for e in self.person.emails):
                return True
        if self.person.phones:
            digits = re.sub(r"\D", "", prefold(text))
            return any(phone in digits for phone in self.person.phones)
        return False

    # --- exact matching --------------------------------------------------------------------------

    def matches(self, text: str, *, names: bool = False) -> list[Match]:
        """Every detail of the person in ``text``, none overlapping, in order; names only if
        ``names`` (the text belongs to a record the person's id, phone or e-mail identifies)."""
        found: list[Match] = []
        for pattern, pseudonym in self._ids:
            found += [Match(m.start(), m.end(), pseudonym) for m in pattern.finditer(text)]
        if self._phones and any(c.isdigit() or c in CHINESE_DIGITS for c in text):
            folded, origin = fold(text)
            for pattern in self._phones:
                for m in pattern.finditer(folded):
                    found.append(Match(origin[m.start()], origin[m.end() - 1] + 1, ERASED))
        if self._emails and "@" in unicodedata.normalize("NFKC", text):
            plain, origin = fold(text, numerals=False)
            for pattern in self._emails:
                for m in pattern.finditer(plain):
                    found.append(Match(origin[m.start()], origin[m.end() - 1] + 1, ERASED))
        if names:
            for pattern in self._names:
                found += [Match(m.start(), m.end(), ERASED) for m in pattern.finditer(text)]
        kept: list[Match] = []
        for match in sorted(found, key=lambda m: (m.start, -(m.end - m.start))):
            if not kept or match.start >= kept[-1].end:
                kept.append(match)
        return kept

    def identifies(self, text: str) -> bool:
        """Whether ``text`` holds the person's id, phone or e-mail."""
        return self.may_mention(text) and bool(self.matches(text))

    def scrubbed(self, text: str, *, names: bool = False) -> str:
        """``text`` with each detail replaced: an id by its pseudonym, anything else by ``[erased]``;
        a text that is nothing but a phone, e-mail or name (or a name's given name or surname, in
        an identified record) becomes empty."""
        if names and text.strip() in self._name_parts:
            return ""
        if not (self.may_mention(text) or (names and any(p.search(text) for p in self._names))):
            return text
        matches = self.matches(text, names=names)
        if not matches:
            return text
        only = matches[0]
        if (
            len(matches) == 1
            and only.replacement == ERASED
            and not (text[: only.start] + text[only.end :]).strip()
        ):
            return ""
        pieces, at = [], 0
        for match in matches:
            pieces += [text[at : match.start], match.replacement]
            at = match.end
        return "".join(pieces) + text[at:]
