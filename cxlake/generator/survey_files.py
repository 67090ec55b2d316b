"""The two demo surveys in the byte layouts the real tools export (see docs in the task spec).

Qualtrics ``SV_cxlakeApp``: current layout, choice texts, three header rows, UTF-8 with BOM.
问卷星 ``wjx_instore``: "answers as text" CSV, one header row, GB18030, 序号 running across days.
Both CRLF, csv-module minimal quoting.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from cxlake.generator.chain import BRAND, Chain
from cxlake.generator.responses import QUALTRICS_ID, WJX_ID, Response

_NPS_Q = f"您有多大可能向朋友或同事推荐{BRAND}？"
_CSAT_PREFIX = "请对本次体验的以下方面打分 - "
QUALTRICS_CSAT = (
    ("Q2_1", "taste", "口味"),
    ("Q2_2", "speed", "出餐速度"),
    ("Q2_3", "staff", "店员服务"),
    ("Q2_4", "value", "性价比"),
    ("Q2_5", "app", "小程序下单"),
    ("Q2_6", "delivery", "外卖配送"),
)
_META = (
    ("StartDate", "Start Date", "startDate", True),
    ("EndDate", "End Date", "endDate", True),
    ("Status", "Response Type", "status", False),
    ("IPAddress", "IP Address", "ipAddress", False),
    ("Progress", "Progress", "progress", False),
    ("Duration (in seconds)", "Duration (in seconds)", "duration", False),
    ("Finished", "Finished", "finished", False),
    ("RecordedDate", "Recorded Date", "recordedDate", True),
    ("ResponseId", "Response ID", "_recordId", False),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName", False),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName", False),
    ("RecipientEmail", "Recipient Email", "recipientEmail", False),
    ("ExternalReference", "External Data Reference", "externalDataReference", False),
    ("LocationLatitude", "Location Latitude", "locationLatitude", False),
    ("LocationLongitude", "Location Longitude", "locationLongitude", False),
    ("DistributionChannel", "Distribution Channel", "distributionChannel", False),
    ("UserLanguage", "User Language", "userLanguage", False),
)
_QUESTIONS = (
    ("Q1", _NPS_Q, "QID1"),
    ("Q1_NPS_GROUP", f"{_NPS_Q} - Group", "QID1_NPS_GROUP"),
    *((qid, _CSAT_PREFIX + text, "QID" + qid[1:]) for qid, _, text in QUALTRICS_CSAT),
    ("Q3", "通过小程序下单有多容易？", "QID3"),
    ("Q4", "您本次点了哪些品类？（可多选）", "QID4"),
    ("Q5", "还有什么想告诉我们的吗？", "QID5_TEXT"),
    ("store_id", "store_id", "store_id"),
    ("transaction_id", "transaction_id", "transaction_id"),
    ("channel", "channel", "channel"),
)


def _import_id(key: str, zoned: bool) -> str:
    return f'{{"ImportId":"{key}","timeZone":"Asia/Shanghai"}}' if zoned else f'{{"ImportId":"{key}"}}'


QUALTRICS_HEADER = (
    [m[0] for m in _META] + [q[0] for q in _QUESTIONS],
    [m[1] for m in _META] + [q[1] for q in _QUESTIONS],
    [_import_id(m[2], m[3]) for m in _META] + [_import_id(q[2], False) for q in _QUESTIONS],
)
WJX_CSAT = (
    ("4、口味满意度", "taste"),
    ("5、出餐速度满意度", "speed"),
    ("6、店员服务满意度", "staff"),
    ("7、门店环境满意度", "environment"),
    ("8、性价比满意度", "value"),
)
WJX_HEADER = [
    "序号",
    "提交答卷时间",
    "所用时间",
    "来源",
    "来源详情",
    "来自IP",
    "1、门店编号",
    "2、小票号",
    f"3、{_NPS_Q}",
    *(q for q, _ in WJX_CSAT),
    "9、您本次点了哪些品类？",
    "10、还有什么想对我们说的？",
]
CSAT_TEXT = ("非常不满意", "不满意", "一般", "满意", "非常满意")
_STATUS = {"preview": ("Survey Preview", "preview"), "test": ("Survey Test", "test")}
_WJX_SOURCES = (("微信", "N/A"), ("手机提交", "直接访问"), ("链接", "直接访问"))


def nps_text(score: int) -> str:
    return {0: "0 - 完全不可能", 10: "10 - 极有可能"}.get(score, str(score))


def nps_group(score: int) -> str:
    return "Detractor" if score <= 6 else "Passive" if score <= 8 else "Promoter"


def ces_text(score: int | None) -> str:
    return "" if score is None else {1: "1 - 非常困难", 7: "7 - 非常容易"}.get(score, str(score))


def transaction_id(number: int | None) -> str:
    return "" if number is None else f"T{number:08d}"


def write_qualtrics(path: Path, responses: Iterable[Response], chain: Chain) -> int:
    """Write one day's Qualtrics export; returns the number of data rows."""
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerows(QUALTRICS_HEADER)
        for r in responses:
            status, distribution = _STATUS.get(r.kind, ("IP Address", "anonymous"))
            end = r.submitted.strftime("%Y-%m-%d %H:%M:%S")
            start = (r.submitted - timedelta(seconds=r.duration)).strftime("%Y-%m-%d %H:%M:%S")
            csat = [CSAT_TEXT[v - 1] if (v := r.csat.get(tp)) else "" for _, tp, _ in QUALTRICS_CSAT]
            writer.writerow(
                [
                    start,
                    end,
                    status,
                    r.ip,
                    "100",
                    r.duration,
                    "True",
                    end,
                    r.response_id,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    distribution,
                    "ZH-S",
                    nps_text(r.nps),
                    nps_group(r.nps),
                    *csat,
                    ces_text(r.ces),
                    ",".join(r.categories),
                    r.comment,
                    chain.store_ids[r.store],
                    transaction_id(r.transaction),
                    r.channel,
                ]
            )
            rows += 1
    return rows


def write_wjx(path: Path, responses: Iterable[Response], chain: Chain) -> int:
    """Write one day's 问卷星 download; the responses already carry their 序号 as response_id."""
    rows = 0
    with path.open("w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(WJX_HEADER)
        for r in responses:
            s = r.submitted
            source, detail = _WJX_SOURCES[r.wjx_source]
            store = r.store
            place = f"{chain.store_province[store]}-{chain.store_city[store]}"
            csat = ["(跳过)" if (v := r.csat.get(tp)) is None else CSAT_TEXT[v - 1] for _, tp in WJX_CSAT]
            writer.writerow(
                [
                    r.response_id,
                    f"{s.year}/{s.month}/{s.day} {s.hour}:{s.minute:02d}:{s.second:02d}",
                    f"{r.duration}秒",
                    source,
                    detail,
                    f"{r.ip}({place})",
                    chain.store_ids[store],
                    transaction_id(r.transaction),
                    str(r.nps),
                    *csat,
                    "┋".join(r.categories),
                    r.comment or "(空)",
                ]
            )
            rows += 1
    return rows


SURVEY_FILES = {QUALTRICS_ID: ("qualtrics", write_qualtrics), WJX_ID: ("wjx", write_wjx)}
