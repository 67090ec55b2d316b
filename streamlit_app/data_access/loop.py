"""The CX director's view of the closed loop: loop health per week, breached SLAs, failed
notifications, the daily digest and case recovery."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.alerts.cases import ACTIVE_STATUSES, Case, CaseStore
from cxlake.alerts.clock import daily_digest
from cxlake.alerts.config import load_alert_config
from cxlake.alerts.outbox import notifications
from cxlake.app_state import AppState
from cxlake.metrics import settings
from streamlit_app.data_access import cases as case_reads
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

# --- Loop: the CX director's view of the closed loop ----------------------------------------------
# Two kinds of source: the loop marts (as of the last case snapshot the pipeline published) for the
# weekly health and the recovery comparison, and the case store itself for what is late right now,
# what could not be sent and the digest, so a breach shows the minute it happens, not after a run.
# Each mart question returns None when the serving copy has no such mart yet (published before
# the loop marts, or before any case), so the page can say so instead of showing an empty table.
LOOP_GRAINS = ("region", "store")
LOOP_HEALTH_COLUMNS = (
    "week_start", "region_id", "region_name", "store_id", "store_name", "count_cases_opened",
    "ack_sla_met_share", "resolve_sla_met_share", "median_hours_to_acknowledge",
    "median_hours_to_resolve", "count_breached_open_now",
)  # fmt: skip
RECOVERY_COLUMNS = (
    "is_worked", "count_detractors", "count_with_case", "count_judged_30d", "return_rate_30d",
    "count_judged_90d", "return_rate_90d", "avg_nps", "count_next_nps", "avg_next_nps",
)  # fmt: skip
# Each rate or mean of the recovery summary and the count it rests on. Over fewer than
# metrics.yaml's min_responses it is no fact, and case_recovery leaves it missing (issue 14).
RECOVERY_MEASURES = {
    "return_rate_30d": "count_judged_30d",
    "return_rate_90d": "count_judged_90d",
    "avg_nps": "count_detractors",
    "avg_next_nps": "count_next_nps",
}
# The rows of mart_case_recovery_summary that sum up a scope: the chain for everything, else the
# scope's own regions or stores.
_RECOVERY_GRAIN = {"all": "chain", "region": "region", "store": "store"}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def loop_health_weeks(scope: Scope) -> list[date] | None:
    """Weeks (their Monday) of marts.mart_loop_health with cases in scope, newest first; None
    without the mart."""
    if not core.mart_published("mart_loop_health"):
        return None
    rows = core.rows(
        scope,
        "select distinct week_start from marts.mart_loop_health where grain = 'store'"
        " order by week_start desc",
        [],
    )
    return [week for (week,) in rows]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def loop_health(scope: Scope, grain: str, weeks: tuple[date, ...]) -> pd.DataFrame | None:
    """marts.mart_loop_health's ``grain`` rows (region or store) of ``weeks`` in scope, worst first:
    the lowest share acknowledged within the SLA, then resolved within it, then the most cases open
    past an SLA now; a share not yet decided (NULL) sorts last. None without the mart.

    One row per week, as the mart has it: a median cannot be rolled up from weekly medians, so the
    page shows the weeks side by side rather than an average that no one computed."""
    if grain not in LOOP_GRAINS:
        raise ValueError(f"grain must be one of {LOOP_GRAINS}, got {grain!r}")
    if not core.mart_published("mart_loop_health"):
        return None
    health = core.frame(
        scope,
        f"select {', '.join(LOOP_HEALTH_COLUMNS)} from marts.mart_loop_health"
        " where grain = ? and list_contains(?::date[], week_start)"
        " order by ack_sla_met_share asc nulls last, resolve_sla_met_share asc nulls last,"
        " count_breached_open_now desc, week_start desc, region_id, store_id",
        [grain, list(weeks)],
    )
    health = health.drop(columns=["store_id", "store_name"] if grain == "region" else [])
    return core.with_dates(health, "week_start")


def breached_cases(scope: Scope, now: datetime) -> pd.DataFrame:
    """Cases in scope late right now, most overdue first, read live from the case store: open or
    escalated past their acknowledge time, or not resolved past their resolve time. One row each
    with its store, owner and how many hours its most overdue clock is past due (``overdue_clock``
    names it), and ``link``, the case on the Feedback page.

    Historical cases are left out: their clocks ran from feedback loaded late, so they are late by
    construction and nobody was ever told of them (they escalate and notify nobody)."""
    rows = []
    for case in case_reads.case_store().cases(scope, status=ACTIVE_STATUSES, include_historical=False):
        if not case_reads.in_scope(case, scope):
            continue
        late = {}
        if case.status in ("open", "escalated") and now > datetime.fromisoformat(case.ack_due_at):
            late["acknowledge"] = now - datetime.fromisoformat(case.ack_due_at)
        if now > datetime.fromisoformat(case.resolve_due_at):
            late["resolve"] = now - datetime.fromisoformat(case.resolve_due_at)
        if not late:
            continue
        clock = max(late, key=late.__getitem__)
        rows.append(
            {
                "case_id": case.case_id,
                "case_severity": case.severity,
                "rule_id": case.rule_id,
                "region_id": case.region_id,
                "store_id": case.store_id,
                "store_name": case.context.get("store_name"),
                "owner": case.owner,
                "case_status": case.status,
                "overdue_clock": clock,
                "hours_overdue": late[clock].total_seconds() / 3600,
                "link": f"/feedback?case={case.case_id}",
            }
        )
    columns = [
        "case_id", "case_severity", "rule_id", "region_id", "store_id", "store_name", "owner",
        "case_status", "overdue_clock", "hours_overdue", "link",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).astype({"hours_overdue": "float64"})
    return frame.sort_values(["hours_overdue", "case_id"], ascending=[False, True], ignore_index=True)


def failed_notifications(scope: Scope) -> pd.DataFrame:
    """Messages in scope that could not be sent (status ``failed``), newest first: the case's, and
    for the "all" scope also the director's digests (no case, the whole chain). Recipients are
    staff addresses from the routing of cxlake/config/alerts.yaml; no customer data is in a row."""
    store = case_reads.case_store()
    failed = [row for row in notifications(store) if row.status == "failed"]
    cases = {}
    for case_id in {row.case_id for row in failed if row.case_id}:  # only the failed rows' cases
        case = store.get(case_id)
        if case_reads.in_scope(case, scope):
            cases[case_id] = case
    rows = []
    for row in failed:
        case = cases.get(row.case_id) if row.case_id else None
        if case is None and (row.case_id or scope.kind != "all"):
            continue
        rows.append(
            {
                "created_at": row.created_at,
                "notification_kind": row.kind,
                "notification_channel": row.channel,
                "recipient": row.recipient,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "case_id": row.case_id,
                "store_id": case.store_id if case else None,
            }
        )
    columns = [
        "created_at", "notification_kind", "notification_channel", "recipient", "attempts",
        "last_error", "case_id", "store_id",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).astype({"attempts": "int64"})
    return frame.sort_values("created_at", ascending=False, ignore_index=True)


class _ScopedCaseStore(CaseStore):
    """The case store seen through one scope: :func:`cxlake.alerts.clock.daily_digest` reads every
    case it is given, so a regional manager's digest is that same function over their region."""

    def __init__(self, state: AppState, scope: Scope) -> None:
        super().__init__(state)
        self._scope = scope

    def cases(
        self,
        scope: Scope | None = None,
        *,
        status: Iterable[str] | None = None,
        store_id: str | None = None,
        owner: str | None = None,
        include_historical: bool = True,
        limit: int | None = None,
    ) -> list[Case]:
        if scope is not None and scope != self._scope:
            raise ValueError(f"this case store reads only {self._scope}, not {scope}")
        return super().cases(
            self._scope,
            status=status,
            store_id=store_id,
            owner=owner,
            include_historical=include_historical,
            limit=limit,
        )


