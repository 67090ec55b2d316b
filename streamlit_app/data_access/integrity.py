"""The Integrity page's questions: flagged stores and staff, their reasons and the evidence."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.integrity import MART_STAFF_COLUMNS, MART_STORE_COLUMNS
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

# -- integrity
# Survey integrity (issue 14): the detection asset's verdicts per store and staff member
# (marts.mart_integrity_store / _staff, over the run's whole range) and the evidence behind them,
# counted from the answers it marked in marts.fct_survey_responses. Like every question here each
# applies the user's scope; "peers" are the other stores in that scope. None when the serving copy
# was published before the detection asset, so the page can say so instead of failing.
INTEGRITY_RESPONSE_COLUMNS = frozenset({"is_suspect", "suspect_reason", "minutes_after_sale"})
INTEGRITY_SIDES = ("store", "peers")
# A staff member's answers (through the sale each is linked to) against every other staff member's.
STAFF_SIDES = ("staff", "peers")
# Delay from the sale to the answer: (bin, upper bound in minutes, exclusive); the last bin is open.
# 6 minutes is the line: a survey answered at the till, not by a customer at home.
DELAY_BINS: tuple[tuple[str, float], ...] = (
    ("under_2_min", 2),
    ("2_to_6_min", 6),
    ("6_to_15_min", 15),
    ("15_to_60_min", 60),
    ("1_to_6_h", 360),
    ("6_to_24_h", 1440),
    ("over_24_h", float("inf")),
)
NO_LINKED_SALE = "no_linked_sale"


def integrity_published() -> bool:
    """Both integrity marts and the answers' suspect marks are in the serving copy."""
    return (
        core.mart_published("mart_integrity_store")
        and core.mart_published("mart_integrity_staff")
        and core.columns_of("marts", "fct_survey_responses") >= INTEGRITY_RESPONSE_COLUMNS
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_rule_labels(language: str) -> dict[str, str]:
    """Rule id -> its words in ``language`` from the detection rules; {} while the detection
    module is not installed, so the page shows the rule ids rather than failing."""
    try:
        from cxlake.integrity import rule_labels
    except ModuleNotFoundError as missing:
        if missing.name != "cxlake.integrity":
            raise
        return {}
    return dict(rule_labels(language))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_stores(scope: Scope) -> pd.DataFrame | None:
    """marts.mart_integrity_store's stores in scope, flagged first, then the strongest evidence
    (lowest integrity score); ``peer_top_device_share`` is the median top-device share of the other
    stores in scope (the mart has no peer figure for devices). None without the mart."""
    if not integrity_published():
        return None
    stores = core.frame(
        scope,
        f"select {', '.join(MART_STORE_COLUMNS)} from marts.mart_integrity_store"
        " order by is_flagged desc, integrity_score asc nulls last, store_id",
        [],
    )
    shares = stores["top_device_share"].astype("float64")
    peers = [shares.drop(index).median() for index in stores.index]
    return stores.assign(peer_top_device_share=pd.Series(peers, index=stores.index, dtype="float64"))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_staff(scope: Scope, store_id: str | None = None) -> pd.DataFrame | None:
    """marts.mart_integrity_staff's staff in scope (of ``store_id`` when given) with their store's
    name, flagged first, then the lowest integrity score. None without the mart."""
    if not integrity_published():
        return None
    columns = ", ".join(f"t.{column}" for column in MART_STAFF_COLUMNS)
    store_sql = "true" if store_id is None else "store_id = ?"
    return core.frame(
        scope,
        f"select * from (select {columns}, d.store_name, d.region_id from marts.mart_integrity_staff as t"
        " left join marts.dim_store as d on d.store_id = t.store_id)"
        f" where {store_sql}"
        " order by is_flagged desc, integrity_score asc nulls last, store_id, staff_id",
        [] if store_id is None else [store_id],
    )


def _sided_counts(
    value_sql: str, condition: str, store_id: str, scope: Scope
) -> dict[tuple[str, object], int]:
    """(side, value) -> countable answers in scope meeting ``condition``, ``value`` being
    ``value_sql`` (constant SQL); side is ``store`` for ``store_id``'s answers, ``peers`` for the
    other stores'."""
    rows = core.rows(
        scope,
        f"select case when store_id = ? then 'store' else 'peers' end as side, {value_sql} as value,"
        f" count(*) from marts.fct_survey_responses where is_countable and {condition} group by all",
        [store_id],
    )
    return {(side, value): int(count) for side, value, count in rows}


def _staff_counts(
    value_sql: str, condition: str, staff_id: str, scope: Scope
) -> dict[tuple[str, object], int]:
    """As :func:`_sided_counts` for a staff member: side ``staff`` for the answers linked to a sale
    ``staff_id`` served, ``peers`` for those linked to any other staff member's (answers without a
    staff member are no one's peers), as the detector compares them."""
    rows = core.rows(
        scope,
        f"select case when sales.staff_id = ? then 'staff' else 'peers' end as side, {value_sql} as value,"
        " count(*) from marts.fct_survey_responses as answers"
        " join marts.fct_transactions as sales on sales.transaction_id = answers.transaction_id"
        f" where answers.is_countable and sales.staff_id is not null and {condition} group by all",
        [staff_id],
    )
    return {(side, value): int(count) for side, value, count in rows}


def _with_shares(frame: pd.DataFrame, countable: pd.Series) -> pd.DataFrame:
    """``share``: each row's responses over its side's total of the ``countable`` rows (missing, not
    0, for a side without any); ``side_responses``: that total, the n every share of the side rests
    on (the page draws a side of too few answers hollow, never as a fact)."""
    totals = frame["responses"].where(countable, 0).groupby(frame["side"]).transform("sum")
    share = (frame["responses"] / totals.where(totals > 0)).where(countable)
    return frame.assign(share=share.astype("float64"), side_responses=totals.astype("int64"))


def _score_shares(counts: dict[tuple[str, object], int], sides: tuple[str, str]) -> pd.DataFrame:
    grid = [(side, score) for side in sides for score in range(11)]
    frame = pd.DataFrame(
        {
            "side": [side for side, _ in grid],
            "score": [score for _, score in grid],
            "responses": pd.Series([counts.get(key, 0) for key in grid], dtype="int64"),
        }
    )
    return _with_shares(frame, pd.Series(True, index=frame.index))


def _delay_value_sql() -> str:
    cases = " ".join(f"when minutes_after_sale < {bound} then '{name}'" for name, bound in DELAY_BINS[:-1])
    return (
        f"case when minutes_after_sale is null then '{NO_LINKED_SALE}' {cases} else '{DELAY_BINS[-1][0]}' end"
    )


def _delay_shares(counts: dict[tuple[str, object], int], sides: tuple[str, str]) -> pd.DataFrame:
    bins = [name for name, _ in DELAY_BINS] + [NO_LINKED_SALE]
    grid = [(side, name) for side in sides for name in bins]
    frame = pd.DataFrame(
        {
            "side": [side for side, _ in grid],
            "delay_bin": [name for _, name in grid],
            "responses": pd.Series([counts.get(key, 0) for key in grid], dtype="int64"),
        }
    )
    return _with_shares(frame, frame["delay_bin"] != NO_LINKED_SALE)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_score_shares(scope: Scope, store_id: str) -> pd.DataFrame:
    """22 rows, side (``store``, ``peers``) x score 0..10 (zero-filled): responses and share of the
    side's countable answers with a score (``side_responses``), so a store answering "10" far more
    often stands out."""
    counts = _sided_counts("nps_score", "nps_score between 0 and 10", store_id, scope)
    return _score_shares(counts, INTEGRITY_SIDES)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_delay_shares(scope: Scope, store_id: str) -> pd.DataFrame:
    """Rows side x delay bin (:data:`DELAY_BINS` in order, then ``no_linked_sale``): countable
    answers by how long after the sale they were given, and their share of the side's answers with a
    linked sale (``side_responses``; missing for ``no_linked_sale``, which is counted, not shared)."""
    return _delay_shares(_sided_counts(_delay_value_sql(), "true", store_id, scope), INTEGRITY_SIDES)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_staff_score_shares(scope: Scope, staff_id: str) -> pd.DataFrame:
    """As :func:`integrity_score_shares` for a staff member (side ``staff``) against the other staff
    members' answers in scope (``peers``)."""
    counts = _staff_counts("answers.nps_score", "answers.nps_score between 0 and 10", staff_id, scope)
    return _score_shares(counts, STAFF_SIDES)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_staff_delay_shares(scope: Scope, staff_id: str) -> pd.DataFrame:
    """As :func:`integrity_delay_shares` for a staff member against the other staff members. Every
    answer here is linked to a sale (that is how it has a staff member); ``no_linked_sale`` counts
    those whose sale has no order time."""
    value_sql = _delay_value_sql().replace("minutes_after_sale", "answers.minutes_after_sale")
    return _delay_shares(_staff_counts(value_sql, "true", staff_id, scope), STAFF_SIDES)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def integrity_suspect_reasons(scope: Scope, store_id: str) -> pd.DataFrame:
    """``store_id``'s countable answers marked suspect, per reason (rule id), most first."""
    return core.frame(
        scope,
        "select suspect_reason, count(*) as responses from marts.fct_survey_responses"
        " where is_countable and is_suspect and store_id = ?"
        " group by suspect_reason order by responses desc, suspect_reason",
        [store_id],
    )
