"""What every suite is made of: derived columns to validate and the expectations over them.

Raw rows are text as delivered; a suite first derives typed columns (a timestamp's local day, a
number) so that GX can say "ordered_at is not inside the partition day" about the raw row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe
import pandas as pd

ROW = "row"  # a failure quarantines the row
RECORD_PROBLEM = "_record_problem"  # set by the reader: wrong field count, NUL byte, field too long
ERROR, WARN = "error", "warn"  # error: quarantine (row rules) or block; warn: report only


@dataclass(frozen=True)
class RuleContext:
    """What the rules need to know beyond the rows themselves."""

    store_ids: frozenset[str]
    staff_ids: frozenset[str]
    survey_ids: frozenset[str]
    loaded_keys: frozenset[str]  # record keys already loaded from other partitions
    now: pd.Timestamp
    timezone: str
    max_text_length: int


@dataclass(frozen=True)
class TableSuite:
    raw_table: str
    derive: Callable[[pd.DataFrame, RuleContext], pd.DataFrame]
    expectations: Callable[[RuleContext], list]
    record_key: Callable[[pd.DataFrame], pd.Series] | None = None  # unique across partitions
    # the same key as a SQL expression over raw.<table>'s columns: history is checked inside DuckDB
    record_key_sql: str | None = None

    def keys(self, frame: pd.DataFrame) -> pd.Series | None:
        return None if self.record_key is None else self.record_key(frame)


def rule(expectation, description: str, severity: str = ERROR):
    """Tag an expectation with what a steward reads and how hard it bites."""
    expectation.meta = {"level": ROW, "severity": severity, "rule": description}
    return expectation


def timestamp_checks(frame: pd.DataFrame, column: str, context: RuleContext, prefix: str) -> pd.DataFrame:
    """<prefix>_ts (UTC), <prefix>_day_offset (local day minus partition day), <prefix>_in_future."""
    parsed = pd.to_datetime(frame[column], errors="coerce", utc=True, format="ISO8601")
    local_day = parsed.dt.tz_convert(context.timezone).dt.tz_localize(None).dt.normalize()
    partition_day = pd.to_datetime(frame["_partition_date"])
    return frame.assign(
        **{
            f"{prefix}_ts": parsed,
            f"{prefix}_day_offset": (local_day - partition_day).dt.days,
            f"{prefix}_in_future": parsed > context.now,
        }
    )


def numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def text_length(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.len()


def already_loaded(keys: pd.Series, context: RuleContext) -> pd.Series:
    return keys.isin(context.loaded_keys)


def not_null(column: str, description: str):
    return rule(gxe.ExpectColumnValuesToNotBeNull(column=column), description)


def in_set(column: str, values, description: str, severity: str = ERROR):
    return rule(
        gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(values)), description, severity
    )


def between(column: str, low, high, description: str, severity: str = ERROR):
    return rule(
        gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high), description, severity
    )


def repeated(keys: pd.Series) -> pd.Series:
    """True for every occurrence of a key after its first (rows arrive in day, file, line order):
    the first delivery of a record loads, a re-delivered copy is held back."""
    return keys.duplicated(keep="first") & keys.notna()


def well_formed_record():
    return rule(
        gxe.ExpectColumnValuesToBeNull(column=RECORD_PROBLEM),
        "the record has as many fields as the header, no NUL byte and no field the reader had to cut",
    )


# An id is printable ASCII without spaces: a byte-order mark, zero-width space or direction mark in
# one (U+FEFF, U+200B..U+200F, U+2060) would otherwise load as a different id that no join finds.
# \Z, not $: $ also matches before a final newline.
ID_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.:#@/+\-]*\Z"
ID_CHARS = 64  # ids, codes, numbers and timestamps as delivered
NAME_CHARS = 200  # names of people, stores, products, shops; e-mail addresses


def id_rules(*columns: str) -> list:
    """Each column, when present, is an id: ASCII letters, digits and ``_.:#@/+-``, nothing invisible."""
    return [
        matches(column, ID_REGEX, f"{column} is an id (ASCII letters, digits, _.:#@/+- ; nothing invisible)")
        for column in columns
    ]


def text_lengths(frame: pd.DataFrame, limits: dict[str, int]) -> pd.DataFrame:
    """``<column>_length`` for each column of ``limits``: what :func:`length_rules` judges."""
    return frame.assign(**{f"{column}_length": text_length(frame[column]) for column in limits})


def length_rules(limits: dict[str, int]) -> list:
    """A text longer than its column's limit is quarantined, whatever the column: a 17-million-character
    name is a broken export, not a name."""
    return [
        between(f"{column}_length", 0, limit, f"{column} is at most {limit:,} characters")
        for column, limit in limits.items()
    ]


def column_limits(columns: tuple[str, ...], longer: dict[str, int]) -> dict[str, int]:
    """Every raw column's length limit: ``longer`` for names and free text, ID_CHARS for the rest."""
    unknown = set(longer) - set(columns)
    if unknown:
        raise ValueError(f"length limits for columns the table does not have: {sorted(unknown)}")
    return {column: longer.get(column, ID_CHARS) for column in columns}


def matches(column: str, regex: str, description: str, severity: str = ERROR):
    return rule(gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex), description, severity)


def is_false(column: str, description: str):
    return rule(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[False]), description)


def timestamp_rules(prefix: str, column: str) -> list:
    return [
        not_null(f"{prefix}_ts", f"{column} is a timestamp"),
        between(f"{prefix}_day_offset", 0, 0, f"{column} falls on the partition's day"),
        is_false(f"{prefix}_in_future", f"{column} is not in the future"),
    ]
