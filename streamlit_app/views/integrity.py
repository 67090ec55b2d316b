"""Integrity: whose survey scores look manufactured, and the evidence. The CX director's page.

Staff who hand out surveys for gifts or bonuses leave traces: far more 10s than other stores,
answers given at the till minutes after the sale, many answers from one device or IP address. The
detection asset weighs them per store and staff member over the whole loaded range
(marts.mart_integrity_store / _staff) and marks the answers it suspects without dropping them. This
page lists what it flagged, strongest evidence first, in words, then shows for one store the
evidence itself beside the other stores and its NPS with and without the suspect answers.

Every share says how many answers it rests on; an NPS of fewer answers than a reported NPS needs
(metrics.yaml min_responses) is not shown, its place says "n = 4, too few".
"""

from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st

from cxlake.metrics import settings
from streamlit_app import charts, data_access, labels, widgets
from streamlit_app.data_access import integrity as integrity_reads

PAGE_KEY = "integrity"
KEY_STORE = "integrity_store"
KEY_STAFF = "integrity_staff"
URL_STORE = "store"
STORE_COLUMNS = (
    "store_name", "store_id", "region_id", "is_flagged", "reasons", "integrity_score",
    "suspect_responses", "responses", "nps", "nps_excluding_suspect",
)  # fmt: skip
STAFF_COLUMNS = (
    "staff_name", "staff_id", "store_name", "store_id", "is_flagged", "reasons", "integrity_score",
    "suspect_responses", "responses", "share_tens", "share_fast_after_sale",
)  # fmt: skip
# The evidence measures the store mart holds for a store and its peers: (store column, peer column).
EVIDENCE = (
    ("share_tens", "peer_share_tens"),
    ("share_fast_after_sale", "peer_share_fast_after_sale"),
    ("top_device_share", "peer_top_device_share"),
)
# The chosen store's bars stand out from the other stores'.
SIDE_COLOURS = {"store": "#d62728", "peers": "#9e9e9e"}

