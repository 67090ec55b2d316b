"""One record (a CSV line, a JSON object, a table row) as erasure sees it: whether it is the person's,
and what each of its values becomes.

A record is the person's when a value in it is their customer id, phone or e-mail, or one of the keys
that lead to them (the transactions they made, the survey responses they gave). In such a record
their name, its parts, and values that place them (an IP address, a latitude or longitude) are
erased too; elsewhere only their id, phone and e-mail are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cxlake.privacy.identity import Person

# A value that is an IP address (as survey tools write it, maybe followed by where it is: 问卷星's
# "114.25.248.165(广东-郑州)"): it places the respondent, so it goes with their record.
_IP_VALUE = re.compile(
    r"^\s*(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})\s*(?:[(（][^)）]*[)）])?\s*$"
)
# Columns that place a respondent (Qualtrics' LocationLatitude / LocationLongitude and the like).
_PLACE_COLUMN = re.compile(
    r"latitude|longitude|(^|[^a-z])ip([^a-z]|$)|ipaddress|ip地址|来源ip", re.IGNORECASE
)


@dataclass(frozen=True)
class Keys:
    """The person and the keys of records that belong to them without naming them."""

    person: Person
    # transaction ids, and survey responses as "<survey_id>:<response_id>" (a response id alone is
    # often a per-survey counter, "17", which would match any 17)
    linked: frozenset[str] = frozenset()


def response_key(values: Sequence[object], columns: Sequence[str]) -> str | None:
    """``<survey_id>:<response_id>`` of a record that has both columns (a response or an answer)."""
    if "survey_id" in columns and "response_id" in columns:
        survey, response = values[columns.index("survey_id")], values[columns.index("response_id")]
        if isinstance(survey, str) and isinstance(response, str):
            return f"{survey}:{response}"
    return None


def is_theirs(keys: Keys, values: Sequence[object], columns: Sequence[str] = ()) -> bool:
    """Whether a record with these values (of these columns, when known) is the person's."""
    if keys.linked and response_key(values, list(columns)) in keys.linked:
        return True
    matcher = keys.person.matcher
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        if value.strip() in keys.linked or matcher.identifies(value):
            return True
    return False


def erased_value(keys: Keys, value: object, *, theirs: bool, column: str = "") -> object:
    """What ``value`` (of ``column``) becomes: unchanged when it holds nothing of the person."""
    if not isinstance(value, str) or not value:
        return value
    if theirs and (_IP_VALUE.match(value) or (column and _PLACE_COLUMN.search(column))):
        return ""
    return keys.person.matcher.scrubbed(value, names=theirs)


def erased_record(
    keys: Keys, values: Sequence[object], columns: Sequence[str] = (), *, theirs: bool = False
) -> list[object] | None:
    """The record's values once the person is erased, or None when nothing in it changes; ``theirs``
    when the record is known to be the person's (it sits inside one of their records)."""
    theirs = theirs or is_theirs(keys, values, columns)
    names = list(columns) + [""] * (len(values) - len(columns))
    new = [
        erased_value(keys, value, theirs=theirs, column=name)
        for value, name in zip(values, names, strict=False)
    ]
    return new if new != list(values) else None


def erased_json(value: object, keys: Keys, *, theirs: bool = False) -> tuple[object, int]:
    """A JSON value with the person erased from every object in it, and how many objects changed.
    An object is a record: its plain values are judged together, and what nests in one of the
    person's objects is theirs too."""
    if isinstance(value, list):
        changed = 0
        items = []
        for item in value:
            new, count = erased_json(item, keys, theirs=theirs)
            items.append(new)
            changed += count
        return items, changed
    if not isinstance(value, dict):
        if isinstance(value, str):
            new_text = erased_value(keys, value, theirs=theirs)
            return new_text, int(new_text != value)
        return value, 0
    flat = [(name, item) for name, item in value.items() if not isinstance(item, dict | list)]
    own = theirs or is_theirs(keys, [item for _, item in flat], [name for name, _ in flat])
    new_flat = erased_record(keys, [item for _, item in flat], [name for name, _ in flat], theirs=own)
    changed = int(new_flat is not None)
    result = dict(zip((name for name, _ in flat), new_flat, strict=True)) if new_flat else dict(flat)
    for name, item in value.items():
        if isinstance(item, dict | list):
            result[name], count = erased_json(item, keys, theirs=own)
            changed += count
    return {name: result[name] for name in value}, changed
