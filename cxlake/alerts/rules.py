"""Which alert rules a feedback item matches.

A feedback item is one row of the ``fct_feedback_items`` mart (a survey response or a review of one
of our stores, with its customer's context). A missing value never matches a threshold: a response
without an NPS answer is not a detractor, a guest has no tier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cxlake.alerts.config import Rule
from cxlake.text.aspects import parse_aspects


def matching_rules(item: Mapping[str, Any], rules: Sequence[Rule]) -> list[Rule]:
    """Every rule ``item`` matches, in the configured order (the first one names the case)."""
    return [
        rule
        for rule in rules
        if rule.source == item.get("source")
        and any(_holds(conditions, item) for conditions in rule.condition_sets)
    ]


def _holds(conditions: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    return all(_condition(key, value, item) for key, value in conditions.items())


def _condition(key: str, expected: Any, item: Mapping[str, Any]) -> bool:
    if key == "nps_at_most":
        return _at_most(item.get("nps_score"), expected)
    if key == "lowest_csat_at_most":
        return _at_most(item.get("lowest_csat_score"), expected)
    if key == "rating_at_most":
        return _at_most(item.get("rating"), expected)
    if key == "spend_90d_at_least":
        return _at_least(item.get("spend_90d"), expected)
    if key == "visits_90d_at_least":
        return _at_least(item.get("visits_90d"), expected)
    if key == "sentiment_is":
        return item.get("sentiment_label") == expected
    if key == "member_tier_in":
        return item.get("member_tier") in expected
    if key == "aspects_negative_any":
        negative = {
            tp for tp, label in parse_aspects(item.get("aspects") or "").items() if label == "negative"
        }
        return bool(negative & set(expected))
    if key == "text_mentions_any":
        text = item.get("text") or ""
        return any(word in text for word in expected)
    raise KeyError(key)  # config.py admits only the keys above


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _at_most(value: Any, threshold: float) -> bool:
    number = _number(value)
    return number is not None and number <= threshold


def _at_least(value: Any, threshold: float) -> bool:
    number = _number(value)
    return number is not None and number >= threshold
