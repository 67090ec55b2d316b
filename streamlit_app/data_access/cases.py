"""The case workbench: alert cases in scope, the feedback behind them and the actions on them. Cases
live in the app-state store, not the serving copy, so scope is checked here case by case."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from cxlake.access import pii
from cxlake.access.roles import PII_COLUMNS, Principal, Scope
from cxlake.access.serving_door import Reader
from cxlake.alerts.cases import Case, CaseError, CaseEvent, CaseStore, owner_for
from cxlake.alerts.config import load_alert_config
from cxlake.app_state import AppState
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS, Filters

# --- Cases: the workbench's alert cases and the feedback behind them ------------------------------
# Cases live in the app-state store (cxlake.alerts.cases), beside the accounts, not in the serving
# copy. They are read through CaseStore with the user's Scope (its SQL keeps the scope's stores) and
# every case is checked against the scope again here, so no call hands a page another store's case:
# an id from another store's link reads exactly like an id that does not exist. Case reads are not
# cached (a click must show at once); what the serving copy says about the feedback is.
# Text that people typed (the customer's comment, the notes on a case) is masked here for roles
# without PII rights, before any page holds it.

# Roles that work cases (acknowledge, call back, note, resolve); the others only read them.
CASE_WORKER_ROLES = ("store_manager", "regional_manager", "cx_director", "admin")
# Positions that own cases (cxlake.alerts.cases.owner_for): a manager's own cases are the ones
# owned by ``<role>:<scope id>``.
CASE_OWNER_ROLES = ("store_manager", "regional_manager")
# The serving copy's columns shown beside a case's comment (fct_feedback_items, dim_touchpoint).
CASE_ITEM_COLUMNS = (
    "feedback_key", "feedback_at", "store_name", "region_name", "channel", "transaction_id",
    "ordered_at", "amount", "staff_name", "member_tier", "tenure_days", "visits_90d", "spend_90d",
    "past_nps_scores", "nps_score", "lowest_csat_score", "lowest_csat_touchpoint", "rating",
    "sentiment_label", "text",
)  # fmt: skip


def own_position(principal: Principal) -> str | None:
    """The position whose cases are the user's own (``store_manager:S001``), None for roles that
    own no cases (they see every case in scope as someone else's)."""
    if principal.role not in CASE_OWNER_ROLES:
        return None
    return owner_for(principal.role, principal.scope_id, principal.scope_id)


def may_work_cases(principal: Principal) -> bool:
    return principal.role in CASE_WORKER_ROLES


def allowed_case_actions(case: Case) -> tuple[str, ...]:
    """What the case's state allows, as CaseStore enforces it: a resolved case only takes notes, an
    acknowledged one is not acknowledged again."""
    if case.status == "resolved":
        return ("comment",)
    if case.acknowledged_at:
        return ("contact", "comment", "resolve")
    return ("acknowledge", "contact", "comment", "resolve")


def case_store() -> CaseStore:
    """The app-state store ``$CXLAKE_HOME`` names now (not at import), as the accounts use."""
    return CaseStore(AppState.shared())


def in_scope(case: Case, scope: Scope) -> bool:
    core.check_scope(scope)
    if scope.kind == "all":
        return True
    return (case.store_id if scope.kind == "store" else case.region_id) in scope.ids


def _readable_text(text: object, sees_pii: bool) -> str | None:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    return str(text) if sees_pii else pii.mask_free_text(str(text))


def _as_read(case: Case, sees_pii: bool) -> Case:
    """The case as the user may read it: the comment in its context masked unless ``sees_pii``."""
    if sees_pii or not case.context.get("text"):
        return case
    return replace(case, context={**case.context, "text": _readable_text(case.context["text"], False)})


def scoped_cases(
    scope: Scope,
    filters: Filters,
    sees_pii: bool,
    search: str | None = None,
    include_historical: bool = True,
) -> list[Case]:
    """The cases in scope and in the region / store filters, newest first; ``search`` keeps those
    whose comment contains it (ignoring case). The search reads the comment as the user may read
    it, so a masked phone number cannot be found by typing it."""
    cases = [
        _as_read(case, sees_pii)
        for case in case_store().cases(scope, include_historical=include_historical)
        if in_scope(case, scope)
        and (not filters.region_ids or case.region_id in filters.region_ids)
        and (not filters.store_ids or case.store_id in filters.store_ids)
    ]
    needle = (search or "").strip().casefold()
    if needle:
        cases = [case for case in cases if needle in str(case.context.get("text") or "").casefold()]
    return cases


def historical_case_count(scope: Scope, filters: Filters) -> int:
    """How many historical cases :func:`scoped_cases` leaves out with ``include_historical=False``
    (counted in the store, so a page that hides them does not read and mask them)."""
    core.check_scope(scope)
    return case_store().count_historical(scope, region_ids=filters.region_ids, store_ids=filters.store_ids)


def scoped_case(scope: Scope, case_id: str, sees_pii: bool) -> Case | None:
    """One case if it exists and is in scope, else None (the two are not told apart)."""
    try:
        case = case_store().get(str(case_id))
    except CaseError:
        return None
    return _as_read(case, sees_pii) if in_scope(case, scope) else None


def scoped_case_events(scope: Scope, case_id: str, sees_pii: bool) -> list[CaseEvent]:
    """What happened to a case in scope, oldest first, notes masked unless ``sees_pii``; [] otherwise."""
    if scoped_case(scope, case_id, sees_pii) is None:
        return []
    return [
        replace(event, note=_readable_text(event.note, sees_pii)) for event in case_store().events(case_id)
    ]


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_rule_labels(language: str) -> dict[str, str]:
    """Rule id -> its label in ``language`` from the alert rules (cxlake/config/alerts.yaml)."""
    return {rule.rule_id: rule.label(language) for rule in load_alert_config().rules}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_feedback_item(scope: Scope, feedback_key: str, sees_pii: bool) -> dict[str, object] | None:
    """The serving copy's row of the feedback a case is about (``CASE_ITEM_COLUMNS`` plus the lowest
    rated touchpoint's names), its text masked unless ``sees_pii``; None when it is not in scope or
    the serving copy has no such row (or no fct_feedback_items yet)."""
    if not core.columns_of("marts", "fct_feedback_items"):
        return None
    columns = ", ".join(f"i.{column}" for column in CASE_ITEM_COLUMNS)
    with core.cursor(Reader(scope, sees_pii, follow_up=True)) as cursor:
        cursor.execute(
            "with i as (select * from marts.fct_feedback_items where feedback_key = ?)"
            f" select {columns}, t.touchpoint_name_en, t.touchpoint_name_zh from i"
            " left join marts.dim_touchpoint as t on t.touchpoint_id = i.lowest_csat_touchpoint",
            [feedback_key],
        )
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    if row is None:
        return None
    return dict(zip(names, row, strict=True))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def case_customer(scope: Scope, transaction_id: str, sees_pii: bool) -> dict[str, object] | None:
    """The member behind a transaction in scope (customer_name, phone, email), masked unless
    ``sees_pii``; None for a guest, a delivery platform's order or a transaction out of scope."""
    rows = core.rows(
        Reader(scope, sees_pii, follow_up=True),
        "with t as (select customer_id from marts.fct_transactions where transaction_id = ?)"
        f" select {', '.join(PII_COLUMNS)} from t"
        " join marts.dim_customer as c on c.customer_id = t.customer_id"
        " order by c.updated_at desc limit 1",
        [transaction_id],
    )
    if not rows:
        return None
    return dict(zip(PII_COLUMNS, rows[0], strict=True))


def _workable_case(principal: Principal, case_id: str) -> str:
    """``case_id`` if the user may work it; a CaseError naming the case otherwise."""
    if not may_work_cases(principal):
        raise CaseError(f"the role {principal.role} reads cases but does not work them")
    if scoped_case(principal.scope, case_id, sees_pii=False) is None:
        raise CaseError(f"no case {case_id!r}")
    return case_id


def acknowledge_case(principal: Principal, case_id: str, note: str | None = None) -> Case:
    """The user has seen the case (audited as case_acknowledged)."""
    return case_store().acknowledge(_workable_case(principal, case_id), principal.name, note)


def comment_on_case(principal: Principal, case_id: str, note: str) -> Case:
    """A note on the case (audited as case_commented)."""
    return case_store().add_comment(_workable_case(principal, case_id), principal.name, note)


def record_case_contact(principal: Principal, case_id: str, method: str, note: str | None = None) -> Case:
    """Record "called back": the customer was reached by ``method`` (audited as case_contacted)."""
    return case_store().record_contact(_workable_case(principal, case_id), principal.name, method, note)


def resolve_case(principal: Principal, case_id: str, code: str, note: str | None = None) -> Case:
    """Close the case with a resolution code (audited as case_resolved)."""
    return case_store().resolve(_workable_case(principal, case_id), principal.name, code, note)
