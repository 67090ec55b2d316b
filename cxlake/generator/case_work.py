"""The demo's planted case work: which detractors' cases each store works and how fast, and the
replay that applies it to the cases the pipeline opened.

Generating: every store has a planted propensity to work its detractors' cases (some stores call
unhappy customers back quickly, some never do; parameters in :class:`Planted`). For each detractor
response delivered, the generator draws whether the store worked the case (acknowledged, called the
customer back, resolved with a code, so many minutes after the feedback) or not (never touched, or
tried and closed as ``could_not_reach``). truth.json lists every draw under "case_work", and the
generator lets a worked detractor recover where an unworked one churns.

Replaying (``cxlake cases replay-demo``): the pipeline opens a case for each detractor without
knowing that plan; the replay works those cases as each store's manager at the planted times, so
the loop marts measure what the generator planted. Cases whose feedback is younger than two days
stay as the pipeline left them, so the demo still has live cases to work by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cxlake.alerts.cases import Case, CaseStore
from cxlake.generator.planted import Planted

# Caps that keep a worked case's last action within the replay's two days: a store that works a
# case acknowledges it within 12 hours and calls within 4 hours of that.
_MAX_ACK_MINUTES = 720
_MAX_CONTACT_GAP_MINUTES = 240
REPLAY_MIN_AGE = timedelta(days=2)


@dataclass(frozen=True)
class StoreCaseWork:
    """Per store: the probability that a detractor's case is worked, and its median minutes to ack."""

    rate: np.ndarray
    ack_median_minutes: np.ndarray


def draw_store_case_work(rng: np.random.Generator, n_stores: int, planted: Planted) -> StoreCaseWork:
    """A share of stores never works a case; the others work a share drawn uniformly in the range."""
    never = rng.random(n_stores) < planted.case_work_never_share
    rate = np.where(never, 0.0, rng.uniform(*planted.case_work_rate_range, n_stores))
    low, high = planted.case_ack_median_minutes_range
    ack = np.exp(rng.uniform(np.log(low), np.log(high), n_stores))
    return StoreCaseWork(rate=rate, ack_median_minutes=ack)


def draw_case_work(
    rng: np.random.Generator,
    stores: StoreCaseWork,
    planted: Planted,
    store: int,
    ids: Mapping[str, str],
) -> dict[str, Any]:
    """What the store did with one detractor's case, as truth.json records it (``ids``: response_key,
    survey_id, response_id, store_id). Every call draws the same numbers, whatever the outcome."""
    worked_draw, tried_draw, contact_gap, resolve_gap, method_draw, code_draw = rng.random(6)
    ack_noise = rng.standard_normal()
    worked = bool(worked_draw < stores.rate[store])
    tried = not worked and stores.rate[store] > 0 and tried_draw < planted.case_could_not_reach_share
    entry: dict[str, Any] = {
        **ids,
        "worked": worked,
        "ack_after_minutes": None,
        "contact_after_minutes": None,
        "resolve_after_minutes": None,
        "contact_method": None,
        "resolution_code": None,
    }
    if not (worked or tried):
        return entry
    factor = float(np.exp(planted.case_ack_minutes_sd * ack_noise))  # log-normal around the median
    ack = int(min(max(1, round(stores.ack_median_minutes[store] * factor)), _MAX_ACK_MINUTES))
    low, high = planted.case_resolve_after_contact_minutes
    entry["ack_after_minutes"] = ack
    if not worked:  # tried a few times over the day, then closed it
        entry["resolve_after_minutes"] = ack + int(low + resolve_gap * (high - low))
        entry["resolution_code"] = "could_not_reach"
        return entry
    gap = -planted.case_contact_after_ack_minutes * np.log1p(-contact_gap)  # exponential
    contact = ack + int(min(max(1, round(gap)), _MAX_CONTACT_GAP_MINUTES))
    entry["contact_after_minutes"] = contact
    entry["resolve_after_minutes"] = contact + int(low + resolve_gap * (high - low))
    entry["contact_method"] = _pick(planted.case_contact_methods, method_draw)
    entry["resolution_code"] = _pick(planted.case_resolution_codes, code_draw)
    return entry


