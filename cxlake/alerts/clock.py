"""What happens because time passes: escalation past the acknowledge SLA, the director's daily
digest, and the retries of owed messages. One :func:`tick` does all three for a given ``now``,
so a sensor runs it every minute and a test runs it with a clock it controls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cxlake.alerts.cases import Case, CaseStore
from cxlake.alerts.config import AlertConfig
from cxlake.alerts.outbox import BUSINESS_ZONE, Dispatched, dispatch_pending, queue_digest


@dataclass(frozen=True)
class Tick:
    escalated: tuple[str, ...]
    digest_day: str | None
    dispatched: Dispatched


def tick(
    store: CaseStore,
    config: AlertConfig,
    now: datetime | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Tick:
    """Escalate overdue cases, queue yesterday's digest once the digest hour has come, send what is owed."""
    now = now or datetime.now(UTC)
    escalated = store.escalate_overdue(config, now)
    digest_day = None
    local = now.astimezone(BUSINESS_ZONE)
    if local.hour >= config.digest_hour:
        day = local.date() - timedelta(days=1)
        if queue_digest(store, config, daily_digest(store, config, day, now), now):
            digest_day = day.isoformat()
    dispatched = dispatch_pending(store, config, now, environ=environ, sleep=sleep)
    return Tick(tuple(case.case_id for case in escalated), digest_day, dispatched)


def daily_digest(store: CaseStore, config: AlertConfig, day: date, now: datetime) -> dict[str, Any]:
    """The loop's state for the CX director: cases opened, breached, resolved and recovered on
    ``day`` (business time), what is open now, and the stores with the most open cases."""
    live = store.cases(include_historical=False)

    def on_day(value: str | None) -> bool:
        return bool(value) and datetime.fromisoformat(value).astimezone(BUSINESS_ZONE).date() == day

    opened = [case for case in live if on_day(case.opened_at)]
    breached = [case for case in live if _breached_on(case, day, now)]
    resolved = [case for case in live if on_day(case.resolved_at)]
    open_now = [case for case in live if case.status != "resolved"]
    stores: dict[str, dict[str, Any]] = {}
    for name, cases in (("opened", opened), ("breached", breached), ("open", open_now)):
        for store_id, count in Counter(case.store_id for case in cases).items():
            entry = stores.setdefault(
                str(store_id),
                {"store_id": store_id, "store_name": None, "opened": 0, "breached": 0, "open": 0},
            )
            entry[name] = count
    names = {case.store_id: case.context.get("store_name") for case in live}
    for entry in stores.values():
        entry["store_name"] = names.get(entry["store_id"])
    by_store = sorted(stores.values(), key=lambda e: (-e["open"], -e["breached"], str(e["store_id"])))
    return {
        "day": day.isoformat(),
        "opened": len(opened),
        "breached": len(breached),
        "resolved": len(resolved),
        "recovered": sum(1 for case in resolved if case.resolution_code == "recovered"),
        "open_now": len(open_now),
        "by_store": by_store,
        "link": f"{config.explorer_url.rstrip('/')}/feedback",
    }


def _breached_on(case: Case, day: date, now: datetime) -> bool:
    """The acknowledge SLA ran out on ``day`` without an acknowledgement by then."""
    due = datetime.fromisoformat(case.ack_due_at)
    if due.astimezone(BUSINESS_ZONE).date() != day or due > now:
        return False
    done = case.acknowledged_at or case.resolved_at
    return done is None or datetime.fromisoformat(done) > due