def loop_digest(scope: Scope, day: date, now: datetime) -> dict[str, object]:
    """What the director's daily digest says for ``day`` (business time), over the cases in scope:
    opened, breached, resolved, recovered, open now and the stores with the most open cases. For
    the "all" scope it is the digest the director receives by e-mail."""
    core.check_scope(scope)
    return daily_digest(_ScopedCaseStore(AppState.shared(), scope), load_alert_config(), day, now)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_recovery(scope: Scope) -> pd.DataFrame | None:
    """Worked against not-worked detractors from marts.mart_case_recovery_summary, worked first:
    the chain's two rows for the "all" scope, else the rows of the scope's regions (or stores).
    A rate or mean over fewer detractors than a reported figure needs (:data:`RECOVERY_MEASURES`)
    is missing, its count kept: a 100% return of one judged detractor is no fact, and no page or
    download can show it. None without the mart."""
    if not core.mart_published("mart_case_recovery_summary"):
        return None
    recovery = core.frame(
        scope,
        f"select {', '.join(RECOVERY_COLUMNS)} from marts.mart_case_recovery_summary"
        " where grain = ? order by region_id, store_id, is_worked desc",
        [_RECOVERY_GRAIN[scope.kind]],
    )
    enough = settings().min_responses
    return recovery.assign(
        **{
            measure: recovery[measure].astype("float64").where(recovery[count].fillna(0) >= enough)
            for measure, count in RECOVERY_MEASURES.items()
        }
    )