LABELS = {
    "en": {
        "title": "Survey integrity",
        "intro": (
            "Evidence that scores were manufactured (staff answering surveys or steering customers), over"
            " all the data loaded. Integrity runs from 1 (no evidence) down; the lower, the stronger the"
            " evidence. Suspect answers are marked, never dropped: every other page still counts them."
        ),
        "no_integrity_marts": (
            "The serving copy has no integrity data yet: it is written by the survey-integrity step of"
            " the pipeline (`cxlake run`)."
        ),
        "stores_title": "Stores",
        "stores_flagged": "**{flagged} of {total} stores are flagged**, listed first.",
        "no_store_flagged": "No store is flagged ({total} checked).",
        "staff_title": "Flagged staff",
        "no_staff_flagged": "No staff member is flagged ({total} checked).",
        "no_staff": "No staff member has answers attributed to them.",
        "evidence_title": "Evidence for one store",
        "pick_store": "Store",
        "flagged_marker": "flagged",
        "store_reasons": "Flagged for: {reasons}.",
        "store_not_flagged": "Not flagged.",
        "nps_all": "NPS, all answers (n = {n:,})",
        "nps_clean": "NPS without suspect answers (n = {n:,})",
        "nps_reading": (
            "Without its {suspect:,} suspect answers (of {n:,}), this store's NPS is {clean}"
            " instead of {nps}."
        ),
        "no_suspect": "None of this store's {n:,} answers is marked suspect.",
        "small_n": "n = {n:,} is under the {min} answers a reported NPS needs, so it is not shown.",
        "measures_title": "What the detector measured",
        "measure_share_tens": "Share of 10s",
        "measure_share_fast_after_sale": "Answered within 6 minutes of the sale",
        "measure_top_device_share": "Answers from the single most used device or IP",
        "measures_note": (
            "Other stores: their share of 10s and of fast answers as the detector pools them; for devices"
            " the median of the other stores."
        ),
        "scores_title": "Scores given, this store against the other stores",
        "scores_n": "Share of each score 0–10. n = {store:,} answers at this store, {peers:,} at the others.",
        "delay_title": "Time from the sale to the answer",
        "delay_n": (
            "Share of the answers linked to a sale. n = {store:,} linked answers at this store"
            " ({store_none:,} without a linked sale), {peers:,} at the others ({peers_none:,} without)."
        ),
        "no_linked": (
            "None of this store's answers is linked to a sale ({store_none:,} answers without one), so the"
            " delay cannot be shown."
        ),
        "devices_title": "Answers from one device or IP, every store",
        "devices_note": (
            "Each store's share of answers that came from its single most used device or IP address;"
            " this store in red."
        ),
        "suspect_title": "This store's suspect answers, by reason",
        "staff_of_store_title": "Staff of this store",
        "staff_evidence_title": "Evidence for one staff member",
        "pick_staff": "Staff member",
        "staff_counts": "{n:,} answers linked to their sales, {suspect:,} of them marked suspect.",
        "staff_scores_title": "Scores given, this staff member against the other staff",
        "staff_scores_n": (
            "Share of each score 0–10. n = {store:,} answers linked to this staff member's sales,"
            " {peers:,} to the other staff members'."
        ),
        "staff_delay_n": (
            "Share of the answers whose sale has an order time. n = {store:,} for this staff member"
            " ({store_none:,} without), {peers:,} for the others ({peers_none:,} without)."
        ),
        "staff_no_linked": "None of this staff member's answers has a sale with an order time.",
        "staff_devices": (
            "Devices are measured per store (the chart above); the detector's verdict on a staff"
            " member's devices is in their reasons."
        ),
        "side_store": "This store",
        "side_staff": "This staff member",
        "side_peers": "Other stores",
        "side_peer_staff": "Other staff",
        "score": "Score",
        "delay": "Time after the sale",
        "share": "Share",
        "responses": "Answers",
        "whose": "Whose answers",
        "store": "Store",
        "top_device_share": "Share from one device or IP",
        "side_responses": "Answers of the side",
        "hollow_sides": "Hollow bars, too few answers to read as facts: {sides}.",
        "hollow_stores": (
            "Hollow bars: {count} stores with fewer than {min} answers, too few to read as facts."
        ),
    },
    "zh": {
        "title": "问卷可信度",
        "intro": (
            "评分被人为制造（员工代答问卷或诱导顾客打分）的证据，基于已加载的全部数据。"
            "可信度从 1（无异常证据）往下，越低证据越强。可疑答卷只做标记、不会删除：其他页面仍照常计入。"
        ),
        "no_integrity_marts": (
            "发布的数据中尚无可信度数据：它由数据管道的问卷可信度步骤生成（`cxlake run`）。"
        ),
        "stores_title": "门店",
        "stores_flagged": "**{total} 家门店中有 {flagged} 家被标记**，排在最前。",
        "no_store_flagged": "没有门店被标记（共检查 {total} 家）。",
        "staff_title": "被标记的员工",
        "no_staff_flagged": "没有员工被标记（共检查 {total} 人）。",
        "no_staff": "没有归属到员工的答卷。",
        "evidence_title": "单店证据",
        "pick_store": "门店",
        "flagged_marker": "已标记",
        "store_reasons": "标记依据：{reasons}。",
        "store_not_flagged": "未被标记。",
        "nps_all": "NPS，全部答卷（n = {n:,}）",
        "nps_clean": "剔除可疑答卷后的 NPS（n = {n:,}）",
        "nps_reading": "剔除 {suspect:,} 份可疑答卷（共 {n:,} 份）后，本店 NPS 为 {clean}，而非 {nps}。",
        "no_suspect": "本店 {n:,} 份答卷中没有被标记为可疑的。",
        "small_n": "n = {n:,}，不足发布 NPS 所需的 {min} 份，故不显示。",
        "measures_title": "检测指标",
        "measure_share_tens": "10 分占比",
        "measure_share_fast_after_sale": "消费后 6 分钟内作答",
        "measure_top_device_share": "来自同一设备或 IP 的答卷占比",
        "measures_note": "其他门店：10 分占比与快速作答占比按检测时的汇总口径；设备占比为其他门店的中位数。",
        "scores_title": "评分分布：本店与其他门店",
        "scores_n": "0–10 各分数的占比。n = 本店 {store:,} 份，其他门店 {peers:,} 份。",
        "delay_title": "消费到作答的时间",
        "delay_n": (
            "占有关联消费答卷的比例。n = 本店 {store:,} 份有关联消费（{store_none:,} 份无关联），"
            "其他门店 {peers:,} 份（{peers_none:,} 份无关联）。"
        ),
        "no_linked": "本店答卷均无关联消费（{store_none:,} 份），无法显示作答时间。",
        "devices_title": "来自同一设备或 IP 的答卷：全部门店",
        "devices_note": "各门店答卷中来自其最常用的单一设备或 IP 地址的占比；本店以红色显示。",
        "suspect_title": "本店可疑答卷：按原因",
        "staff_of_store_title": "本店员工",
        "staff_evidence_title": "单个员工的证据",
        "pick_staff": "员工",
        "staff_counts": "关联到其消费的答卷 {n:,} 份，其中 {suspect:,} 份被标记为可疑。",
        "staff_scores_title": "评分分布：该员工与其他员工",
        "staff_scores_n": "0–10 各分数的占比。n = 该员工 {store:,} 份，其他员工 {peers:,} 份。",
        "staff_delay_n": (
            "占有下单时间的答卷的比例。n = 该员工 {store:,} 份（{store_none:,} 份无），"
            "其他员工 {peers:,} 份（{peers_none:,} 份无）。"
        ),
        "staff_no_linked": "该员工的答卷均无带下单时间的消费。",
        "staff_devices": "设备按门店统计（见上图）；检测对员工设备的判断见其标记依据。",
        "side_store": "本店",
        "side_staff": "该员工",
        "side_peers": "其他门店",
        "side_peer_staff": "其他员工",
        "score": "分数",
        "delay": "距消费时间",
        "share": "占比",
        "responses": "答卷数",
        "whose": "答卷来源",
        "store": "门店",
        "top_device_share": "单一设备/IP 占比",
        "side_responses": "该方答卷数",
        "hollow_sides": "空心柱样本过少，不能作为结论：{sides}。",
        "hollow_stores": "空心柱：{count} 家门店答卷不足 {min} 份，样本过少，不能作为结论。",
    },
}


