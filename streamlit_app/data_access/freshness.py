"""Which sources have gone quiet, as the serving copy records their deliveries: the banner on every
page says so, with the same rules and the same judgement as Dagster's delivery_freshness checks
(:mod:`cxlake.freshness`), so a reader is never told "fresh" while the data team sees "stale".

The deliveries are read once per published copy (cached like every answer); the silence is judged
at each page run, because a source goes quiet while the same copy is on screen.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

import streamlit as st

from cxlake.access.roles import Scope
from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.freshness import (
    LAST_DELIVERIES_SQL,
    FreshnessRule,
    FreshnessState,
    freshness_rules,
    judge,
)
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def last_deliveries(scope: Scope) -> dict[str, datetime]:
    """Source -> when its last delivery was validated (every scope: it names sources and times,
    never a store's rows; the door shows every reader these columns of dq)."""
    core.check_scope(scope)
    if not core.columns_of("dq", "validation_runs") or not core.columns_of("dq", "load_audit"):
        return {}
    return {source: at for source, at in core.rows(scope, LAST_DELIVERIES_SQL, [BUSINESS_TIMEZONE])}


@functools.cache
def _shipped_rules() -> tuple[FreshnessRule, ...]:
    """pipeline.yaml's rules, read once per process: the file ships with the package, and parsing it
    on every page run cost more than the banner's cached query."""
    return tuple(freshness_rules())


def stale_sources(
    scope: Scope, rules: Sequence[FreshnessRule] | None = None, now: datetime | None = None
) -> list[FreshnessState]:
    """The sources silent for longer than their rule allows, at ``now`` (default: this moment).

    A copy that records no delivery at all (built without the ingestion's audit) has nothing to
    judge, so it names no source: "never delivered" is said only beside sources that did deliver.
    """
    delivered = last_deliveries(scope)
    if not delivered:
        return []
    rules = _shipped_rules() if rules is None else rules
    states = [judge(rule, delivered.get(rule.source), now) for rule in rules]
    return [state for state in states if state.stale]
