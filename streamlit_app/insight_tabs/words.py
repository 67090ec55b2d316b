"""The Insights page's words, English and Chinese: the page frame's and every tab's, in one place
where translations plug in (each tab reads its own keys from the merged text)."""

from __future__ import annotations

LABELS = {
    "en": {
        "title": "Insights",
        "tab_drivers": "Key drivers",
        "tab_kano": "Kano",
        "tab_churn": "Churn watch list",
        "tab_money": "Money",
        "tab_frontline": "Frontline",
        "frontline_note": (
            "Your staff, to thank and coach: the CSAT of the answers about orders each one served"
            " (countable, not marked suspect; 95% interval) and the comments naming them, over all"
            " loaded days. A CSAT of fewer than {min} answers is not shown; the list is in roster"
            " order, not a ranking."
        ),
        "frontline_store": "Store",
        "frontline_pick": "Staff member",
        "frontline_staff_title": "Staff of {store}",
        "frontline_touchpoints_title": "{name}: CSAT by touchpoint",
        "frontline_comments_title": "Comments naming {name}",
        "no_frontline_rows": "No staff member in your scope.",
        "no_mentions": "No comment names {name}.",
        "csat_with_ci": "{mean:.2f} (95% CI {low:.2f}–{high:.2f})",
        "fl_staff_name": "Staff member",
        "fl_staff_id": "Staff id",
        "fl_role": "Role",
        "fl_staff_csat": "Staff service CSAT (1-5)",
        "fl_n": "Answers",
        "fl_praise": "Praise",
        "fl_complaints": "Complaints",
        "fl_integrity": "Integrity",
        "fl_suspect": "Some answers marked suspect (left out)",
        "fl_touchpoint": "Touchpoint",
        "fl_csat": "CSAT (1-5)",
        "fl_top2": "Top-2-box (%)",
        "fl_when": "Answered at",
        "fl_channel": "Channel",
        "fl_mention": "Mention",
        "fl_comment": "Comment",
        "mention_positive": "Praise",
        "mention_negative": "Complaint",
        "mention_neutral": "Neutral",
        "no_mart": (
            "The serving copy has no {mart} yet: it is written by the insight assets of a newer"
            " pipeline (`cxlake run`)."
        ),
        "drivers_scope": "Scope",
        "chain": "Chain",
        "region_option": "Region {name} ({id})",
        "store_option": "Store {name} ({id})",
        "no_driver_rows": "No key-driver rows in your scope.",
        "drivers_note": (
            "Johnson's relative weights of each touchpoint's CSAT for likelihood to recommend, with"
            " bootstrap 95% intervals; cross-hairs at the mean importance and mean satisfaction."
        ),
        "not_enough": (
            "Not enough responses in {scope} to say what drives recommendation (at most {n:,}"
            " ratings of a touchpoint); the chain or a region may have enough."
        ),
        "drivers_left_out": "Not enough responses to weigh: {drivers}.",
        "matrix_title": "Importance-performance matrix",
        "ranked_title": "Ranked importance",
        "importance": "Share of explained variance",
        "weight": "Relative weight (R² share)",
        "satisfaction": "Mean CSAT (1-5)",
        "touchpoint": "Touchpoint",
        "quadrant": "Quadrant",
        "ci": "95% CI",
        "kano_note": (
            "Each feature's category is its respondents' most frequent answer pair (A, O, M, I, R, Q);"
            " Better = (A + O) / (A + O + M + I), Worse = -(O + M) / (A + O + M + I)."
        ),
        "no_kano_rows": "No Kano survey answers yet.",
        "kano_too_few": "Too few answers to classify: {features}.",
        "feature": "Feature",
        "kano_category": "Kano category",
        "better": "Better (satisfaction when offered)",
        "worse": "|Worse| (dissatisfaction when missing)",
        "watch_store": "Store",
        "all_stores": "All my stores",
        "watch_note": (
            "Members the churn model expects to stop buying, among their store's highest value, most"
            " value at risk first."
        ),
        "no_watch_list": "No member is on the watch list.",
        "money_note": (
            "Members' spend, visits and return in the {window} days after their answer (transactions to"
            " {last}), by the answer's NPS category, with 95% intervals (means: normal approximation;"
            " repeat rate: Wilson; money: bootstrap). The window fits the data: at most dbt's"
            " experience_value_window_days (90 days unless set) and at most half the days from the first"
            " to the last transaction. Associations, not proven effects."
        ),
        "money_empty": (
            "No member's answer has its whole window after it inside the data yet (transactions {first} to"
            " {last}). The window is half the days from the first to the last transaction, at most dbt's"
            " experience_value_window_days (90 days unless set): the answers of the history's first half"
            " count, so it fills as days arrive."
        ),
        "money_scope": "Scope",
        "value_line": (
            "**A detractor made promoter is worth {value}** per member over {window} days (95% CI {low} –"
            " {high}): what promoters spent in the window beyond detractors."
        ),
        "churn_line": (
            "**Detractors come back less:** {detractor_rate} of detractors bought again within {window}"
            " days against {promoter_rate} of promoters, {excess} points fewer (95% CI {low} – {high})."
        ),
        "risk_detractor_line": (
            "**Revenue at risk from detractors: {risk}** over the next {window} days (95% CI {low} –"
            " {high}): {count:,} members whose latest answer, in the last {window} days, was a detractor's,"
            " times their excess churn, times the {spend} a detractor who stays spends."
        ),
        "risk_case_line": (
            "**Revenue at risk from unresolved cases: {risk}** (95% CI {low} – {high}): {count:,} members"
            " with an open or breached case, spending {spend} per {window} days together, at the"
            " detractors' excess churn. Many are the same customers as above: do not add the two."
        ),
        "money_too_few": (
            "Too few members with a whole window to put a money figure on: promoters {promoters},"
            " detractors {detractors} (at least {minimum:,} of each)."
        ),
        "value_missing": "The value of a detractor made promoter needs both promoters and detractors.",
        "no_money_mart": "The money figures (marts.mart_experience_money) are not in the serving copy yet.",
        "members": "Members",
        "visits_ci_low": "Mean visits 95% CI low",
        "visits_ci_high": "Mean visits 95% CI high",
        "note": "Note",
        "csat_title": "One more CSAT point",
        "csat_note": (
            "Chain-wide, from the key-driver model's respondents: the change per CSAT point in the"
            " chance of a promoter and of a detractor answer (least squares, an intercept per set of"
            " touchpoints rated), times each category's spend in the window against passives';"
            " bootstrap 95% intervals. An association: customers who rate a touchpoint higher may"
            " differ in other ways."
        ),
        "csat_line": (
            "**One more CSAT point at {touchpoint} is worth {value} per member** over {window} days"
            " (95% CI {low} – {high}); {per_rater} per customer who rates it ({share} of respondents do):"
            " the chance of a promoter answer rises {up} points, that of a detractor's falls {down}."
        ),
        "csat_none": "No touchpoint has enough ratings for a revenue estimate.",
        "effect_touchpoint": "Touchpoint",
        "effect_ratings": "Ratings",
        "effect_rated": "Rated by (%)",
        "effect_member": "Per member",
        "effect_member_low": "Per member 95% CI low",
        "effect_member_high": "Per member 95% CI high",
        "effect_rater": "Per rater",
        "effect_rater_low": "Per rater 95% CI low",
        "effect_rater_high": "Per rater 95% CI high",
        "effect_promoter": "Promoter chance (points)",
        "effect_detractor": "Detractor chance (points)",
        "tab_peak_end": "Peak and end",
        "peak_end_note": (
            "Does the worst moment (the lowest touchpoint CSAT) or the last one explain likelihood to"
            " recommend beyond the average CSAT? R² of four nested least-squares models per journey"
            " stage; a gain counts at p < {significance} and at least {min_gain} points of R²."
        ),
        "no_peak_end_rows": "No peak-and-end rows in your scope.",
        "whole_journey": "Whole journey",
        "model_mean": "Mean",
        "model_mean_lowest": "Mean + worst",
        "model_mean_last": "Mean + last",
        "model_mean_lowest_last": "Mean + worst + last",
        "model": "Model",
        "r2": "R² (%)",
        "verdict_fix_worst_moment": (
            "**Fix the worst moment.** Beyond the average CSAT, the lowest rating explains {gain_low}"
            " more points of R² (p {p_low}); the worst moment is most often {lowest}."
        ),
        "verdict_fix_last_moment": (
            "**Fix the last moment.** Beyond the average CSAT, the last touchpoint's rating explains"
            " {gain_last} more points of R² (p {p_last}); the last touchpoint is most often {last}."
        ),
        "verdict_average_is_enough": (
            "**The average is enough.** Neither the worst moment ({gain_low} points of R², p {p_low})"
            " nor the last one ({gain_last} points, p {p_last}) explains recommendation beyond the"
            " average CSAT: raise the touchpoints that matter most (Key drivers)."
        ),
        "verdict_too_few": "{too_few}: comparing the models needs at least {min:,} respondents.",
        "col_stage": "Stage",
        "col_verdict": "Verdict",
        "col_r2_mean": "R² mean (%)",
        "col_r2_mean_lowest": "R² mean + worst (%)",
        "col_r2_mean_last": "R² mean + last (%)",
        "col_r2_mean_lowest_last": "R² mean + worst + last (%)",
        "col_lowest_gain": "Worst: gain (points)",
        "col_lowest_p": "Worst: p",
        "col_last_gain": "Last: gain (points)",
        "col_last_p": "Last: p",
        "col_lowest_beta": "Worst: standardized β",
        "col_last_beta": "Last: standardized β",
        "word_fix_worst_moment": "Fix the worst moment",
        "word_fix_last_moment": "Fix the last moment",
        "word_average_is_enough": "The average is enough",
        "comments_title": "Comments behind this chart",
        "comments_own_stores": "Only your own stores' comments, whatever scope the chart shows.",
        "comments_masked": "Phone numbers and e-mails in the comments are masked here: they show only where "
        "customers are called back (the Feedback page, the churn watch list), to those who call them.",
        "comments_count": "{n:,} comments, newest first (at most {limit:,} shown).",
        "no_comments": "No comment behind this chart in your stores.",
        "driver_comments_note": (
            "Comments of the responses in {scope} that rated {touchpoint} {low}–{high} of 5 (below the"
            " top-2 box)."
        ),
        "kano_comments_note": (
            "The Kano survey asks no open question: these are the survey comments that name {feature}."
        ),
        "peak_end_comments_note": (
            "Comments of the journeys in {scope} whose worst moment (lowest touchpoint CSAT) was in the"
            " stage {stage}; a tie counts for each stage it touches."
        ),
        "journey_comments_note": (
            "Comments of the journeys in {scope}, each with its worst moment (lowest touchpoint CSAT)."
        ),
        "money_comments_note": (
            "Comments of the detractors (0-6) in {scope}: the customers whose answers put revenue at risk."
        ),
        "col_csat_score": "Rating (1-5)",
        "col_worst_csat": "Worst rating (1-5)",
        "col_worst_touchpoints": "Worst moment",
        "col_response_key": "Response key",
    },
    "zh": {
        "title": "洞察",
        "tab_drivers": "关键驱动因素",
        "tab_kano": "Kano 分析",
        "tab_churn": "流失关注名单",
        "tab_money": "体验价值",
        "tab_frontline": "一线员工",
        "frontline_note": (
            "用于表扬与辅导本店员工：每位员工所服务订单的答卷满意度（计入统计、未被标记可疑；95% 区间）"
            "以及提到其姓名的留言，统计全部已加载日期。少于 {min} 份答卷的满意度不显示；"
            "名单按员工编号排列，不是排名。"
        ),
        "frontline_store": "门店",
        "frontline_pick": "员工",
        "frontline_staff_title": "{store} 的员工",
        "frontline_touchpoints_title": "{name}：各触点满意度",
        "frontline_comments_title": "提到 {name} 的留言",
        "no_frontline_rows": "您的范围内没有员工。",
        "no_mentions": "没有留言提到 {name}。",
        "csat_with_ci": "{mean:.2f}（95% 区间 {low:.2f}–{high:.2f}）",
        "fl_staff_name": "员工",
        "fl_staff_id": "员工编号",
        "fl_role": "岗位",
        "fl_staff_csat": "店员服务满意度（1-5）",
        "fl_n": "答卷数",
        "fl_praise": "表扬",
        "fl_complaints": "投诉",
        "fl_integrity": "真实性",
        "fl_suspect": "部分答卷被标记可疑（已剔除）",
        "fl_touchpoint": "触点",
        "fl_csat": "满意度（1-5）",
        "fl_top2": "前两格占比（%）",
        "fl_when": "作答时间",
        "fl_channel": "渠道",
        "fl_mention": "提及",
        "fl_comment": "留言",
        "mention_positive": "表扬",
        "mention_negative": "投诉",
        "mention_neutral": "中性",
        "no_mart": "发布的数据中尚无 {mart}：它由新版流水线的洞察资产生成（`cxlake run`）。",
        "drivers_scope": "范围",
        "chain": "全公司",
        "region_option": "区域 {name}（{id}）",
        "store_option": "门店 {name}（{id}）",
        "no_driver_rows": "您的范围内没有关键驱动因素数据。",
        "drivers_note": (
            "各触点满意度对推荐意愿的 Johnson 相对权重及其自助法 95% 区间；十字线位于平均重要性与平均满意度。"
        ),
        "not_enough": (
            "{scope} 的答卷不足，无法判断推荐意愿的驱动因素（单个触点最多 {n:,} 条评分）；"
            "全公司或区域层面可能足够。"
        ),
        "drivers_left_out": "样本不足、未计算权重：{drivers}。",
        "matrix_title": "重要性-表现矩阵",
        "ranked_title": "重要性排序",
        "importance": "解释方差占比",
        "weight": "相对权重（R² 分量）",
        "satisfaction": "平均满意度（1-5）",
        "touchpoint": "触点",
        "quadrant": "象限",
        "ci": "95% 区间",
        "kano_note": (
            "每项功能的类别取受访者最常见的答案组合（A、O、M、I、R、Q）；"
            "Better = (A + O) / (A + O + M + I)，Worse = -(O + M) / (A + O + M + I)。"
        ),
        "no_kano_rows": "尚无 Kano 问卷答卷。",
        "kano_too_few": "答卷过少、无法分类：{features}。",
        "feature": "功能",
        "kano_category": "Kano 类别",
        "better": "Better（提供时的满意度提升）",
        "worse": "|Worse|（缺失时的不满）",
        "watch_store": "门店",
        "all_stores": "我的全部门店",
        "watch_note": "流失模型预计将停止消费、且属于本店高价值的会员，按风险金额从高到低排列。",
        "no_watch_list": "关注名单中暂无会员。",
        "money_note": (
            "会员作答后 {window} 天内的消费、到店与回购（交易截至 {last}），按其 NPS 类别统计，附 95% 区间"
            "（均值：正态近似；回购率：Wilson；金额：自助法）。窗口随数据而定：不超过 dbt 变量"
            " experience_value_window_days（默认 90 天），且不超过首末交易日间隔天数的一半。"
            "这是相关关系，并非已证实的因果。"
        ),
        "money_empty": (
            "暂无会员答卷的观察窗口完整落在数据范围内（交易 {first} 至 {last}）。"
            "窗口为首末交易日间隔天数的一半，且不超过 dbt 变量 experience_value_window_days"
            "（默认 90 天）：历史前半段的答卷计入，随数据增加而充实。"
        ),
        "money_scope": "范围",
        "value_line": (
            "**一位贬损者转为推荐者，价值 {value}**（每位会员，{window} 天内；95% 区间 {low} – {high}）："
            "即推荐者在窗口内比贬损者多消费的金额。"
        ),
        "churn_line": (
            "**贬损者回购更少：**{window} 天内再次消费的贬损者占 {detractor_rate}，推荐者占 {promoter_rate}，"
            "少 {excess} 个百分点（95% 区间 {low} – {high}）。"
        ),
        "risk_detractor_line": (
            "**贬损者带来的风险收入：{risk}**（未来 {window} 天；95% 区间 {low} – {high}）："
            "最近 {window} 天内最新一次作答为贬损的 {count:,} 位会员，"
            "乘以其超额流失率，再乘以留存贬损者的消费 {spend}。"
        ),
        "risk_case_line": (
            "**未解决工单带来的风险收入：{risk}**（95% 区间 {low} – {high}）："
            "{count:,} 位会员的工单仍未关闭或已超时，他们每 {window} 天合计消费 {spend}，"
            "按贬损者的超额流失率计。与上一项多为同一批顾客：两者不可相加。"
        ),
        "money_too_few": (
            "窗口完整的会员过少，无法给出金额：推荐者 {promoters}，贬损者 {detractors}"
            "（每类至少 {minimum:,} 位）。"
        ),
        "value_missing": "计算贬损者转为推荐者的价值需要同时有推荐者和贬损者。",
        "no_money_mart": "服务副本中尚无金额指标（marts.mart_experience_money）。",
        "members": "会员数",
        "visits_ci_low": "人均到店次数 95% 区间下限",
        "visits_ci_high": "人均到店次数 95% 区间上限",
        "note": "说明",
        "csat_title": "满意度提升一分",
        "csat_note": (
            "全公司，基于关键驱动模型的受访者：每提升一分满意度，推荐者与贬损者作答概率的变化（最小二乘，"
            "按所评触点组合分别设截距），乘以各类别在窗口内相对被动者的消费差；95% 区间为自助法。"
            "这是相关关系：评分较高的顾客可能在其他方面也不同。"
        ),
        "csat_line": (
            "**{touchpoint}满意度每提升一分，每位会员价值 {value}**"
            "（{window} 天内；95% 区间 {low} – {high}）；"
            "对评价该触点的顾客为每人 {per_rater}（{share} 的受访者评价了它）：推荐概率上升 {up} 个百分点，"
            "贬损概率下降 {down} 个百分点。"
        ),
        "csat_none": "没有触点的评分数足以估算收入影响。",
        "effect_touchpoint": "触点",
        "effect_ratings": "评分数",
        "effect_rated": "评价比例 (%)",
        "effect_member": "每位会员",
        "effect_member_low": "每位会员 95% 区间下限",
        "effect_member_high": "每位会员 95% 区间上限",
        "effect_rater": "每位评价者",
        "effect_rater_low": "每位评价者 95% 区间下限",
        "effect_rater_high": "每位评价者 95% 区间上限",
        "effect_promoter": "推荐概率（百分点）",
        "effect_detractor": "贬损概率（百分点）",
        "tab_peak_end": "峰终体验",
        "peak_end_note": (
            "最差的环节（最低的触点满意度）或最后的环节，能否在平均满意度之外进一步解释推荐意愿？"
            "按旅程阶段比较四个嵌套最小二乘模型的 R²；"
            "增量需 p < {significance} 且至少 {min_gain} 个百分点才计入。"
        ),
        "no_peak_end_rows": "您的范围内没有峰终体验数据。",
        "whole_journey": "整个旅程",
        "model_mean": "平均",
        "model_mean_lowest": "平均 + 最差",
        "model_mean_last": "平均 + 最后",
        "model_mean_lowest_last": "平均 + 最差 + 最后",
        "model": "模型",
        "r2": "R²（%）",
        "verdict_fix_worst_moment": (
            "**先改善最差的环节。** 在平均满意度之外，最低评分可再解释 {gain_low} 个百分点的 R²"
            "（p {p_low}）；最差的环节最常是{lowest}。"
        ),
        "verdict_fix_last_moment": (
            "**先改善最后的环节。** 在平均满意度之外，最后一个触点的评分可再解释 {gain_last} 个百分点的 R²"
            "（p {p_last}）；最后的触点最常是{last}。"
        ),
        "verdict_average_is_enough": (
            "**平均水平已足够。** 最差环节（{gain_low} 个百分点，p {p_low}）"
            "与最后环节（{gain_last} 个百分点，p {p_last}）都不能在平均满意度之外进一步解释推荐意愿："
            "请提升最重要的触点（见关键驱动因素）。"
        ),
        "verdict_too_few": "{too_few}：比较模型至少需要 {min:,} 位受访者。",
        "col_stage": "阶段",
        "col_verdict": "结论",
        "col_r2_mean": "R² 平均（%）",
        "col_r2_mean_lowest": "R² 平均 + 最差（%）",
        "col_r2_mean_last": "R² 平均 + 最后（%）",
        "col_r2_mean_lowest_last": "R² 平均 + 最差 + 最后（%）",
        "col_lowest_gain": "最差：增量（百分点）",
        "col_lowest_p": "最差：p",
        "col_last_gain": "最后：增量（百分点）",
        "col_last_p": "最后：p",
        "col_lowest_beta": "最差：标准化 β",
        "col_last_beta": "最后：标准化 β",
        "word_fix_worst_moment": "先改善最差的环节",
        "word_fix_last_moment": "先改善最后的环节",
        "word_average_is_enough": "平均水平已足够",
        "comments_title": "这张图背后的留言",
        "comments_own_stores": "无论图表显示哪个范围，只列出您自己门店的留言。",
        "comments_masked": "此处留言中的电话和邮箱已脱敏：仅在回访客户的地方（反馈页、流失预警名单）"
        "向负责回访的人显示。",
        "comments_count": "共 {n:,} 条留言，按时间从新到旧（最多显示 {limit:,} 条）。",
        "no_comments": "您的门店中没有这张图背后的留言。",
        "driver_comments_note": (
            "{scope}中给{touchpoint}打 {low}–{high} 分（满分 5，未进前两格）的答卷留言。"
        ),
        "kano_comments_note": "Kano 问卷没有开放题：以下是提到{feature}的满意度问卷留言。",
        "peak_end_comments_note": (
            "{scope}中最差环节（最低的触点满意度）落在{stage}阶段的旅程留言；并列最低时计入所涉及的每个阶段。"
        ),
        "journey_comments_note": "{scope}中各旅程的留言，附其最差环节（最低的触点满意度）。",
        "money_comments_note": "{scope}中贬损者（0-6 分）的留言：他们的作答意味着收入风险。",
        "col_csat_score": "评分（1-5）",
        "col_worst_csat": "最低评分（1-5）",
        "col_worst_touchpoints": "最差环节",
        "col_response_key": "答卷编号",
    },
}