def reasons_in_words(reasons: object, rules: Mapping[str, str]) -> str:
    """``excess_tens,fast_after_sale`` as the rules' words, strongest first; "" for none."""
    if not isinstance(reasons, str):
        return ""
    rule_ids = [rule_id.strip() for rule_id in reasons.split(",") if rule_id.strip()]
    return ", ".join(rules.get(rule_id, rule_id) for rule_id in rule_ids)


def in_words(reasons: object) -> str:
    """A mart's ``reasons`` in the page's language."""
    return reasons_in_words(reasons, rules)


def store_words(store_id: str) -> str:
    """The store picker's entries: "人民广场店 (S001)", marked when flagged."""
    row = stores.loc[store_id]
    name = f"{labels.store_label(row['store_name'])} ({store_id})"
    return f"{name} · {text['flagged_marker']}" if row["is_flagged"] else name


def shown_number(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}"


def side_words(subject: str) -> dict[str, str]:
    """The sides of a distribution in words: the subject (``store`` or ``staff``) and its peers."""
    if subject == "staff":
        return {"staff": text["side_staff"], "peers": text["side_peer_staff"]}
    return {"store": text["side_store"], "peers": text["side_peers"]}


def side_by_side_chart(
    frame: pd.DataFrame, x_field: str, x_title: str, x_sort: list[str], sides: Mapping[str, str]
) -> alt.LayerChart:
    """Share per value (score or delay), the subject's bar beside its peers' (``side``, in the
    words of ``sides``). A side whose shares rest on fewer answers than a reported figure needs
    (``side_responses``) is drawn hollow and dashed: hovering it, or a screen reader, says "n = 12,
    too few", never its share."""
    data = charts.with_reportability(
        frame.assign(side_name=frame["side"].map(sides)), language, "side_responses"
    )
    names = list(sides.values())
    base = alt.Chart(data).encode(
        x=alt.X(f"{x_field}:O", title=x_title, sort=x_sort, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("side_name:N", sort=names),
        y=alt.Y("share:Q", title=text["share"], axis=alt.Axis(format="%")),
        color=alt.Color(
            "side_name:N",
            title=text["whose"],
            scale=alt.Scale(domain=names, range=list(SIDE_COLOURS.values())),
        ),
    )
    side = alt.Tooltip("side_name:N", title=text["whose"])
    value = alt.Tooltip(f"{x_field}:O", title=x_title)
    solid = (
        charts.facts(base)
        .mark_bar()
        .encode(
            tooltip=[
                side,
                value,
                alt.Tooltip("share:Q", title=text["share"], format=".1%"),
                alt.Tooltip("responses:Q", title=text["responses"], format=","),
            ]
        )
    )
    hollow = (
        charts.too_few_rows(base)
        .mark_bar(**charts.HOLLOW)
        .encode(tooltip=[*charts.too_few_tooltip(side, language), value])
    )
    return solid + hollow


def shares_as_shown(frame: pd.DataFrame, sides: Mapping[str, str]) -> pd.DataFrame:
    """A distribution as its table and downloads show it: sides in words, and the shares of a side
    of too few answers left empty, the row marked not reportable (its counts stay: they are facts)."""
    enough = charts.reportable(frame["side_responses"])
    return frame.assign(side=frame["side"].map(sides), share=frame["share"].where(enough), reportable=enough)


def device_chart(chosen: str) -> alt.Chart:
    """Every store's top-device share, highest first, the chosen store in red; a store with fewer
    answers than a reported figure needs is drawn hollow, its tooltip "n = 4, too few"."""
    data = charts.with_reportability(
        stores.reset_index(drop=True).assign(
            store=lambda frame: frame["store_name"].map(labels.store_label) + " (" + frame["store_id"] + ")"
        ),
        language,
        "responses",
    )
    store = alt.Tooltip("store:N", title=text["store"])
    base = alt.Chart(data).encode(
        x=alt.X("top_device_share:Q", title=text["top_device_share"], axis=alt.Axis(format="%")),
        y=alt.Y("store:N", title=text["store"], sort="-x"),
        color=alt.condition(
            alt.datum.store_id == chosen,
            alt.value(SIDE_COLOURS["store"]),
            alt.value(SIDE_COLOURS["peers"]),
        ),
    )
    solid = (
        charts.facts(base)
        .mark_bar()
        .encode(
            tooltip=[
                store,
                alt.Tooltip("top_device_share:Q", title=text["top_device_share"], format=".1%"),
                alt.Tooltip("responses:Q", title=text["responses"], format=","),
            ],
        )
    )
    hollow = (
        charts.too_few_rows(base)
        .mark_bar(**charts.HOLLOW)
        .encode(tooltip=charts.too_few_tooltip(store, language))
    )
    return solid + hollow


def stores_section() -> None:
    st.subheader(text["stores_title"], anchor=False)
    flagged = int(stores["is_flagged"].sum())
    if flagged:
        st.markdown(text["stores_flagged"].format(flagged=flagged, total=len(stores)))
    else:
        st.success(text["no_store_flagged"].format(total=len(stores)))
    enough = settings().min_responses
    clean_n = stores["responses"] - stores["suspect_responses"]
    table = stores.reset_index(drop=True).assign(
        reasons=lambda frame: frame["reasons"].map(in_words),
        store_name=lambda frame: frame["store_name"].map(labels.store_label),
        # an NPS of too few answers is left empty: the responses column says how many there were
        nps=stores["nps"].where(stores["responses"] >= enough).reset_index(drop=True),
        nps_excluding_suspect=stores["nps_excluding_suspect"].where(clean_n >= enough).reset_index(drop=True),
    )
    widgets.show_table(table[list(STORE_COLUMNS)], "integrity_stores", PAGE_KEY)


def staff_table(staff: pd.DataFrame) -> pd.DataFrame:
    """Staff as the tables show them: reasons in words, readable store names, and their shares of
    10s and of fast answers only over enough answers to be read as facts. A staff member is judged
    from fewer answers than that (integrity.yaml): their row says it is not reportable, and the
    evidence for one staff member below shows the counts behind the verdict."""
    enough = charts.reportable(staff["responses"])
    return staff.assign(
        reasons=staff["reasons"].map(in_words),
        store_name=staff["store_name"].map(labels.store_label),
        share_tens=staff["share_tens"].astype("float64").where(enough),
        share_fast_after_sale=staff["share_fast_after_sale"].astype("float64").where(enough),
        reportable=enough,
    )[[*STAFF_COLUMNS, "reportable"]]


def staff_section() -> None:
    st.subheader(text["staff_title"], anchor=False)
    if staff is None or staff.empty:
        st.info(text["no_staff"])
        return
    flagged = staff[staff["is_flagged"].fillna(False).astype(bool)]
    if flagged.empty:
        st.success(text["no_staff_flagged"].format(total=len(staff)))
        return
    widgets.show_table(staff_table(flagged), "integrity_staff_flagged", PAGE_KEY)


def chosen_store() -> str:
    """The store whose evidence is shown: the link's ``?store=`` if in scope, else the first listed
    (the most strongly flagged)."""
    options = list(stores.index)
    if KEY_STORE not in st.session_state:
        linked = [store for store in st.query_params.get_all(URL_STORE) if store in stores.index]
        st.session_state[KEY_STORE] = linked[0] if linked else options[0]
    return st.selectbox(text["pick_store"], options, format_func=store_words, key=KEY_STORE)


def reportable_nps(value: object, n: int) -> str:
    """The NPS as shown: "—" for fewer answers than a reported NPS needs."""
    return shown_number(value) if n >= settings().min_responses else "—"


def nps_part(row: pd.Series) -> None:
    n, suspect = int(row["responses"]), int(row["suspect_responses"])
    nps, clean = reportable_nps(row["nps"], n), reportable_nps(row["nps_excluding_suspect"], n - suspect)
    with st.container(horizontal=True):
        for label, value, count in ((text["nps_all"], nps, n), (text["nps_clean"], clean, n - suspect)):
            with st.container():
                st.metric(label.format(n=count), value)
                if value == "—":
                    st.caption(labels.too_few(count, language))
    if not suspect:
        st.markdown(text["no_suspect"].format(n=n))
    elif "—" not in (nps, clean):
        st.markdown(text["nps_reading"].format(suspect=suspect, n=n, clean=clean, nps=nps))
    else:
        minimum = settings().min_responses
        st.caption(text["small_n"].format(n=min(n - suspect, n), min=minimum))


def measures_part(row: pd.Series) -> None:
    """The store's evidence measures beside its peers'; the store's left empty, with "n = 4, too few",
    over fewer answers than a reported figure needs."""
    st.markdown(f"**{text['measures_title']}**")
    n = int(row["responses"])
    enough = n >= settings().min_responses
    measures = pd.DataFrame(
        {
            "measure": [text[f"measure_{column}"] for column, _ in EVIDENCE],
            "store_share": [row[column] if enough else None for column, _ in EVIDENCE],
            "peer_share": [row[peer] for _, peer in EVIDENCE],
        }
    ).astype({"store_share": "float64", "peer_share": "float64"})
    widgets.show_table(measures)
    if not enough:
        st.caption(labels.too_few(n, language))
    st.caption(text["measures_note"])


def side_total(frame: pd.DataFrame, side: str, mask: pd.Series | None = None) -> int:
    rows = frame[frame["side"] == side] if mask is None else frame[(frame["side"] == side) & mask]
    return int(rows["responses"].sum())


def hollow_caption(frame: pd.DataFrame, sides: Mapping[str, str]) -> None:
    """Say in words which sides the chart draws hollow and why ("This store (n = 12, too few)"), so
    the page's text says what the marks show."""
    totals = frame.groupby("side", sort=False)["side_responses"].first()
    few = [
        f"{sides[side]} ({labels.too_few(n, language)})"
        for side, n in totals.items()
        if side in sides and not charts.reportable(pd.Series([n])).iloc[0]
    ]
    if few:
        st.caption(text["hollow_sides"].format(sides=", ".join(few)))


def numbers_behind(frame: pd.DataFrame, sides: Mapping[str, str], file_stem: str) -> None:
    """A distribution's table, folded away, with its downloads: each side's n beside its counts."""
    with st.expander(text["show_data"]):
        widgets.show_table(
            shares_as_shown(frame, sides), file_stem, PAGE_KEY, {"side_responses": text["side_responses"]}
        )


def scores_chart(shares: pd.DataFrame, subject: str, caption: str, file_stem: str) -> None:
    """A subject's (store's or staff member's) share of each score beside its peers', with the n of
    each side and the numbers behind the chart."""
    sides = side_words(subject)
    st.caption(caption.format(store=side_total(shares, subject), peers=side_total(shares, "peers")))
    charts.show(
        side_by_side_chart(shares, "score", text["score"], [str(score) for score in range(11)], sides)
    )
    hollow_caption(shares, sides)
    numbers_behind(shares, sides, file_stem)


def delay_chart(delays: pd.DataFrame, subject: str, captions: tuple[str, str], file_stem: str) -> None:
    """A subject's answers by the time after the sale beside its peers'; ``captions``: the n line
    and what to say when the subject has no answer with a sale to measure from."""
    sides = side_words(subject)
    unlinked = delays["delay_bin"] == data_access.NO_LINKED_SALE
    counts = {
        "store": side_total(delays, subject, ~unlinked),
        "store_none": side_total(delays, subject, unlinked),
        "peers": side_total(delays, "peers", ~unlinked),
        "peers_none": side_total(delays, "peers", unlinked),
    }
    n_line, nothing = captions
    if counts["store"] == 0:
        st.info(nothing.format(**counts))
        return
    st.caption(n_line.format(**counts))
    linked = delays[~unlinked]
    names = linked.assign(
        delay_name=linked["delay_bin"].map(lambda code: labels.code("delay_bin", code, language))
    )
    order = [labels.code("delay_bin", code, language) for code, _ in data_access.DELAY_BINS]
    charts.show(side_by_side_chart(names, "delay_name", text["delay"], order, sides))
    hollow_caption(linked, sides)
    numbers_behind(delays, sides, file_stem)


def scores_part(store_id: str) -> None:
    st.markdown(f"**{text['scores_title']}**")
    shares = data_access.integrity_score_shares(scope, store_id)
    scores_chart(shares, "store", text["scores_n"], f"integrity_scores_{store_id}")


def delay_part(store_id: str) -> None:
    st.markdown(f"**{text['delay_title']}**")
    delays = data_access.integrity_delay_shares(scope, store_id)
    delay_chart(delays, "store", (text["delay_n"], text["no_linked"]), f"integrity_delay_{store_id}")


def devices_part(store_id: str) -> None:
    st.markdown(f"**{text['devices_title']}**")
    st.caption(text["devices_note"])
    charts.show(device_chart(store_id))
    few = int((~charts.reportable(stores["responses"])).sum())
    if few:
        st.caption(text["hollow_stores"].format(count=few, min=settings().min_responses))


def suspect_part(store_id: str) -> None:
    reasons = data_access.integrity_suspect_reasons(scope, store_id)
    if reasons.empty:
        return
    st.markdown(f"**{text['suspect_title']}**")
    widgets.show_table(reasons.assign(suspect_reason=reasons["suspect_reason"].map(in_words)))


def store_staff_part(store_id: str) -> None:
    staff = data_access.integrity_staff(scope, store_id)
    if staff is None or staff.empty:
        return
    st.markdown(f"**{text['staff_of_store_title']}**")
    widgets.show_table(staff_table(staff), f"integrity_staff_{store_id}", PAGE_KEY)


def staff_words(staff_id: str) -> str:
    """The staff picker's entries: "李强 (S002-E1) · 徐家汇店", marked when flagged."""
    row = staff_by_id.loc[staff_id]
    name = f"{row['staff_name']} ({staff_id}) · {labels.store_label(row['store_name'])}"
    return f"{name} · {text['flagged_marker']}" if row["is_flagged"] else name


def staff_evidence_section() -> None:
    """One staff member's evidence, flagged staff first: their scores and the time from the sale to
    the answer against every other staff member's answers."""
    if staff is None or staff.empty:
        return
    st.subheader(text["staff_evidence_title"], anchor=False)
    staff_id = st.selectbox(
        text["pick_staff"], list(staff_by_id.index), format_func=staff_words, key=KEY_STAFF
    )
    row = staff_by_id.loc[staff_id]
    words = in_words(row["reasons"])
    st.markdown(text["store_reasons"].format(reasons=words) if words else text["store_not_flagged"])
    st.markdown(text["staff_counts"].format(n=int(row["responses"]), suspect=int(row["suspect_responses"])))
    st.markdown(f"**{text['staff_scores_title']}**")
    scores = integrity_reads.integrity_staff_score_shares(scope, staff_id)
    scores_chart(scores, "staff", text["staff_scores_n"], f"integrity_staff_scores_{staff_id}")
    st.markdown(f"**{text['delay_title']}**")
    delays = integrity_reads.integrity_staff_delay_shares(scope, staff_id)
    captions = (text["staff_delay_n"], text["staff_no_linked"])
    delay_chart(delays, "staff", captions, f"integrity_staff_delay_{staff_id}")
    st.caption(text["staff_devices"])


def evidence_section() -> None:
    st.subheader(text["evidence_title"], anchor=False)
    store_id = chosen_store()
    row = stores.loc[store_id]
    words = in_words(row["reasons"])
    st.markdown(text["store_reasons"].format(reasons=words) if words else text["store_not_flagged"])
    nps_part(row)
    measures_part(row)
    scores_part(store_id)
    delay_part(store_id)
    devices_part(store_id)
    suspect_part(store_id)
    store_staff_part(store_id)


language, text, principal = widgets.page_header(LABELS, PAGE_KEY)
scope = principal.scope
if not data_access.serving_copy_exists():
    st.warning(text["no_serving"])
    st.stop()
found = data_access.integrity_stores(scope)
if found is None:
    st.info(text["no_integrity_marts"])
    st.stop()
if found.empty:
    st.info(text["no_data"])
    st.stop()
stores = found.set_index("store_id", drop=False)
rules = data_access.integrity_rule_labels(language)
staff = data_access.integrity_staff(scope)
staff_by_id = None if staff is None else staff.set_index("staff_id", drop=False)
st.caption(text["intro"])
stores_section()
staff_section()
evidence_section()
staff_evidence_section()
