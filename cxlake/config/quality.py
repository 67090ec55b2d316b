"""The quality gate's partition-rule settings (cxlake/config/quality.yaml), read by the gate and shown
on the steward page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class QualitySettings:
    max_quarantined_share: float
    min_quarantined_rows_to_block: int
    volume_trailing_partitions: int
    volume_min_history: int
    volume_min_ratio: float
    volume_max_ratio: float
    volume_severity: str
    max_text_length: int


@cache
def quality_settings() -> QualitySettings:
    raw = yaml.safe_load(resources.files("cxlake.config").joinpath("quality.yaml").read_text("utf-8"))
    band = raw["volume_band"]
    return QualitySettings(
        max_quarantined_share=float(raw["max_quarantined_share"]),
        min_quarantined_rows_to_block=int(raw["min_quarantined_rows_to_block"]),
        volume_trailing_partitions=int(band["trailing_partitions"]),
        volume_min_history=int(band["min_history"]),
        volume_min_ratio=float(band["min_ratio"]),
        volume_max_ratio=float(band["max_ratio"]),
        volume_severity=str(band["severity"]),
        max_text_length=int(raw["max_text_length"]),
    )
