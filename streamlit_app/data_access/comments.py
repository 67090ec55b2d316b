"""The comments behind the Insights page's charts: the open answers of the responses a chart counts.

A key driver's comments are those of the responses that rated its touchpoint below the top-2 box
(not satisfied) in the chart's scope; a Kano feature's, the survey comments that name it (the Kano
survey asks no open question of its own); a peak-and-end stage's, those of the journeys whose worst
moment (lowest touchpoint CSAT) lay in the stage; the money tab's, the detractors' of its scope.

Every question reads through the user's door (:mod:`cxlake.access.serving_door`), so a store
manager gets their store's comments whatever scope the chart shows (the chain's, their region's),
and a comment's phone number or e-mail stays masked for a role without PII rights. Only countable
responses count, as in the models, and suspect ones are left out when the model leaves them out.
Each question returns the newest COMMENTS_SHOWN comments with ``count_comments``, how many there
are in all, and None when the serving copy lacks a mart it needs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.access.roles import Scope
from cxlake.access.serving_door import Reader
from cxlake.metrics import settings as metric_settings
from streamlit_app.data_access import core
from streamlit_app.data_access.core import CACHE_TTL_SECONDS

SCOPE_LEVELS = ("chain", "region", "store")
# A table of comments shows the newest this many; the caption says how many there are in all.
COMMENTS_SHOWN = 200
# What each table of comments starts with, in this order; a question adds its own columns after
# ``nps_score`` (the rating behind the chart) and ends with the response's key, so a download can be
# joined back to marts.fct_survey_responses.
LEADING_COLUMNS = ("responded_at", "store_name", "channel", "nps_score")
TRAILING_COLUMNS = ("comment", "response_key", "count_comments")
RESPONSES = "fct_survey_responses"


def _scope_condition(scope_level: str, scope_id: str) -> tuple[str, list[object]]:
    """The responses of one scope of a per-scope mart (the chain: every response the door shows)."""
    if scope_level not in SCOPE_LEVELS:
        raise ValueError(f"scope_level must be one of {SCOPE_LEVELS}, got {scope_level!r}")
    if scope_level == "chain":
        return "true", []
    return f"r.{scope_level}_id = ?", [scope_id]


def _answered(exclude_suspect: bool) -> str:
    """Countable responses with a comment, without the suspect ones when the model leaves them out
    (a serving copy from before the integrity marts has no suspect mark)."""
    condition = "r.is_countable and nullif(trim(r.comment), '') is not null"
    if exclude_suspect and "is_suspect" in core.columns_of("marts", RESPONSES):
        condition += " and not coalesce(r.is_suspect, false)"
    return condition


def _comments(
    reader: Reader, extra_columns: str, joins: str, condition: str, params: list[object]
) -> pd.DataFrame:
    """The newest COMMENTS_SHOWN comments of the responses ``condition`` picks, with how many in all."""
    return core.frame(
        reader,
        "select r.responded_at, coalesce(s.store_name, r.store_id) as store_name, r.channel, r.nps_score,"
        f" {extra_columns} r.comment, r.response_key, count(*) over () as count_comments"
        f" from marts.{RESPONSES} as r {joins}"
        " left join marts.dim_store as s on s.store_id = r.store_id"
        f" where {condition}"
        " order by r.responded_at desc, r.response_key limit ?",
        [*params, COMMENTS_SHOWN],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def low_rating_comments(
    scope: Scope, sees_pii: bool, scope_level: str, scope_id: str, touchpoint: str, exclude_suspect: bool
) -> pd.DataFrame | None:
    """The comments of the responses in one scope of marts.mart_key_drivers (as far as the user's
    door reaches) that rated ``touchpoint`` below the top-2 box, with that rating as ``csat_score``.
    None without marts.fct_touchpoint_ratings."""
    where, params = _scope_condition(scope_level, scope_id)
    if not core.mart_published("fct_touchpoint_ratings"):
        return None
    low, _ = metric_settings().csat_scale
    return _comments(
        Reader(scope, sees_pii),
        "t.csat_score,",
        "join marts.fct_touchpoint_ratings as t on t.response_key = r.response_key",
        f"{_answered(exclude_suspect)} and {where} and t.is_countable and t.touchpoint_id = ?"
        " and t.csat_score between ? and ?",
        [*params, touchpoint, low, metric_settings().csat_top_box_min - 1],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def feature_comments(scope: Scope, sees_pii: bool, feature_label: str) -> pd.DataFrame:
    """The comments in the user's scope that name a Kano feature (its label, case aside): what
    customers wrote about it unasked, since the Kano survey has no open question."""
    if not feature_label.strip():
        raise ValueError("a feature label to look for is required")
    return _comments(
        Reader(scope, sees_pii),
        "",
        "",
        f"{_answered(False)} and contains(lower(r.comment), lower(?))",
        [feature_label.strip()],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def worst_moment_comments(
    scope: Scope, sees_pii: bool, scope_level: str, scope_id: str, stage: str | None, exclude_suspect: bool
) -> pd.DataFrame | None:
    """The comments of the journeys in one scope of marts.mart_peak_end (as far as the user's door
    reaches) whose worst moment, their lowest touchpoint CSAT, lay in ``stage`` (a tie counts for
    every stage it touches; None: every rated journey), with that rating as ``worst_csat`` and the
    touchpoints that got it as ``worst_touchpoints_en`` / ``_zh``. Journeys as the model counts
    them: responses tied to a purchase (marts.fct_journeys), not every rated response. None
    without the ratings mart."""
    where, params = _scope_condition(scope_level, scope_id)
    if not core.mart_published("fct_touchpoint_ratings"):
        return None
    low, high = metric_settings().csat_scale
    stage_sql = "true" if stage is None else "list_contains(m.worst_stages, ?)"
    moments = (
        "join (select t.response_key, w.worst_csat,"
        "   string_agg(coalesce(d.touchpoint_name_en, t.touchpoint_id), ', '"
        "     order by d.stage_order, d.touchpoint_order, t.touchpoint_id) as worst_touchpoints_en,"
        "   string_agg(coalesce(d.touchpoint_name_zh, t.touchpoint_id), '、'"
        "     order by d.stage_order, d.touchpoint_order, t.touchpoint_id) as worst_touchpoints_zh,"
        "   list(distinct d.stage_id) as worst_stages"
        " from marts.fct_touchpoint_ratings as t"
        " join (select response_key, min(csat_score) as worst_csat from marts.fct_touchpoint_ratings"
        "   where is_countable and csat_score between ? and ? group by response_key) as w"
        "   on w.response_key = t.response_key and w.worst_csat = t.csat_score"
        " left join marts.dim_touchpoint as d on d.touchpoint_id = t.touchpoint_id"
        " where t.is_countable group by t.response_key, w.worst_csat) as m on m.response_key = r.response_key"
    )
    return _comments(
        Reader(scope, sees_pii),
        "m.worst_csat, m.worst_touchpoints_en, m.worst_touchpoints_zh,",
        moments,
        f"{_answered(exclude_suspect)} and r.nps_score is not null and {where} and {stage_sql}"
        " and exists (select 1 from marts.fct_journeys as j where j.response_key = r.response_key)",
        [low, high, *params, *([] if stage is None else [stage])],
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def detractor_comments(scope: Scope, sees_pii: bool, scope_level: str, scope_id: str) -> pd.DataFrame:
    """The detractors' comments in one scope of marts.mart_experience_money (as far as the user's
    door reaches): the customers whose answers put revenue at risk, in their own words (every
    countable answer, suspect or not, as the money marts count them)."""
    where, params = _scope_condition(scope_level, scope_id)
    return _comments(
        Reader(scope, sees_pii),
        "",
        "",
        f"{_answered(False)} and r.nps_category = 'detractor' and {where}",
        params,
    )
