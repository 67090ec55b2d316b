"""The journey map: one YAML file that the generator, the pipeline and the explorer all read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

CHANNELS = ("in_store", "app", "delivery")


@dataclass(frozen=True)
class Touchpoint:
    id: str
    name_zh: str
    name_en: str
    stage_id: str
    stage_name_zh: str
    stage_name_en: str
    stage_order: int
    touchpoint_order: int
    channels: tuple[str, ...]
    operational_metric: str | None
    review_aspect_keywords: tuple[str, ...]


def default_journey_map_path() -> Path:
    return Path(str(resources.files("cxlake.config").joinpath("journey_map.yaml")))


@cache
def load_touchpoints(path: Path | None = None) -> tuple[Touchpoint, ...]:
    """Touchpoints in journey order (stage order, then order within the stage)."""
    raw = yaml.safe_load((path or default_journey_map_path()).read_text(encoding="utf-8"))
    touchpoints: list[Touchpoint] = []
    for stage_order, stage in enumerate(raw["stages"], start=1):
        for touchpoint in stage.get("touchpoints") or []:
            measures = touchpoint.get("measures") or {}
            touchpoints.append(
                Touchpoint(
                    id=touchpoint["id"],
                    name_zh=touchpoint["name"]["zh"],
                    name_en=touchpoint["name"]["en"],
                    stage_id=stage["id"],
                    stage_name_zh=stage["name"]["zh"],
                    stage_name_en=stage["name"]["en"],
                    stage_order=stage_order,
                    touchpoint_order=len(touchpoints) + 1,
                    channels=tuple(touchpoint.get("channels") or CHANNELS),
                    operational_metric=measures.get("operational"),
                    review_aspect_keywords=tuple(measures.get("review_aspect_keywords") or ()),
                )
            )
    return tuple(touchpoints)


def touchpoints_for_channel(channel: str, path: Path | None = None) -> list[Touchpoint]:
    return [tp for tp in load_touchpoints(path) if channel in tp.channels]
