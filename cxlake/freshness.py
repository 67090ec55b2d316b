"""Is each source still delivering? One rule per source, read from cxlake/config/pipeline.yaml, and
one judgement that Dagster's freshness checks and the explorer's banner both call, so the two never
disagree about which source has gone quiet.

A survey tool that stops sending for a morning matters; the same silence overnight does not, so a
rule may count only business hours (``count: business_hours``): six hours of silence is then six
hours the stores were open. Sources delivered once a day count every hour (``count: all_hours``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

import yaml

from cxlake.contracts import BUSINESS_TIMEZONE

CONFIG_NAME = "cxlake/config/pipeline.yaml"
Counting = Literal["business_hours", "all_hours"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class FreshnessConfigError(ValueError):
    """pipeline.yaml's ``freshness`` cannot be used; the message names the key and the value."""


@dataclass(frozen=True)
class FreshnessRule:
    """How long ``source`` may stay silent, counted in business hours or in all hours."""

    source: str
    max_silence: timedelta
    count: Counting
    opens: time
    closes: time
    timezone: str


@dataclass(frozen=True)
class FreshnessState:
    """One source's verdict at ``now``: its last delivery, the silence counted so far, and whether
    that is longer than its rule allows (``last_delivery_at`` None: nothing recorded yet)."""

    rule: FreshnessRule
    last_delivery_at: datetime | None
    silence: timedelta | None
    now: datetime

    @property
    def stale(self) -> bool:
        return self.silence is None or self.silence > self.rule.max_silence

    def describe(self) -> str:
        """One line for a check's description and the sensor's log."""
        allowed = _hours(self.rule.max_silence) + (
            " allowed, in business hours" if self.rule.count == "business_hours" else " allowed"
        )
        if self.last_delivery_at is None:
            return f"{self.rule.source}: no delivery recorded yet ({allowed})"
        local = self.last_delivery_at.astimezone(ZoneInfo(self.rule.timezone)).strftime("%Y-%m-%d %H:%M")
        silent = _hours(self.silence or timedelta())
        return f"{self.rule.source}: last delivery {local}, silent {silent} of {allowed}"


def parse_duration(value: object, where: str) -> timedelta:
    """``90m``, ``6h``, ``2d`` (a number alone is hours)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(hours=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise FreshnessConfigError(f"{CONFIG_NAME}: {where}: {value!r} is not a duration like 90m, 6h or 2d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def _clock(value: object, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise FreshnessConfigError(f"{CONFIG_NAME}: {where}: {value!r} is not a time like 09:00") from None


def freshness_rules(
    document: Mapping[str, object] | None = None, timezone: str = BUSINESS_TIMEZONE
) -> list[FreshnessRule]:
    """The ``freshness`` section of pipeline.yaml (or of ``document``), checked, one rule per source."""
    if document is None:
        text = resources.files("cxlake.config").joinpath("pipeline.yaml").read_text("utf-8")
        document = yaml.safe_load(text) or {}
    section = document.get("freshness") or {}
    if not isinstance(section, Mapping):
        raise FreshnessConfigError(f"{CONFIG_NAME}: freshness: expected a mapping")
    hours = section.get("business_hours") or {}
    opens = _clock(hours.get("opens", "09:00"), "freshness.business_hours.opens")
    closes = _clock(hours.get("closes", "22:00"), "freshness.business_hours.closes")
    if closes <= opens:
        raise FreshnessConfigError(
            f"{CONFIG_NAME}: freshness.business_hours: closes {closes} is not after opens {opens}"
        )
    rules = []
    for source, settings in (section.get("sources") or {}).items():
        where = f"freshness.sources.{source}"
        if not isinstance(settings, Mapping) or "max_silence" not in settings:
            raise FreshnessConfigError(f"{CONFIG_NAME}: {where}: needs max_silence (e.g. 6h)")
        count = settings.get("count", "business_hours")
        if count not in ("business_hours", "all_hours"):
            raise FreshnessConfigError(
                f"{CONFIG_NAME}: {where}.count: {count!r} is not business_hours or all_hours"
            )
        silence = parse_duration(settings["max_silence"], f"{where}.max_silence")
        rules.append(FreshnessRule(str(source), silence, count, opens, closes, timezone))
    return rules


def silence(rule: FreshnessRule, since: datetime, now: datetime) -> timedelta:
    """Time from ``since`` to ``now`` that counts under ``rule``: every hour, or only the hours
    between opening and closing in the rule's zone (a delivery at 21:00 followed by none is one
    business hour silent at 22:00 and still one at 08:00 next morning)."""
    if now <= since:
        return timedelta()
    if rule.count == "all_hours":
        return now - since
    zone = ZoneInfo(rule.timezone)
    start, end = since.astimezone(zone), now.astimezone(zone)
    counted = timedelta()
    day = start.date()
    while day <= end.date():
        opens = datetime.combine(day, rule.opens, zone)
        closes = datetime.combine(day, rule.closes, zone)
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta():
            counted += overlap
        day += timedelta(days=1)
    return counted


def judge(
    rule: FreshnessRule, last_delivery_at: datetime | None, now: datetime | None = None
) -> FreshnessState:
    """The verdict for one source, given when its last delivery was recorded."""
    now = now or datetime.now(UTC)
    if last_delivery_at is None:
        return FreshnessState(rule, None, None, now)
    if last_delivery_at.tzinfo is None:  # DuckDB hands back timestamptz as aware; a naive one is UTC
        last_delivery_at = last_delivery_at.replace(tzinfo=UTC)
    return FreshnessState(rule, last_delivery_at, silence(rule, last_delivery_at, now), now)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f}".rstrip("0").rstrip(".") + "h"


# What counts as a source's delivery, in the warehouse and in its serving copy: a validation of one
# of its partitions that had delivered files (load_audit holds the day), done at most a day after the
# partition's own day in the business zone: a backfill re-validating last month is no new delivery.
LAST_DELIVERIES_SQL = """
select v.source, max(v.validated_at) as last_delivery_at
from dq.validation_runs as v
where exists (
    select 1 from dq.load_audit as a where a.source = v.source and a.partition_date = v.partition_date
)
and cast(timezone(?, v.validated_at) as date) - v.partition_date <= 1
group by v.source
"""
