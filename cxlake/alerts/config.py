"""The alert rules, service levels and routing of ``cxlake/config/alerts.yaml``, checked on load.

A CX team changes who hears about what by editing that file, so everything it may say is checked
here once, with errors that name the file, the rule and the key: a typo in a threshold must not
silently turn an alert off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

ALERTS_YAML = Path(__file__).resolve().parents[1] / "config" / "alerts.yaml"

SEVERITIES = ("high", "medium", "low")
SOURCES = ("survey", "review")
POSITIONS = ("store_manager", "regional_manager", "cx_director")
SENTIMENTS = ("negative", "neutral", "positive")
TIERS = ("basic", "silver", "gold", "black")
# Condition key -> the kind of value it takes.
CONDITIONS: dict[str, str] = {
    "nps_at_most": "number",
    "lowest_csat_at_most": "number",
    "rating_at_most": "number",
    "sentiment_is": "sentiment",
    "aspects_negative_any": "words",
    "text_mentions_any": "words",
    "member_tier_in": "tiers",
    "spend_90d_at_least": "number",
    "visits_90d_at_least": "number",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


class AlertConfigError(ValueError):
    """alerts.yaml says something the alerts cannot use; the message names the file and the key."""


@dataclass(frozen=True)
class Rule:
    """One alert rule: which feedback it matches and what its case promises."""

    rule_id: str
    label_en: str
    label_zh: str
    source: str
    severity: str
    ack_sla: timedelta
    resolve_sla: timedelta
    responsible: str
    condition_sets: tuple[Mapping[str, Any], ...]  # any one set, all conditions in it

    def label(self, language: str = "en") -> str:
        return self.label_zh if language == "zh" else self.label_en


@dataclass(frozen=True)
class Route:
    """Where a position's messages go: an e-mail address template and webhook channel names."""

    email: str | None
    webhooks: tuple[str, ...] = ()

    def address(self, store_id: str | None, region_id: str | None) -> str | None:
        if not self.email:
            return None
        return self.email.format(store_id=store_id or "", region_id=region_id or "")


@dataclass(frozen=True)
class AlertConfig:
    rules: tuple[Rule, ...]
    fresh_horizon: timedelta
    routing: Mapping[str, Route]
    channels: Mapping[str, Mapping[str, Any]]  # raw channel settings, resolved by delivery.Channel
    digest_to: str
    digest_webhooks: tuple[str, ...]
    digest_hour: int
    delivery_attempts: int
    delivery_backoff_seconds: float
    delivery_timeout_seconds: float
    explorer_url: str
    source_file: Path = field(default=ALERTS_YAML)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise KeyError(rule_id)

    def case_link(self, case_id: str) -> str:
        return f"{self.explorer_url.rstrip('/')}/feedback?case={case_id}"


