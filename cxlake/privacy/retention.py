"""The retention policy: how long each kind of personal data is kept, from ``config/retention.yaml``.

A typo in the file must stop the purge with the file and the key, never keep data longer (an
unknown field silently ignored) or purge it early (a period misread). See the YAML for what each
kind of data is and how periods are written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from cxlake.config import read_config

# The kinds of personal data a period can be set for (the YAML says what each one covers).
FIELDS = ("comments", "ip_addresses", "respondent_metadata", "reviewer_nicknames")
# The sources that deliver them (landing folders / raw table sources of cxlake.contracts).
SURVEY_SOURCES = ("qualtrics", "wjx", "surveys", "survey_api", "kano")
SOURCES = (*SURVEY_SOURCES, "reviews")
QUARANTINE_KEYS = ("after_decision", "undecided")

MAX_PERIOD_DAYS = 200 * 365
_PERIOD = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$", re.IGNORECASE)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


class RetentionError(ValueError):
    """retention.yaml says something the purge cannot apply; the message names the file and key."""


@dataclass(frozen=True)
class RetentionPolicy:
    """Periods in days (None: kept forever) per field, per-source overrides, and the quarantine's."""

    fields: Mapping[str, int | None]
    sources: Mapping[str, Mapping[str, int | None]] = field(default_factory=dict)
    quarantine_after_decision: int | None = None
    quarantine_undecided: int | None = None

    def period(self, field_name: str, sources: Iterable[str]) -> int | None:
        """Days ``field_name`` is kept in data fed by ``sources``: the shortest any of them allows
        (a table mixing sources must not keep a field longer than one of them permits)."""
        periods = [
            self.sources.get(source, {}).get(field_name, self.fields[field_name]) for source in sources
        ]
        kept = [days for days in periods if days is not None]
        return min(kept) if kept else None

    def cutoff(self, field_name: str, sources: Iterable[str], as_of: date) -> date | None:
        """Rows dated before this day lose the field (None: nothing is purged)."""
        days = self.period(field_name, sources)
        return None if days is None else as_of - timedelta(days=days)


def parse_period(value: object, where: str) -> int | None:
    """``"90 days"``, ``"3 years"``, ``"forever"`` -> days (None for forever)."""
    if isinstance(value, str) and value.strip().lower() == "forever":
        return None
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None:
        raise RetentionError(
            f"{where}: {value!r} is not a period (write '<n> days|weeks|months|years' or 'forever')"
        )
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]
    if days > MAX_PERIOD_DAYS:  # no calendar reaches that far back: it means "keep it"
        raise RetentionError(f"{where}: {value!r} is longer than any record can be old; write 'forever'")
    return days


def load_retention(path: Path | None = None, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
    """Read and check retention.yaml (default: the shipped one; ``$CXLAKE_RETENTION_YAML`` overrides)."""
    path, raw = read_config(
        "retention.yaml", "CXLAKE_RETENTION_YAML", RetentionError, "the retention policy", path, environ
    )
    _mapping(raw, f"{path}", ("fields", "sources", "quarantine"))
    fields_raw = _mapping(raw.get("fields") or {}, f"{path}: fields", FIELDS)
    fields = {name: parse_period(value, f"{path}: fields.{name}") for name, value in fields_raw.items()}
    sources_raw = _mapping(raw.get("sources") or {}, f"{path}: sources", SOURCES)
    quarantine_raw = _mapping(raw.get("quarantine") or {}, f"{path}: quarantine", QUARANTINE_KEYS)
    missing = [name for name in FIELDS if name not in fields]
    if missing:
        raise RetentionError(
            f"{path}: fields: no period for {', '.join(missing)} (write 'forever' to keep it)"
        )
    return RetentionPolicy(
        fields={name: fields[name] for name in FIELDS},
        sources={
            source: {
                name: parse_period(value, f"{path}: sources.{source}.{name}")
                for name, value in _mapping(overrides or {}, f"{path}: sources.{source}", FIELDS).items()
            }
            for source, overrides in sources_raw.items()
        },
        quarantine_after_decision=parse_period(
            quarantine_raw.get("after_decision", "forever"), f"{path}: quarantine.after_decision"
        ),
        quarantine_undecided=parse_period(
            quarantine_raw.get("undecided", "forever"), f"{path}: quarantine.undecided"
        ),
    )


def _mapping(raw: object, where: str, known: Iterable[str]) -> dict:
    known = tuple(known)
    if not isinstance(raw, dict):
        raise RetentionError(f"{where}: expected a mapping of {', '.join(known)}, got {type(raw).__name__}")
    unknown = sorted(set(map(str, raw)) - set(known))
    if unknown:
        raise RetentionError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")
    return raw
