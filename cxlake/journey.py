"""The journey map: one YAML file that the generator, the pipeline and the explorer all read.

Which file is read is decided when called: an explicit path, else ``$CXLAKE_JOURNEY_MAP``, else
the packaged ``config/journey_map.yaml``, so a deployment (or a test) can swap in its own map.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from cxlake.contracts import CHANNELS

JOURNEY_MAP_ENV = "CXLAKE_JOURNEY_MAP"
# Measure kinds of raw.journey_measures, one row per touchpoint x measure.
MEASURE_KINDS = ("survey", "operational", "pos_event", "review_aspect")
POS_EVENTS = ("refund", "remake")


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
    survey_measure: str | None = "csat"
    pos_events: tuple[str, ...] = ()

    def measures(self) -> list[tuple[str, str]]:
        """(kind, name) pairs: the long form the marts join on, so a moved measure moves rows."""
        pairs = [("survey", self.survey_measure)] if self.survey_measure else []
        if self.operational_metric:
            pairs.append(("operational", self.operational_metric))
        pairs += [("pos_event", event) for event in self.pos_events]
        pairs += [("review_aspect", keyword) for keyword in self.review_aspect_keywords]
        return pairs


@dataclass(frozen=True)
class Stage:
    """A journey stage; a stage may have no touchpoint yet and still belongs on the map."""

    id: str
    name_zh: str
    name_en: str
    stage_order: int
    touchpoint_ids: tuple[str, ...]


def default_journey_map_path() -> Path:
    return Path(str(resources.files("cxlake.config").joinpath("journey_map.yaml")))


def journey_map_path(path: Path | str | None = None) -> Path:
    """``path``, else ``$CXLAKE_JOURNEY_MAP``, else the packaged map (the environment read now)."""
    chosen = path or os.environ.get(JOURNEY_MAP_ENV) or default_journey_map_path()
    return Path(chosen).resolve()


def load_touchpoints(path: Path | str | None = None) -> tuple[Touchpoint, ...]:
    """Touchpoints in journey order (stage order, then order within the stage)."""
    resolved = journey_map_path(path)
    return _load_touchpoints(resolved, resolved.stat().st_mtime_ns)


@cache
def _load_touchpoints(path: Path, modified_ns: int) -> tuple[Touchpoint, ...]:
    """Parsed once per file version: a long-running `dagster dev` sees an edited map."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    touchpoints: list[Touchpoint] = []
    for stage_order, stage in enumerate(raw["stages"], start=1):
        for touchpoint in stage.get("touchpoints") or []:
            touchpoints.append(_touchpoint(touchpoint, stage, stage_order, len(touchpoints) + 1))
    ids = [tp.id for tp in touchpoints]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"{path}: touchpoint ids appear twice: {duplicated}")
    return tuple(touchpoints)


def _touchpoint(raw: dict, stage: dict, stage_order: int, touchpoint_order: int) -> Touchpoint:
    """One touchpoint; ids become column names (csat_<id>), so they must be plain identifiers."""
    touchpoint_id = str(raw["id"])
    if (
        not touchpoint_id.isidentifier()
        or not touchpoint_id.isascii()
        or touchpoint_id != touchpoint_id.lower()
    ):
        raise ValueError(f"touchpoint id {touchpoint_id!r} must be a lowercase ascii identifier")
    measures = raw.get("measures") or {}
    pos_events = tuple(measures.get("pos_events") or ())
    unknown = sorted(set(pos_events) - set(POS_EVENTS))
    if unknown:
        raise ValueError(f"touchpoint {touchpoint_id}: unknown pos_events {unknown}; known: {POS_EVENTS}")
    return Touchpoint(
        id=touchpoint_id,
        name_zh=raw["name"]["zh"],
        name_en=raw["name"]["en"],
        stage_id=stage["id"],
        stage_name_zh=stage["name"]["zh"],
        stage_name_en=stage["name"]["en"],
        stage_order=stage_order,
        touchpoint_order=touchpoint_order,
        channels=tuple(raw.get("channels") or CHANNELS),
        operational_metric=measures.get("operational"),
        review_aspect_keywords=tuple(measures.get("review_aspect_keywords") or ()),
        survey_measure=measures.get("survey", "csat"),
        pos_events=pos_events,
    )


def load_stages(path: Path | str | None = None) -> tuple[Stage, ...]:
    """Every stage in journey order, with the ids of its touchpoints (the map's skeleton)."""
    resolved = journey_map_path(path)
    raw = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    touchpoints = load_touchpoints(resolved)
    return tuple(
        Stage(
            id=stage["id"],
            name_zh=stage["name"]["zh"],
            name_en=stage["name"]["en"],
            stage_order=order,
            touchpoint_ids=tuple(tp.id for tp in touchpoints if tp.stage_order == order),
        )
        for order, stage in enumerate(raw["stages"], start=1)
    )


def touchpoints_for_channel(channel: str, path: Path | str | None = None) -> list[Touchpoint]:
    return [tp for tp in load_touchpoints(path) if channel in tp.channels]