def parse_duration(value: object, where: str) -> timedelta:
    """``2h``, ``30m``, ``2d`` -> timedelta; anything else is an error naming ``where``."""
    match = _DURATION.match(str(value))
    if not match or float(match.group(1)) <= 0:
        raise AlertConfigError(f"{where}: {value!r} is not a duration such as 30m, 2h or 2d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def load_alert_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> AlertConfig:
    """Read and check alerts.yaml (default: the shipped one; ``$CXLAKE_ALERTS_YAML`` overrides)."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("CXLAKE_ALERTS_YAML") or ALERTS_YAML)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise AlertConfigError(f"{path}: cannot read alert rules: {error}") from error
    if not isinstance(document, dict):
        raise AlertConfigError(f"{path}: expected a mapping at the top level")
    name = path.name
    defaults = _mapping(document.get("defaults", {}), f"{name}: defaults")
    rules = tuple(
        _rule(item, index, defaults, name) for index, item in enumerate(document.get("rules") or [])
    )
    if not rules:
        raise AlertConfigError(f"{name}: no rules")
    ids = [rule.rule_id for rule in rules]
    if len(set(ids)) != len(ids):
        raise AlertConfigError(f"{name}: rule ids must be unique, got {ids}")
    routing = {
        position: Route(
            email=(route or {}).get("email"),
            webhooks=tuple((route or {}).get("webhooks") or ()),
        )
        for position, route in _mapping(document.get("routing", {}), f"{name}: routing").items()
    }
    for position in routing:
        if position not in POSITIONS:
            raise AlertConfigError(f"{name}: routing.{position}: not one of {', '.join(POSITIONS)}")
    channels = _mapping(document.get("channels", {}), f"{name}: channels")
    for position, route in routing.items():
        for webhook in route.webhooks:
            if webhook not in channels:
                raise AlertConfigError(f"{name}: routing.{position}.webhooks: no channel named {webhook!r}")
    digest = _mapping(document.get("digest", {}), f"{name}: digest")
    delivery = _mapping(document.get("delivery", {}), f"{name}: delivery")
    url_env = document.get("explorer_url_env")
    explorer_url = (url_env and environ.get(str(url_env))) or document.get("explorer_url") or ""
    return AlertConfig(
        rules=rules,
        fresh_horizon=parse_duration(document.get("fresh_horizon", "48h"), f"{name}: fresh_horizon"),
        routing=routing,
        channels=channels,
        digest_to=str(digest.get("to", "cx_director")),
        digest_webhooks=tuple(digest.get("webhooks") or ()),
        digest_hour=int(digest.get("hour", 8)),
        delivery_attempts=int(delivery.get("attempts", 3)),
        delivery_backoff_seconds=float(delivery.get("backoff_seconds", 2)),
        delivery_timeout_seconds=float(delivery.get("timeout_seconds", 10)),
        explorer_url=str(explorer_url),
        source_file=path,
    )


def _rule(item: object, index: int, defaults: Mapping[str, Any], name: str) -> Rule:
    where = f"{name}: rules[{index}]"
    item = _mapping(item, where)
    rule_id = str(item.get("id") or "")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", rule_id):
        raise AlertConfigError(f"{where}: id {rule_id!r} must be lower_snake_case")
    where = f"{name}: rule {rule_id}"
    known = {"id", "label", "source", "severity", "ack_sla", "resolve_sla", "responsible", "when", "any_of"}
    for key in item:
        if key not in known:
            raise AlertConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    source = item.get("source", "survey")
    if source not in SOURCES:
        raise AlertConfigError(f"{where}: source {source!r} is not one of {', '.join(SOURCES)}")
    severity = item.get("severity")
    if severity not in SEVERITIES:
        raise AlertConfigError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    responsible = item.get("responsible", defaults.get("responsible", "store_manager"))
    if responsible not in ("store_manager", "regional_manager"):
        raise AlertConfigError(
            f"{where}: responsible {responsible!r} is not store_manager or regional_manager"
        )
    if ("when" in item) == ("any_of" in item):
        raise AlertConfigError(f"{where}: give exactly one of `when` or `any_of`")
    raw_sets = [item["when"]] if "when" in item else item["any_of"]
    if not isinstance(raw_sets, list) or not raw_sets:
        raise AlertConfigError(f"{where}: any_of must be a non-empty list of condition sets")
    condition_sets = tuple(_conditions(raw, f"{where}: conditions[{i}]") for i, raw in enumerate(raw_sets))
    label = item.get("label") or {}
    if isinstance(label, str):
        label = {"en": label, "zh": label}
    return Rule(
        rule_id=rule_id,
        label_en=str(label.get("en") or rule_id),
        label_zh=str(label.get("zh") or label.get("en") or rule_id),
        source=source,
        severity=severity,
        ack_sla=parse_duration(item.get("ack_sla", defaults.get("ack_sla", "2h")), f"{where}: ack_sla"),
        resolve_sla=parse_duration(
            item.get("resolve_sla", defaults.get("resolve_sla", "48h")), f"{where}: resolve_sla"
        ),
        responsible=responsible,
        condition_sets=condition_sets,
    )


def _conditions(raw: object, where: str) -> Mapping[str, Any]:
    raw = _mapping(raw, where)
    if not raw:
        raise AlertConfigError(f"{where}: an empty condition set would match every item")
    checked: dict[str, Any] = {}
    for key, value in raw.items():
        kind = CONDITIONS.get(key)
        if kind is None:
            raise AlertConfigError(f"{where}: unknown condition {key!r} (known: {', '.join(CONDITIONS)})")
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AlertConfigError(f"{where}: {key} must be a number, got {value!r}")
            checked[key] = float(value)
        elif kind == "sentiment":
            if value not in SENTIMENTS:
                raise AlertConfigError(
                    f"{where}: {key} must be one of {', '.join(SENTIMENTS)}, got {value!r}"
                )
            checked[key] = value
        else:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise AlertConfigError(f"{where}: {key} must be a non-empty list of words, got {value!r}")
            if kind == "tiers" and not set(value) <= set(TIERS):
                raise AlertConfigError(f"{where}: {key} takes tiers {', '.join(TIERS)}, got {value!r}")
            checked[key] = tuple(value)
    return checked


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AlertConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value
