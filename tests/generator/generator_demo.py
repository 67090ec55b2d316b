"""Helpers for the generator tests: read the demo landing tree with the csv module (not the real readers)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DAYS = 28


@dataclass
class Demo:
    root: Path
    transactions: list[dict]
    lines: list[dict]
    invitations: list[dict]
    customers: list[dict]
    qualtrics: list[dict]  # data rows keyed by row-1 column ids
    wjx: list[dict]
    reviews: list[dict]
    truth: dict


def read_plain(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_qualtrics(path: Path) -> list[dict]:
    """Row 1 names the columns; rows 2 and 3 (question texts, import ids) are headers too."""
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[3:]]


def read_wjx(path: Path) -> list[dict]:
    text = path.read_bytes().decode("gb18030")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _collect(root: Path, pattern: str, reader) -> list[dict]:
    return [row for path in sorted(root.glob(pattern)) for row in reader(path)]


def load_demo(root: Path) -> Demo:
    return Demo(
        root=root,
        transactions=_collect(root, "pos/*/transactions.csv", read_plain),
        lines=_collect(root, "pos/*/transaction_lines.csv", read_plain),
        invitations=_collect(root, "survey_invitations/*/invitations.csv", read_plain),
        customers=_collect(root, "crm/*/customers.csv", read_plain),
        qualtrics=_collect(root, "qualtrics/*/SV_cxlakeApp_*.csv", read_qualtrics),
        wjx=_collect(root, "wjx/*/wjx_instore_*.csv", read_wjx),
        reviews=[
            r
            for p in sorted(root.glob("reviews/*/*.json"))
            for r in json.loads(p.read_text("utf-8"))["reviews"]
        ],
        truth=json.loads((root / "truth.json").read_text("utf-8")),
    )


CSAT = {"非常不满意": 1, "不满意": 2, "一般": 3, "满意": 4, "非常满意": 5}
QUALTRICS_CSAT = {
    "Q2_1": "taste",
    "Q2_2": "speed",
    "Q2_3": "staff",
    "Q2_4": "value",
    "Q2_5": "app",
    "Q2_6": "delivery",
}
WJX_CSAT = {
    "4、口味满意度": "taste",
    "5、出餐速度满意度": "speed",
    "6、店员服务满意度": "staff",
    "7、门店环境满意度": "environment",
    "8、性价比满意度": "value",
}


def unified_responses(demo: Demo) -> list[dict]:
    """Both surveys in one shape (key, status, store, transaction, nps, csat, submitted, ...)."""
    out = []
    for row in demo.qualtrics:
        out.append(
            {
                "key": f"SV_cxlakeApp:{row['ResponseId']}",
                "status": row["Status"],
                "store": row["store_id"],
                "transaction": row["transaction_id"],
                "nps": int(row["Q1"].split(" ")[0]),
                "csat": {tp: CSAT[row[q]] for q, tp in QUALTRICS_CSAT.items() if row[q]},
                "submitted": datetime.strptime(row["EndDate"], "%Y-%m-%d %H:%M:%S"),
                "duration": int(row["Duration (in seconds)"]),
                "ip": row["IPAddress"],
                "comment": row["Q5"],
            }
        )
    for row in demo.wjx:
        out.append(
            {
                "key": f"wjx_instore:{row['序号']}",
                "status": "IP Address",
                "store": row["1、门店编号"],
                "transaction": row["2、小票号"],
                "nps": int(row["3、您有多大可能向朋友或同事推荐栖云咖啡？"]),
                "csat": {tp: CSAT[row[q]] for q, tp in WJX_CSAT.items() if row[q] != "(跳过)"},
                "submitted": datetime.strptime(row["提交答卷时间"], "%Y/%m/%d %H:%M:%S"),
                "duration": int(row["所用时间"].removesuffix("秒")),
                "ip": row["来自IP"].split("(")[0],
                "comment": ""
                if row["10、还有什么想对我们说的？"] == "(空)"
                else row["10、还有什么想对我们说的？"],
            }
        )
    return out
