"""The Money tab: what experience is worth (marts.mart_experience_value, mart_experience_money,
mart_csat_revenue_effect).

For the picked scope: a detractor made promoter, detractors' excess churn and the revenue at risk in
words with their intervals (below the reportable n only the members' counts), spend, visits and
repeat rate per NPS category, what one more CSAT point at each touchpoint brings; then the comments
behind the figures: the scope's detractors' own words.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cxlake.metrics import settings as metric_settings
from streamlit_app import data_access
from streamlit_app.data_access import comments as comments_access
from streamlit_app.data_access import money as money_access
from streamlit_app.insight_tabs.common import Tab, blank_below_n, no_mart, pick_scope, show_comments, table

KEY_MONEY_SCOPE = "insights_money_scope"


def money_words(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"¥{float(value):,.2f}"


def percent_words(share: object) -> str:
    """A share (0..1) as a percentage; a difference of shares reads as points the same way."""
    return "—" if share is None or pd.isna(share) else f"{100 * float(share):.1f}%"


def points_words(share: object) -> str:
    return "—" if share is None or pd.isna(share) else f"{100 * abs(float(share)):.1f}"


def money_sentences(tab: Tab, row: pd.Series, categories: pd.DataFrame, window: int) -> None:
    """The scope's money in words: a detractor made promoter, their excess churn, the revenue at risk
    from detractors and from unresolved cases, each with its interval; below the reportable n only
    how many members there are."""
    if not row["is_reportable"]:
        st.markdown(
            tab.text["money_too_few"].format(
                promoters=tab.too_few(row["count_promoter_members"]),
                detractors=tab.too_few(row["count_detractor_members"]),
                minimum=metric_settings().min_responses,
            )
        )
        return
    if pd.isna(row["detractor_to_promoter_value"]):
        st.markdown(tab.text["value_missing"])
        return
    rates = categories.set_index("nps_category")["repeat_rate"]
    st.markdown(
        tab.text["value_line"].format(
            value=money_words(row["detractor_to_promoter_value"]),
            window=window,
            low=money_words(row["detractor_to_promoter_value_ci_low"]),
            high=money_words(row["detractor_to_promoter_value_ci_high"]),
        )
    )
    st.markdown(
        tab.text["churn_line"].format(
            detractor_rate=percent_words(rates.get("detractor")),
            promoter_rate=percent_words(rates.get("promoter")),
            window=window,
            excess=points_words(row["excess_churn_rate"]),
            low=points_words(row["excess_churn_rate_ci_low"]),
            high=points_words(row["excess_churn_rate_ci_high"]),
        )
    )
    st.markdown(
        tab.text["risk_detractor_line"].format(
            risk=money_words(row["detractor_revenue_at_risk"]),
            window=window,
            low=money_words(row["detractor_revenue_at_risk_ci_low"]),
            high=money_words(row["detractor_revenue_at_risk_ci_high"]),
            count=int(row["count_recent_detractors"]),
            spend=money_words(row["detractor_spend_if_retained"]),
        )
    )
    if row["count_open_case_members"] > 0:
        st.markdown(
            tab.text["risk_case_line"].format(
                risk=money_words(row["open_case_revenue_at_risk"]),
                low=money_words(row["open_case_revenue_at_risk_ci_low"]),
                high=money_words(row["open_case_revenue_at_risk_ci_high"]),
                count=int(row["count_open_case_members"]),
                spend=money_words(row["open_case_spend_per_window"]),
                window=window,
            )
        )


def category_table(tab: Tab, categories: pd.DataFrame, scope_id: str) -> None:
    """Spend, visits and repeat rate per NPS category with their intervals; a category below the
    reportable n shows only "n = 4, too few"."""
    measures = [
        "avg_spend", "avg_spend_ci_low", "avg_spend_ci_high", "avg_visits", "avg_visits_ci_low",
        "avg_visits_ci_high", "repeat_rate", "repeat_rate_ci_low", "repeat_rate_ci_high",
    ]  # fmt: skip
    shown = blank_below_n(
        tab,
        categories[["nps_category", "count_members", *measures]],
        measures,
        "count_members",
        categories["is_reportable"],
    )
    headers = {
        "count_members": tab.text["members"],
        "avg_visits_ci_low": tab.text["visits_ci_low"],
        "avg_visits_ci_high": tab.text["visits_ci_high"],
        "note": tab.text["note"],
    }
    table(tab, shown, f"insights_experience_value_{scope_id}", headers)


def csat_effect_section(tab: Tab, window: int) -> None:
    """What one more CSAT point at each touchpoint brings, the best one in words."""
    effects = money_access.csat_revenue_effect(tab.scope)
    if effects is None:
        return
    st.subheader(tab.text["csat_title"], anchor=False)
    st.caption(tab.text["csat_note"])
    effects = effects.assign(touchpoint_name=effects[f"touchpoint_name_{tab.language}"])
    reportable = effects[effects["is_reportable"].astype(bool)]
    if reportable.empty:
        st.info(tab.text["csat_none"])
    else:
        best = reportable.iloc[0]
        st.markdown(
            tab.text["csat_line"].format(
                touchpoint=best["touchpoint_name"],
                value=money_words(best["effect_per_member"]),
                window=window,
                low=money_words(best["ci_low"]),
                high=money_words(best["ci_high"]),
                per_rater=money_words(best["effect_per_rater"]),
                share=percent_words(best["rated_share"]),
                up=points_words(best["promoter_probability_change"]),
                down=points_words(best["detractor_probability_change"]),
            )
        )
    measures = [
        "effect_per_member", "effect_ci_low", "effect_ci_high", "effect_per_rater",
        "effect_per_rater_ci_low", "effect_per_rater_ci_high", "promoter_points", "detractor_points",
    ]  # fmt: skip
    # ci_low / ci_high renamed: the tables round columns of those names to one decimal (NPS's rule)
    shown = effects.rename(columns={"ci_low": "effect_ci_low", "ci_high": "effect_ci_high"}).assign(
        rated_percent=100 * effects["rated_share"],
        promoter_points=100 * effects["promoter_probability_change"],
        detractor_points=100 * effects["detractor_probability_change"],
    )[["touchpoint_name", "n", "rated_percent", *measures]]
    shown = blank_below_n(tab, shown, measures, "n", effects["is_reportable"])
    headers = {
        "touchpoint_name": tab.text["effect_touchpoint"],
        "n": tab.text["effect_ratings"],
        "rated_percent": tab.text["effect_rated"],
        "effect_per_member": tab.text["effect_member"],
        "effect_ci_low": tab.text["effect_member_low"],
        "effect_ci_high": tab.text["effect_member_high"],
        "effect_per_rater": tab.text["effect_rater"],
        "effect_per_rater_ci_low": tab.text["effect_rater_low"],
        "effect_per_rater_ci_high": tab.text["effect_rater_high"],
        "promoter_points": tab.text["effect_promoter"],
        "detractor_points": tab.text["effect_detractor"],
        "note": tab.text["note"],
    }
    table(tab, shown, "insights_csat_revenue_effect", headers)


def show(tab: Tab) -> None:
    """The picked scope's money in words, its categories' table, one more CSAT point's worth and
    the detractors' comments behind the figures."""
    value = data_access.experience_value(tab.scope)
    if value is None:
        no_mart(tab, "mart_experience_value")
        return
    if value.empty:
        span = data_access.transaction_span(tab.scope)
        st.info(tab.text["money_empty"].format(first=span.first_day or "—", last=span.last_day or "—"))
        return
    window = int(value["window_days"].iloc[0])
    st.caption(tab.text["money_note"].format(window=window, last=value["last_transaction_date"].iloc[0]))
    scopes = money_access.money_scopes(tab.scope)
    if scopes is None:
        no_mart(tab, "mart_experience_money")
        scopes = value[["scope_level", "scope_id"]].drop_duplicates().assign(name=lambda f: f["scope_id"])
    level, scope_id, scope_name = pick_scope(tab, scopes, tab.text["money_scope"], KEY_MONEY_SCOPE)
    categories = value[(value["scope_level"] == level) & (value["scope_id"] == scope_id)]
    money = money_access.experience_money(tab.scope, level, scope_id)
    if money is not None and not money.empty:
        money_sentences(tab, money.iloc[0], categories, window)
    category_table(tab, categories, scope_id)
    csat_effect_section(tab, window)
    detractor_comments(tab, level, scope_id, scope_name)


def detractor_comments(tab: Tab, level: str, scope_id: str, scope_name: str) -> None:
    """The comments behind the money figures: the scope's detractors' (every countable answer of
    0-6, as the money marts count them)."""
    with st.expander(tab.text["comments_title"]):
        comments = comments_access.detractor_comments(tab.scope, tab.principal.sees_pii, level, scope_id)
        note = tab.text["money_comments_note"].format(scope=scope_name)
        show_comments(tab, comments, note, f"insights_money_comments_{level}_{scope_id}")
