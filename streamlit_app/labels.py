"""The one place where the data's codes and column names become words, in English and Chinese.

Tables on screen and downloaded files read the same words: a column is headed "Day", not
``partition_date``; a channel reads "In store", not ``in_store``; an empty cell is empty, not "None".
Codes without a word here are shown as they are (a new channel appears, untranslated, rather than
vanishing). A page's own labels may still override a header for that page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from cxlake.contracts import BUSINESS_TIMEZONE
from cxlake.metrics import Change, ShiftShare

Words = dict[str, dict[str, str]]  # code -> language -> word

CODES: dict[str, Words] = {
    "channel": {
        "in_store": {"en": "In store", "zh": "到店"},
        "app": {"en": "App", "zh": "小程序/App"},
        "delivery": {"en": "Delivery", "zh": "外卖"},
    },
    "nps_category": {
        "promoter": {"en": "Promoter", "zh": "推荐者"},
        "passive": {"en": "Passive", "zh": "中立者"},
        "detractor": {"en": "Detractor", "zh": "贬损者"},
    },
    "sentiment": {
        "positive": {"en": "Positive", "zh": "正面"},
        "neutral": {"en": "Neutral", "zh": "中性"},
        "negative": {"en": "Negative", "zh": "负面"},
    },
    "platform": {
        "dianping": {"en": "Dianping", "zh": "大众点评"},
        "meituan": {"en": "Meituan", "zh": "美团"},
        "xiaohongshu": {"en": "Xiaohongshu", "zh": "小红书"},
    },
    "source": {
        "reference": {"en": "Store roster", "zh": "门店名册"},
        "crm": {"en": "CRM", "zh": "会员系统"},
        "pos": {"en": "POS", "zh": "收银系统"},
        "survey_invitations": {"en": "Survey invitations", "zh": "问卷邀请"},
        "qualtrics": {"en": "Qualtrics surveys", "zh": "Qualtrics 问卷"},
        "wjx": {"en": "问卷星 surveys", "zh": "问卷星问卷"},
        "reviews": {"en": "Online reviews", "zh": "线上评论"},
        "app_events": {"en": "App events", "zh": "App 行为事件"},
    },
    "dq_status": {
        "passed": {"en": "Passed", "zh": "通过"},
        "failed": {"en": "Rows quarantined", "zh": "有隔离行"},
        "blocked": {"en": "Held back", "zh": "已暂缓"},
        "missing": {"en": "Missing", "zh": "缺失"},
    },
    "decision": {
        "release": {"en": "Released", "zh": "已放行"},
        "reject": {"en": "Rejected", "zh": "已驳回"},
    },
    "boolean": {
        "True": {"en": "Yes", "zh": "是"},
        "False": {"en": "No", "zh": "否"},
    },
    # Alert cases (cxlake.alerts.cases): states, severities, resolutions, call-back methods, events.
    "case_status": {
        "open": {"en": "Open", "zh": "待处理"},
        "escalated": {"en": "Escalated", "zh": "已升级"},
        "acknowledged": {"en": "Acknowledged", "zh": "已确认"},
        "resolved": {"en": "Resolved", "zh": "已解决"},
    },
    "case_severity": {
        "high": {"en": "High", "zh": "高"},
        "medium": {"en": "Medium", "zh": "中"},
        "low": {"en": "Low", "zh": "低"},
    },
    "resolution": {
        "recovered": {"en": "Recovered: the customer is satisfied", "zh": "已挽回：顾客满意"},
        "apologised": {"en": "Apologised", "zh": "已致歉"},
        "compensated": {"en": "Compensated", "zh": "已补偿"},
        "fixed_cause": {"en": "Fixed the cause", "zh": "已解决根因"},
        "could_not_reach": {"en": "Could not reach the customer", "zh": "联系不上顾客"},
        "not_actionable": {"en": "Nothing to act on", "zh": "无需处理"},
    },
    "contact_method": {
        "phone": {"en": "Phone call", "zh": "电话"},
        "sms": {"en": "Text message", "zh": "短信"},
        "wechat": {"en": "WeChat", "zh": "微信"},
        "email": {"en": "E-mail", "zh": "邮件"},
        "in_person": {"en": "In person", "zh": "当面"},
    },
    "case_action": {
        "opened": {"en": "Opened", "zh": "创建"},
        "escalated": {"en": "Escalated", "zh": "升级"},
        "acknowledged": {"en": "Acknowledged", "zh": "确认"},
        "commented": {"en": "Note", "zh": "备注"},
        "contacted": {"en": "Called back", "zh": "已回访"},
        "resolved": {"en": "Resolved", "zh": "解决"},
    },
    "member_tier": {
        "basic": {"en": "Basic", "zh": "普通会员"},
        "silver": {"en": "Silver", "zh": "银卡"},
        "gold": {"en": "Gold", "zh": "金卡"},
        "black": {"en": "Black", "zh": "黑卡"},
        "non_member": {"en": "Not a member", "zh": "非会员"},
    },
    # Leaderboard tiers: where the 95% intervals place a store among the chain's (data_access).
    "tier": {
        "top": {"en": "Top tier: not distinguishable from the best", "zh": "第一梯队：与最佳门店无法区分"},
        "middle": {"en": "Middle", "zh": "中间梯队"},
        "bottom": {
            "en": "Bottom tier: not distinguishable from the worst",
            "zh": "末尾梯队：与最差门店无法区分",
        },
    },
    "case_source": {
        "survey": {"en": "Survey", "zh": "问卷"},
        "review": {"en": "Online review", "zh": "线上评论"},
    },
    # The case clock that ran out (the Loop page's late cases).
    "case_clock": {
        "acknowledge": {"en": "Acknowledge", "zh": "确认"},
        "resolve": {"en": "Resolve", "zh": "解决"},
    },
    # Messages of the outbox (cxlake.alerts.outbox): what they are and the channels of alerts.yaml.
    "notification_kind": {
        "alert": {"en": "Alert", "zh": "提醒"},
        "escalation": {"en": "Escalation", "zh": "升级通知"},
        "digest": {"en": "Daily digest", "zh": "每日摘要"},
        "run_failure": {"en": "Pipeline run failed (data team)", "zh": "数据管道运行失败（数据团队）"},
    },
    "notification_channel": {
        "email": {"en": "E-mail", "zh": "邮件"},
        "store_group": {"en": "Store group chat (WeCom)", "zh": "门店群（企业微信）"},
        "region_group": {"en": "Region group chat (DingTalk)", "zh": "区域群（钉钉）"},
        "director_slack": {"en": "Director's Slack", "zh": "总监 Slack"},
    },
    # Survey integrity (the Integrity page): how long after the sale an answer came, whose answers.
    "delay_bin": {
        "under_2_min": {"en": "Under 2 min", "zh": "2 分钟内"},
        "2_to_6_min": {"en": "2–6 min", "zh": "2–6 分钟"},
        "6_to_15_min": {"en": "6–15 min", "zh": "6–15 分钟"},
        "15_to_60_min": {"en": "15–60 min", "zh": "15–60 分钟"},
        "1_to_6_h": {"en": "1–6 h", "zh": "1–6 小时"},
        "6_to_24_h": {"en": "6–24 h", "zh": "6–24 小时"},
        "over_24_h": {"en": "24 h or more", "zh": "24 小时及以上"},
        "no_linked_sale": {"en": "No linked sale", "zh": "无关联消费"},
    },
    "integrity_side": {
        "store": {"en": "This store", "zh": "本店"},
        "peers": {"en": "Other stores", "zh": "其他门店"},
    },
    # Insights (the Insights page): importance-performance quadrants and Kano categories.
    "quadrant": {
        "concentrate_here": {"en": "Concentrate here", "zh": "重点改进"},
        "keep_up_the_good_work": {"en": "Keep up the good work", "zh": "继续保持"},
        "low_priority": {"en": "Low priority", "zh": "次要改进"},
        "possible_overkill": {"en": "Possible overkill", "zh": "可能过度投入"},
        "not_enough_responses": {"en": "Not enough responses", "zh": "样本不足"},
    },
    "kano_category": {
        "A": {"en": "Attractive", "zh": "魅力型"},
        "O": {"en": "One-dimensional", "zh": "期望型"},
        "M": {"en": "Must-be", "zh": "必备型"},
        "I": {"en": "Indifferent", "zh": "无差异型"},
        "R": {"en": "Reverse", "zh": "反向型"},
        "Q": {"en": "Questionable", "zh": "可疑结果"},
        "not_enough_responses": {"en": "Not enough responses", "zh": "样本不足"},
    },
    # What the retention purge took (cxlake/config/retention.yaml).
    "personal_data": {
        "comments": {"en": "Comments", "zh": "评论"},
        "ip_addresses": {"en": "IP addresses", "zh": "IP 地址"},
        "respondent_metadata": {"en": "Respondent metadata", "zh": "答题者元数据"},
        "reviewer_nicknames": {"en": "Reviewers' nicknames", "zh": "评价者昵称"},
        "quarantine_after_decision": {"en": "Rejected quarantined rows", "zh": "已驳回的隔离行"},
        "quarantine_undecided": {"en": "Undecided quarantined rows", "zh": "未审核的隔离行"},
    },
}
# Which code list a column's values come from.
CODED_COLUMNS = {
    "channel": "channel",
    "nps_category": "nps_category",
    "category": "nps_category",
    "sentiment_label": "sentiment",
    "aspect_sentiment": "sentiment",
    "platform": "platform",
    "source": "source",
    "status": "dq_status",
    "decision": "decision",
    "is_competitor": "boolean",
    "rating_disagrees": "boolean",
    "too_few": "boolean",
    "tier": "tier",
    "reportable": "boolean",
    "blocked": "boolean",
    "disabled": "boolean",
    "is_worked": "boolean",
    "case_status": "case_status",
    "case_severity": "case_severity",
    "overdue_clock": "case_clock",
    "notification_kind": "notification_kind",
    "notification_channel": "notification_channel",
    "is_flagged": "boolean",
    "delay_bin": "delay_bin",
    "side": "integrity_side",
    "quadrant": "quadrant",
    "kano_category": "kano_category",
    "is_reportable": "boolean",
    "field": "personal_data",
}

COLUMNS: Words = {
    "partition_date": {"en": "Day", "zh": "日期"},
    "source": {"en": "Source", "zh": "数据源"},
    "raw_table": {"en": "Raw table", "zh": "原始表"},
    "status": {"en": "Status", "zh": "状态"},
    "rows_in": {"en": "Rows delivered", "zh": "交付行数"},
    "rows_loaded": {"en": "Rows loaded", "zh": "加载行数"},
    "rows_quarantined": {"en": "Rows quarantined", "zh": "隔离行数"},
    "purged_at": {"en": "Purged at (UTC)", "zh": "清除时间（UTC）"},
    "field": {"en": "Personal data", "zh": "个人信息类别"},
    "relation": {"en": "Table", "zh": "数据表"},
    "column_name": {"en": "Column (empty: whole rows)", "zh": "字段（空：整行删除）"},
    "cutoff": {"en": "Older than", "zh": "早于"},
    "rows_purged": {"en": "Rows purged", "zh": "清除行数"},
    "expectation": {"en": "Expectation", "zh": "检查项"},
    "level": {"en": "Level", "zh": "级别"},
    "severity": {"en": "Severity", "zh": "严重程度"},
    "unexpected_count": {"en": "Failing rows", "zh": "未通过行数"},
    "sample_values": {"en": "Sample values", "zh": "示例值"},
    "blocked": {"en": "Held back", "zh": "已暂缓"},
    "block_reason": {"en": "Why held back", "zh": "暂缓原因"},
    "response_date": {"en": "Response day", "zh": "作答日期"},
    "responded_at": {"en": "Answered at", "zh": "作答时间"},
    "survey_id": {"en": "Survey", "zh": "问卷"},
    "response_id": {"en": "Response id", "zh": "答卷编号"},
    "source_system": {"en": "Survey tool", "zh": "问卷系统"},
    "exclusion_reason": {"en": "Reason left out", "zh": "未计入原因"},
    "store_id": {"en": "Store id", "zh": "门店编号"},
    "store_name": {"en": "Store", "zh": "门店"},
    "store": {"en": "Store", "zh": "门店"},
    "region_id": {"en": "Region id", "zh": "区域编号"},
    "region_name": {"en": "Region", "zh": "区域"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "period": {"en": "Period", "zh": "周期"},
    "nps": {"en": "NPS", "zh": "NPS"},
    "ci_low": {"en": "95% CI low", "zh": "95% 区间下限"},
    "ci_high": {"en": "95% CI high", "zh": "95% 区间上限"},
    "n": {"en": "Responses", "zh": "答卷数"},
    "responses": {"en": "Responses", "zh": "答卷数"},
    "promoters": {"en": "Promoters", "zh": "推荐者"},
    "passives": {"en": "Passives", "zh": "中立者"},
    "detractors": {"en": "Detractors", "zh": "贬损者"},
    "rank": {"en": "Rank", "zh": "排名"},
    "note": {"en": "Note", "zh": "备注"},
    "score": {"en": "Score", "zh": "分数"},
    "nps_score": {"en": "Score (0-10)", "zh": "评分（0-10）"},
    "nps_category": {"en": "Category", "zh": "类别"},
    "category": {"en": "Category", "zh": "类别"},
    "comment": {"en": "Comment", "zh": "留言"},
    "customer_name": {"en": "Customer", "zh": "顾客"},
    "phone": {"en": "Phone", "zh": "电话"},
    "email": {"en": "E-mail", "zh": "邮箱"},
    "stage_id": {"en": "Stage id", "zh": "阶段编号"},
    "stage": {"en": "Stage", "zh": "阶段"},
    "stage_name_en": {"en": "Stage", "zh": "阶段"},
    "stage_name_zh": {"en": "Stage", "zh": "阶段"},
    "touchpoint_id": {"en": "Touchpoint id", "zh": "触点编号"},
    "touchpoint": {"en": "Touchpoint", "zh": "触点"},
    "touchpoint_name_en": {"en": "Touchpoint", "zh": "触点"},
    "touchpoint_name_zh": {"en": "Touchpoint", "zh": "触点"},
    "top_box": {"en": "Top-2-box ratings", "zh": "前两格评分数"},
    "top2_share": {"en": "CSAT (top-2-box)", "zh": "满意度（前两格）"},
    "csat": {"en": "CSAT (top-2-box)", "zh": "满意度（前两格）"},
    "mean_csat": {"en": "Mean CSAT (1-5)", "zh": "平均满意度（1-5）"},
    "operational_n": {"en": "Journeys", "zh": "旅程数"},
    "operational_value": {"en": "Operational measure", "zh": "运营指标"},
    "operational_sd": {"en": "Standard deviation", "zh": "标准差"},
    "keyword": {"en": "Keyword", "zh": "关键词"},
    "count_reviews": {"en": "Reviews", "zh": "评论数"},
    "count_negative": {"en": "Negative reviews", "zh": "负面评论数"},
    "negative_share": {"en": "Share negative", "zh": "负面占比"},
    "positive_share": {"en": "Share positive", "zh": "正面占比"},
    "avg_rating": {"en": "Average stars", "zh": "平均星级"},
    "week_start": {"en": "Week", "zh": "周"},
    "is_competitor": {"en": "Competitor", "zh": "竞品"},
    "brand": {"en": "Brand", "zh": "品牌"},
    "aspect": {"en": "Aspect id", "zh": "维度编号"},
    "aspect_name": {"en": "Aspect", "zh": "维度"},
    "posted_at": {"en": "Posted", "zh": "发布时间"},
    "shop_name": {"en": "Shop", "zh": "门店"},
    "rating": {"en": "Stars", "zh": "星级"},
    "platform": {"en": "Platform", "zh": "平台"},
    "sentiment_label": {"en": "Sentiment", "zh": "情感"},
    "sentiment_score": {"en": "Sentiment score", "zh": "情感得分"},
    "rating_disagrees": {"en": "Stars disagree", "zh": "星级不符"},
    "content": {"en": "Review", "zh": "评论内容"},
    "review_key": {"en": "Review key", "zh": "评论编号"},
    "current": {"en": "Reviews this period", "zh": "本期评论数"},
    "previous": {"en": "Reviews previous period", "zh": "上期评论数"},
    "lift": {"en": "Lift", "zh": "提升倍数"},
    "current_share": {"en": "Share this period", "zh": "本期提及占比"},
    "previous_share": {"en": "Share previous period", "zh": "上期提及占比"},
    "p_value": {"en": "p (adjusted)", "zh": "p 值（校正后）"},
    "ratings": {"en": "Ratings", "zh": "评分数"},
    "file": {"en": "File", "zh": "文件"},
    "line": {"en": "Line", "zh": "行号"},
    "failed": {"en": "Failed expectations", "zh": "未通过的检查"},
    "decision": {"en": "Decision", "zh": "决定"},
    "source_file": {"en": "File", "zh": "文件"},
    "source_row": {"en": "Line", "zh": "行号"},
    "corrections": {"en": "Corrections", "zh": "修正"},
    "reason": {"en": "Reason", "zh": "原因"},
    "decided_by": {"en": "Decided by", "zh": "审核人"},
    "decided_at": {"en": "Decided at (UTC)", "zh": "审核时间（UTC）"},
    "name": {"en": "Name", "zh": "用户名"},
    "role": {"en": "Role", "zh": "角色"},
    "scope_id": {"en": "Scope", "zh": "范围"},
    "disabled": {"en": "Disabled", "zh": "已停用"},
    "created_at": {"en": "Created", "zh": "创建时间"},
    "event_id": {"en": "Event", "zh": "事件编号"},
    "at": {"en": "When (UTC)", "zh": "时间（UTC）"},
    "actor": {"en": "Who", "zh": "操作人"},
    "action": {"en": "Action", "zh": "操作"},
    "detail": {"en": "Detail", "zh": "详情"},
    "too_few": {"en": "Too few responses", "zh": "样本过少"},
    "tier": {"en": "Tier", "zh": "梯队"},
    "place": {"en": "Could rank", "zh": "可能名次"},
    "integrity": {"en": "Survey integrity", "zh": "问卷可信度"},
    "reportable": {"en": "Enough responses to report", "zh": "样本量足以报告"},
    # The Loop page: loop health, late cases, unsent messages, the digest, recovery.
    "count_cases_opened": {"en": "Cases", "zh": "案例数"},
    "ack_sla_met_share": {"en": "Acknowledged in time", "zh": "按时确认"},
    "resolve_sla_met_share": {"en": "Resolved in time", "zh": "按时解决"},
    "median_hours_to_acknowledge": {"en": "Median hours to acknowledge", "zh": "确认用时中位数（小时）"},
    "median_hours_to_resolve": {"en": "Median hours to resolve", "zh": "解决用时中位数（小时）"},
    "count_breached_open_now": {"en": "Late and open now", "zh": "当前超时未结"},
    "case_id": {"en": "Case", "zh": "案例编号"},
    "case_severity": {"en": "Severity", "zh": "严重程度"},
    "case_status": {"en": "Status", "zh": "状态"},
    "rule": {"en": "Rule", "zh": "规则"},
    "owner": {"en": "Owner", "zh": "负责人"},
    "overdue_clock": {"en": "Late to", "zh": "超时环节"},
    "hours_overdue": {"en": "Hours overdue", "zh": "超时（小时）"},
    "link": {"en": "Open", "zh": "打开"},
    "notification_kind": {"en": "Message", "zh": "消息类型"},
    "notification_channel": {"en": "Channel", "zh": "渠道"},
    "recipient": {"en": "Recipient", "zh": "收件人"},
    "attempts": {"en": "Attempts", "zh": "尝试次数"},
    "last_error": {"en": "Error", "zh": "错误"},
    "opened": {"en": "Opened", "zh": "新建"},
    "breached": {"en": "Breached", "zh": "超时"},
    "open": {"en": "Open now", "zh": "当前未结"},
    "is_worked": {"en": "Case worked", "zh": "已跟进"},
    "count_detractors": {"en": "Detractors", "zh": "贬损者"},
    "count_with_case": {"en": "With a case", "zh": "有案例"},
    "count_judged_30d": {"en": "Judged at 30 days", "zh": "30 天可判定"},
    "return_rate_30d": {"en": "Back within 30 days", "zh": "30 天内回购"},
    "count_judged_90d": {"en": "Judged at 90 days", "zh": "90 天可判定"},
    "return_rate_90d": {"en": "Back within 90 days", "zh": "90 天内回购"},
    "avg_nps": {"en": "Mean score", "zh": "平均评分"},
    "count_next_nps": {"en": "Answered again", "zh": "再次作答"},
    "avg_next_nps": {"en": "Mean next score", "zh": "下次平均评分"},
    # The Integrity page: verdicts of the survey-integrity rules and their evidence.
    "integrity_score": {"en": "Integrity (1 = no evidence)", "zh": "可信度（1 = 无异常证据）"},
    "is_flagged": {"en": "Flagged", "zh": "已标记"},
    "reasons": {"en": "Evidence", "zh": "异常依据"},
    "suspect_responses": {"en": "Suspect answers", "zh": "可疑答卷"},
    "nps_excluding_suspect": {"en": "NPS without suspect answers", "zh": "剔除可疑答卷后的 NPS"},
    "share_tens": {"en": "Share of 10s", "zh": "10 分占比"},
    "peer_share_tens": {"en": "Share of 10s, other stores", "zh": "10 分占比（其他门店）"},
    "share_fast_after_sale": {"en": "Answered within 6 min of the sale", "zh": "消费后 6 分钟内作答"},
    "peer_share_fast_after_sale": {
        "en": "Answered within 6 min of the sale, other stores",
        "zh": "消费后 6 分钟内作答（其他门店）",
    },
    "top_device_share": {"en": "Share from one device or IP", "zh": "单一设备/IP 占比"},
    "peer_top_device_share": {
        "en": "Share from one device or IP, other stores (median)",
        "zh": "单一设备/IP 占比（其他门店中位数）",
    },
    "staff_id": {"en": "Staff id", "zh": "员工编号"},
    "staff_name": {"en": "Staff member", "zh": "员工"},
    "suspect_reason": {"en": "Why suspect", "zh": "可疑原因"},
    "delay_bin": {"en": "Time after the sale", "zh": "距消费时间"},
    "side": {"en": "Whose answers", "zh": "答卷来源"},
    "share": {"en": "Share", "zh": "占比"},
    "measure": {"en": "Measure", "zh": "指标"},
    "store_share": {"en": "This store", "zh": "本店"},
    "peer_share": {"en": "Other stores", "zh": "其他门店"},
    # Insights (the Insights page).
    "driver": {"en": "Driver id", "zh": "驱动因素编号"},
    "driver_name": {"en": "Touchpoint", "zh": "触点"},
    "relative_weight": {"en": "Relative weight (R² share)", "zh": "相对权重（R² 分量）"},
    "relative_weight_share": {"en": "Share of explained variance", "zh": "解释方差占比"},
    "weight_ci_low": {"en": "Weight 95% CI low", "zh": "权重 95% 区间下限"},
    "weight_ci_high": {"en": "Weight 95% CI high", "zh": "权重 95% 区间上限"},
    "satisfaction": {"en": "Mean CSAT (1-5)", "zh": "平均满意度（1-5）"},
    "quadrant": {"en": "Quadrant", "zh": "象限"},
    "feature": {"en": "Feature id", "zh": "功能编号"},
    "feature_label": {"en": "Feature", "zh": "功能"},
    "kano_category": {"en": "Kano category", "zh": "Kano 类别"},
    "count_a": {"en": "Attractive", "zh": "魅力型"},
    "count_o": {"en": "One-dimensional", "zh": "期望型"},
    "count_m": {"en": "Must-be", "zh": "必备型"},
    "count_i": {"en": "Indifferent", "zh": "无差异型"},
    "count_r": {"en": "Reverse", "zh": "反向型"},
    "count_q": {"en": "Questionable", "zh": "可疑结果"},
    "better": {"en": "Better", "zh": "Better 系数"},
    "worse": {"en": "Worse", "zh": "Worse 系数"},
    "is_reportable": {"en": "Reportable", "zh": "可报告"},
    "watch_list_rank": {"en": "Watch-list rank", "zh": "关注名单排名"},
    "customer_id": {"en": "Customer id", "zh": "顾客编号"},
    "member_tier": {"en": "Member tier", "zh": "会员等级"},
    "churn_probability": {"en": "Churn probability", "zh": "流失概率"},
    "value_at_risk": {"en": "Value at risk", "zh": "风险金额"},
    "expected_spend_horizon": {"en": "Expected spend", "zh": "预期消费"},
    "days_since_last_purchase": {"en": "Days since last purchase", "zh": "距上次消费天数"},
    "last_nps_score": {"en": "Last NPS score", "zh": "最近 NPS 评分"},
    "open_cases": {"en": "Open cases", "zh": "未结案例"},
    "reason_1": {"en": "Reason 1", "zh": "原因 1"},
    "reason_2": {"en": "Reason 2", "zh": "原因 2"},
    "reason_3": {"en": "Reason 3", "zh": "原因 3"},
    "scope_level": {"en": "Level", "zh": "层级"},
    "scope_name": {"en": "Scope", "zh": "范围"},
    "count_members": {"en": "Members", "zh": "会员数"},
    "avg_spend": {"en": "Mean spend", "zh": "人均消费"},
    "avg_spend_ci_low": {"en": "Mean spend 95% CI low", "zh": "人均消费 95% 区间下限"},
    "avg_spend_ci_high": {"en": "Mean spend 95% CI high", "zh": "人均消费 95% 区间上限"},
    "avg_visits": {"en": "Mean visits", "zh": "人均到店次数"},
    "repeat_rate": {"en": "Repeat rate", "zh": "复购率"},
    "repeat_rate_ci_low": {"en": "Repeat rate 95% CI low", "zh": "复购率 95% 区间下限"},
    "repeat_rate_ci_high": {"en": "Repeat rate 95% CI high", "zh": "复购率 95% 区间上限"},
    "detractor_to_promoter_value": {
        "en": "Value of a detractor made promoter",
        "zh": "贬损者转为推荐者的价值",
    },
    "detractor_to_promoter_value_ci_low": {"en": "Value 95% CI low", "zh": "价值 95% 区间下限"},
    "detractor_to_promoter_value_ci_high": {"en": "Value 95% CI high", "zh": "价值 95% 区间上限"},
    "count_detractor_members": {"en": "Detractor members", "zh": "贬损者会员数"},
    "detractor_revenue_at_risk": {"en": "Revenue at risk from detractors", "zh": "贬损者带来的风险收入"},
    "detractor_revenue_at_risk_ci_low": {"en": "Revenue at risk 95% CI low", "zh": "风险收入 95% 区间下限"},
    "detractor_revenue_at_risk_ci_high": {"en": "Revenue at risk 95% CI high", "zh": "风险收入 95% 区间上限"},
    "window_days": {"en": "Window (days)", "zh": "观察窗口（天）"},
}
# Shares 0..1, written as percentages with one decimal ("85.3" under a "(%)" header).
SHARE_COLUMNS = frozenset(
    {
        "top2_share", "csat", "negative_share", "positive_share", "current_share", "previous_share",
        "ack_sla_met_share", "resolve_sla_met_share", "return_rate_30d", "return_rate_90d",
        "share_tens", "peer_share_tens", "share_fast_after_sale", "peer_share_fast_after_sale",
        "top_device_share", "peer_top_device_share", "store_share", "peer_share", "share",
        "relative_weight_share", "churn_probability", "repeat_rate", "repeat_rate_ci_low",
        "repeat_rate_ci_high",
    }
)  # fmt: skip
# Decimals a number column is rounded to in files; other float columns get two.
DECIMALS = {
    "nps": 1, "ci_low": 1, "ci_high": 1, "nps_satisfied": 1, "nps_unsatisfied": 1, "p_value": 4,
    "hours_overdue": 1, "median_hours_to_acknowledge": 1, "median_hours_to_resolve": 1,
    "nps_excluding_suspect": 1, "relative_weight": 3, "weight_ci_low": 3, "weight_ci_high": 3,
}  # fmt: skip
DEFAULT_DECIMALS = 2


def code(kind: str, value: object, language: str) -> str:
    """The word for one code (``code("channel", "in_store", "zh")`` -> 到店), the code itself when
    there is none, and "" for a missing value."""
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return ""
    return CODES.get(kind, {}).get(str(value), {}).get(language, str(value))


def header(column: str, language: str, overrides: Mapping[str, str] | None = None) -> str:
    """A column's header: the page's own word if it has one, else this module's, else the name."""
    if overrides and column in overrides:
        return overrides[column]
    word = COLUMNS.get(column, {}).get(language, column)
    return f"{word} (%)" if column in SHARE_COLUMNS else word


