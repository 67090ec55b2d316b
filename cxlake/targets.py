"""Targets per chain, region and store from ``cxlake/config/targets.yaml``, checked on load.

The Overview puts a target beside each headline value, so a manager reads "NPS 36.9, target 40,
3.1 below" instead of a bare number. A typo in the file must fail loudly with the file and the key,
not show a wrong target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cxlake.config import read_config
from cxlake.metrics import settings

TARGET_METRICS = ("nps", "csat", "ces")
LEVELS = ("chain", "regions", "stores")


class TargetsError(ValueError):
    """targets.yaml says something the Overview cannot use; the message names the file and the key."""


@dataclass(frozen=True)
class Targets:
    """Metric -> target at each level; the narrowest level that names a metric wins."""

    chain: Mapping[str, float]
    regions: Mapping[str, Mapping[str, float]]
    stores: Mapping[str, Mapping[str, float]]

    def for_chain(self) -> dict[str, float]:
        return dict(self.chain)

    def for_region(self, region_id: str) -> dict[str, float]:
        return {**self.chain, **self.regions.get(region_id, {})}

    def for_store(self, store_id: str, region_id: str) -> dict[str, float]:
        return {**self.for_region(region_id), **self.stores.get(store_id, {})}


def _ranges() -> dict[str, tuple[float, float]]:
    """Where each metric's target can lie (the CES scale comes from metrics.yaml)."""
    low, high = settings().ces_scale
    return {"nps": (-100.0, 100.0), "csat": (0.0, 100.0), "ces": (float(low), float(high))}


def load_targets(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Targets:
    """Read and check targets.yaml (default: the shipped one; ``$CXLAKE_TARGETS_YAML`` overrides)."""
    path, raw = read_config("targets.yaml", "CXLAKE_TARGETS_YAML", TargetsError, "targets", path, environ)
    if not isinstance(raw, dict):
        raise TargetsError(f"{path}: expected a mapping with {', '.join(LEVELS)} at the top level")
    unknown = sorted(set(map(str, raw)) - set(LEVELS))
    if unknown:
        raise TargetsError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(LEVELS)})")
    return Targets(
        chain=_metric_targets(raw.get("chain") or {}, f"{path}: chain"),
        regions=_entities(raw.get("regions") or {}, f"{path}: regions"),
        stores=_entities(raw.get("stores") or {}, f"{path}: stores"),
    )


def _entities(raw: object, where: str) -> dict[str, dict[str, float]]:
    if not isinstance(raw, dict):
        raise TargetsError(f"{where}: expected a mapping of ids to targets, got {type(raw).__name__}")
    return {str(key): _metric_targets(value, f"{where}.{key}") for key, value in raw.items()}


def _metric_targets(raw: object, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise TargetsError(f"{where}: expected a mapping of metrics to targets, got {type(raw).__name__}")
    ranges = _ranges()
    targets = {}
    for metric, value in raw.items():
        if metric not in TARGET_METRICS:
            raise TargetsError(f"{where}: unknown metric {metric!r} (known: {', '.join(TARGET_METRICS)})")
        low, high = ranges[metric]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise TargetsError(f"{where}.{metric}: expected a number from {low:g} to {high:g}, got {value!r}")
        targets[metric] = float(value)
    return targets