def _pick(weights: Mapping[str, float], draw: float) -> str:
    total, cumulative = sum(weights.values()), 0.0
    for name, weight in weights.items():
        cumulative += weight / total
        if draw < cumulative:
            return name
    return next(reversed(weights))


# -- replay --------------------------------------------------------------------------------------


class CaseWorkError(ValueError):
    """truth.json cannot be replayed (missing, not generated with case work); names the file."""


@dataclass(frozen=True)
class Replayed:
    """What one replay did, and what it left alone and why."""

    acknowledged: int = 0
    contacted: int = 0
    resolved: int = 0
    too_recent: int = 0  # planted work on feedback younger than the minimum age: left open
    not_yet_due: int = 0  # planted actions later than now: a later replay takes them
    without_case: int = 0  # planted work on a response that opened no case (e.g. held back)


def load_case_work(truth_path: Path) -> list[dict[str, Any]]:
    """The "case_work" list of a generated truth.json."""
    try:
        truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CaseWorkError(f"{truth_path}: no such file (`cxlake generate` writes it)") from error
    except json.JSONDecodeError as error:
        raise CaseWorkError(f"{truth_path}: not JSON ({error})") from error
    if not isinstance(truth, dict) or "case_work" not in truth:
        raise CaseWorkError(f'{truth_path}: no "case_work" list; generate the demo again with this cxlake')
    return truth["case_work"]


def replay_case_work(
    store: CaseStore,
    case_work: Iterable[Mapping[str, Any]],
    now: datetime | None = None,
    min_age: timedelta = REPLAY_MIN_AGE,
) -> Replayed:
    """Work each planted case as its store's manager (``store_<store_id>``, the demo's account) at
    feedback time + the planted minutes. Idempotent: a step already taken (acknowledged, contacted,
    resolved) is not taken again, so a second replay changes nothing."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    cases = {case.subject_key: case for case in store.cases()}
    counts = {field.name: 0 for field in fields(Replayed)}
    for plan in case_work:
        if plan["ack_after_minutes"] is None:  # the store never touched it
            continue
        case = cases.get(f"survey:{plan['survey_id']}:{plan['response_id']}")
        if case is None:
            counts["without_case"] += 1
            continue
        feedback_at = datetime.fromisoformat(case.feedback_at)
        if now - feedback_at < min_age:
            counts["too_recent"] += 1
            continue
        for step, done in _steps(store, case, plan, feedback_at, now):
            counts[step] += done
    return Replayed(**counts)


def _steps(store: CaseStore, case: Case, plan: Mapping[str, Any], feedback_at: datetime, now: datetime):
    """Acknowledge, call back, resolve, in that order, each only if not done yet and due by now."""
    by = f"store_{plan['store_id']}"

    def at(minutes: int | None) -> datetime | None:
        return None if minutes is None else feedback_at + timedelta(minutes=minutes)

    ack_at, contact_at, resolve_at = (
        at(plan[name]) for name in ("ack_after_minutes", "contact_after_minutes", "resolve_after_minutes")
    )
    if case.status == "resolved":
        return
    if any(moment is not None and moment > now for moment in (ack_at, contact_at, resolve_at)):
        yield "not_yet_due", 1
        return
    if case.acknowledged_at is None:
        case = store.acknowledge(case.case_id, by, at=ack_at)
        yield "acknowledged", 1
    if contact_at is not None and not case.customer_contacted:
        case = store.record_contact(case.case_id, by, plan["contact_method"], at=contact_at)
        yield "contacted", 1
    if resolve_at is not None:
        store.resolve(case.case_id, by, plan["resolution_code"], at=resolve_at)
        yield "resolved", 1