def _replaced(frame: pd.DataFrame, columns: Mapping[object, pd.Series]) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` replaced (``frame`` itself when there are none); unlike
    ``assign`` it takes any column name, as a SQL result's may be a number."""
    if not columns:
        return frame
    replaced = frame.copy()
    for column, values in columns.items():
        replaced[column] = values
    return replaced


def decoded(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """``frame`` with every coded column's values in words (the columns keep their names)."""
    words = {
        column: frame[column].map(lambda value, kind=CODED_COLUMNS[column]: code(kind, value, language))
        for column in frame.columns
        if column in CODED_COLUMNS
    }
    return _replaced(frame, words)


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Shares as percentages with one decimal, NPS and its interval with one, other floats with two."""
    numbers = {}
    for column in frame.columns:
        if not pd.api.types.is_float_dtype(frame[column]):
            continue
        if column in SHARE_COLUMNS:
            numbers[column] = (frame[column] * 100).round(1)
        else:
            numbers[column] = frame[column].round(DECIMALS.get(column, DEFAULT_DECIMALS))
    return _replaced(frame, numbers)


def without_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing text and dates as empty cells, days without a time as plain dates; numbers keep their
    gaps (a file reader sees blanks, a table on screen draws them empty)."""
    text = {
        column: _days(frame[column]).astype("object").where(frame[column].notna(), "")
        for column in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column])
    }
    return _replaced(frame, text)


def _days(values: pd.Series) -> pd.Series:
    """A datetime column holding only midnights as dates ("2026-01-05", not "2026-01-05 00:00:00")."""
    if not pd.api.types.is_datetime64_any_dtype(values) or getattr(values.dt, "tz", None) is not None:
        return values
    present = values.dropna()
    return values.dt.date if (present == present.dt.normalize()).all() else values


def unique_headers(headers: list[str]) -> list[str]:
    """Headers made unique by numbering repeats ("Store", "Store 2"): two columns may share a word
    (``store`` and ``store_name``), and a table or spreadsheet with twin headers is ambiguous."""
    seen: dict[str, int] = {}
    unique = []
    for name in headers:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return unique


def readable(frame: pd.DataFrame, language: str, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """What a table shows and a download carries: words for codes, rounded numbers, empty cells and
    readable headers (the ids stay, beside the names, so a file can be joined back to the data)."""
    shown = without_gaps(rounded(decoded(frame, language)))
    headers = unique_headers([header(str(column), language, overrides) for column in shown.columns])
    return shown.set_axis(headers, axis="columns")


# A chain names its stores the way the review platforms do, "brand(branch)" with ASCII or full-width
# brackets: 栖云咖啡(上海静安寺店). The brand is the same on every store, so on a chart axis or in a
# table it is only width; the branch is what tells stores apart.
_BRANDED_NAME = re.compile(r"^\s*[^()（）]+[(（]\s*(?P<branch>[^()（）]+?)\s*[)）]\s*$")


def store_label(name: object) -> str:
    """A store's name as charts and tables show it: the branch without the brand every store shares
    (``栖云咖啡(上海静安寺店)`` -> ``上海静安寺店``); a name of another form as it is, a missing one as "".

    Only for our own stores: a competitor's shop keeps its brand, which is what tells it apart."""
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return ""
    text = str(name)
    branded = _BRANDED_NAME.match(text)
    return branded["branch"] if branded else text


# A score over fewer answers than metrics.yaml's min_responses is never shown as a fact: charts draw
# it hollow with this note, cards show the note instead of the score (streamlit_app.charts.reportable).
TOO_FEW: dict[str, str] = {"en": "n = {n:,}, too few", "zh": "n = {n:,}，样本过少"}


def too_few(n: int, language: str) -> str:
    """``n = 4, too few`` / ``n = 4，样本过少``: what stands where a small sample's score would."""
    return TOO_FEW[language].format(n=int(n))


# --- Case clocks and customers in words -----------------------------------------------------------
# Durations keep their two largest units and cut (never round up) the rest, so "20 min left" never
# promises a minute that is not there and "overdue by 1 h 20 min" never overstates the wait.
DURATION_UNITS: Words = {
    "d": {"en": "{n} d", "zh": "{n} 天"},
    "h": {"en": "{n} h", "zh": "{n} 小时"},
    "min": {"en": "{n} min", "zh": "{n} 分钟"},
}
SLA_WORDS: Words = {
    "left": {"en": "{duration} left", "zh": "剩余 {duration}"},
    "overdue": {"en": "overdue by {duration}", "zh": "已超时 {duration}"},
    "in_time": {"en": "done in time", "zh": "按时完成"},
    "late": {"en": "done {duration} late", "zh": "超时 {duration} 完成"},
}
TENURE_WORDS: Words = {
    "days": {"en": "{n} days", "zh": "{n} 天"},
    "months": {"en": "{n} months", "zh": "{n} 个月"},
    "years": {"en": "{n:.1f} years", "zh": "{n:.1f} 年"},
}


def duration(delta: timedelta, language: str) -> str:
    """``1 h 20 min``, ``2 d 3 h``, ``45 min`` (``1 小时 20 分钟`` ...): the length of ``delta``,
    whichever its sign."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [("d", days), ("h", hours)]
    elif hours:
        parts = [("h", hours), ("min", mins)]
    else:
        parts = [("min", mins)]
    return " ".join(DURATION_UNITS[unit][language].format(n=n) for unit, n in parts)


def sla(due_at: datetime, done_at: datetime | None, now: datetime, language: str) -> tuple[str, bool]:
    """One service-level clock in words and whether it is breached: the time left or overdue while
    it runs, and once done, whether in time or how late."""
    if done_at is None:
        if now <= due_at:
            return SLA_WORDS["left"][language].format(duration=duration(due_at - now, language)), False
        return SLA_WORDS["overdue"][language].format(duration=duration(now - due_at, language)), True
    if done_at <= due_at:
        return SLA_WORDS["in_time"][language], False
    return SLA_WORDS["late"][language].format(duration=duration(done_at - due_at, language)), True


def tenure(days: float | None, language: str) -> str:
    """How long someone has been a member: days under two months, months under two years, then years."""
    if days is None or pd.isna(days):
        return ""
    days = max(float(days), 0.0)
    if days < 60:
        return TENURE_WORDS["days"][language].format(n=int(days))
    if days < 730:
        return TENURE_WORDS["months"][language].format(n=int(days // 30.44))
    return TENURE_WORDS["years"][language].format(n=days / 365.25)


# The chain's wall clock, in which stores read times (cxlake.contracts, as the marts' local times).
BUSINESS_ZONE = ZoneInfo(BUSINESS_TIMEZONE)
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}


def local_time(value: datetime | str | None, language: str) -> str:
    """A moment as a store reads it: ``Thu 2026-03-05 14:20`` / ``2026-03-05 周四 14:20`` in the
    chain's zone. A time without a zone is taken as already local (the marts keep business time)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    moment = pd.Timestamp(value).to_pydatetime()
    if moment.tzinfo is not None:
        moment = moment.astimezone(BUSINESS_ZONE)
    weekday = WEEKDAYS[language][moment.weekday()]
    day, clock = moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M")
    return f"{weekday} {day} {clock}" if language == "en" else f"{day} {weekday} {clock}"


# -- period changes: the headline tiles' verdicts, targets and mix / rate split in words ----------
# cxlake.metrics decides (up / down / no_change / too_few); these only say it. Sizes are unsigned
# after "up" / "down" and signed where the direction is not in the words.
CHANGE_WORDS: Words = {
    "up": {"en": "up {size} {unit}, significant", "zh": "上升 {size} {unit}，显著"},
    "down": {"en": "down {size} {unit}, significant", "zh": "下降 {size} {unit}，显著"},
    "no_change": {"en": "no detectable change ({signed} {unit})", "zh": "无显著变化（{signed} {unit}）"},
    "too_few": {
        "en": "too few answers to compare (n = {n_current:,} vs {n_previous:,})",
        "zh": "样本过少，无法比较（n = {n_current:,} 对 {n_previous:,}）",
    },
    "target_below": {"en": "target {target}, {gap} below", "zh": "目标 {target}，差 {gap}"},
    "target_above": {"en": "target {target}, {gap} above", "zh": "目标 {target}，超出 {gap}"},
    "target_met": {"en": "target {target}, met", "zh": "目标 {target}，已达成"},
    "shift_share": {
        "en": "Of {total}: {rate} from how customers scored, {mix} from who answered ({who}).",
        "zh": "变化 {total} 中：{rate} 来自顾客打分的变化，{mix} 来自答题人群的变化（{who}）。",
    },
    "more_answers": {"en": "more {segment} answers", "zh": "{segment}答卷占比上升"},
    "fewer_answers": {"en": "fewer {segment} answers", "zh": "{segment}答卷占比下降"},
    "same_answers": {"en": "the same mix of answers", "zh": "答题人群构成不变"},
}
# Unit and decimals of a change per measure: NPS and CES in points, CSAT (top-2-box %) in
# percentage points.
CHANGE_UNITS: Words = {
    "nps": {"en": "points", "zh": "分"},
    "csat": {"en": "percentage points", "zh": "个百分点"},
    "ces": {"en": "points", "zh": "分"},
}
CHANGE_DECIMALS = {"nps": 1, "csat": 1, "ces": 2}


def change_verdict(change: Change, measure: str, language: str) -> str:
    """``up 4.2 points, significant`` / ``no detectable change (+1.3 points)`` / too few, in words."""
    decimals = CHANGE_DECIMALS[measure]
    return CHANGE_WORDS[change.verdict][language].format(
        size=f"{abs(change.difference):.{decimals}f}",
        signed=f"{change.difference:+.{decimals}f}",
        unit=CHANGE_UNITS[measure][language],
        n_current=change.n_current,
        n_previous=change.n_previous,
    )


def target_gap(value: float, target: float, measure: str, language: str) -> str:
    """``target 40, 3.1 below`` / ``target 40, 2.0 above`` / ``target 40, met`` (higher is better
    for NPS, CSAT and CES alike); the gap is rounded as the value is shown, so they agree."""
    decimals = CHANGE_DECIMALS[measure]
    gap = round(value, decimals) - round(target, decimals)
    kind = "target_met" if round(gap, decimals) == 0 else "target_above" if gap > 0 else "target_below"
    suffix = "%" if measure == "csat" else ""
    return CHANGE_WORDS[kind][language].format(target=f"{target:g}{suffix}", gap=f"{abs(gap):.{decimals}f}")


def shift_share_sentence(split: ShiftShare, segment_words: Mapping[str, str], language: str) -> str:
    """``Of +4.2: +3.9 from how customers scored, +0.3 from who answered (more App answers).``,
    naming the segment whose share of answers moved most (``segment_words``: segment -> its word)."""
    moved = max(split.segments, key=lambda s: abs(s.share_current - s.share_previous))
    shift = moved.share_current - moved.share_previous
    words = CHANGE_WORDS["more_answers" if shift > 0 else "fewer_answers" if shift < 0 else "same_answers"]
    who = words[language].format(segment=segment_words.get(moved.segment, moved.segment))
    return CHANGE_WORDS["shift_share"][language].format(
        total=f"{split.total:+.1f}", rate=f"{split.rate:+.1f}", mix=f"{split.mix:+.1f}", who=who
    )
