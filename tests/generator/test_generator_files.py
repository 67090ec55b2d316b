"""Every landing file is present for every day, parses, and carries exactly the declared columns."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

from generator_demo import DAYS, read_qualtrics, read_wjx

COLUMNS = {
    "reference/2026-01-01/stores.csv": "store_id,store_name,region_id,region_name,city,opened_on",
    "reference/2026-01-01/staff.csv": "staff_id,store_id,staff_name,role,hired_on",
    "crm/{day}/customers.csv": "customer_id,name,phone,email,member_tier,signup_date,city,home_store_id,"
    "updated_at",
    "pos/{day}/transactions.csv": "transaction_id,store_id,staff_id,customer_id,channel,ordered_at,ready_at,"
    "amount,refund_amount,is_remake",
    "pos/{day}/transaction_lines.csv": "transaction_id,line_number,product_id,product_name,category,quantity,"
    "unit_price,line_amount",
    "survey_invitations/{day}/invitations.csv": "invitation_id,survey_id,transaction_id,customer_id,store_id,"
    "invite_channel,invited_at",
}
QUALTRICS_ROW1 = (
    "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,ResponseId,"
    "RecipientLastName,RecipientFirstName,RecipientEmail,ExternalReference,LocationLatitude,LocationLongitude,"
    "DistributionChannel,UserLanguage,Q1,Q1_NPS_GROUP,Q2_1,Q2_2,Q2_3,Q2_4,Q2_5,Q2_6,Q3,Q4,Q5,store_id,"
    "transaction_id,channel"
)
WJX_HEADER = (
    "序号,提交答卷时间,所用时间,来源,来源详情,来自IP,1、门店编号,2、小票号,3、您有多大可能向朋友或同事推荐栖云咖啡？,"
    "4、口味满意度,5、出餐速度满意度,6、店员服务满意度,7、门店环境满意度,8、性价比满意度,9、您本次点了哪些品类？,"
    "10、还有什么想对我们说的？"
)
DAYS_ISO = [(date(2026, 1, 1) + timedelta(days=i)).isoformat() for i in range(DAYS)]


def test_every_csv_source_has_its_file_each_day_with_the_declared_header(demo):
    for pattern, header in COLUMNS.items():
        for day in DAYS_ISO if "{day}" in pattern else ["2026-01-01"]:
            raw = (demo.root / pattern.format(day=day)).read_bytes()
            assert raw.decode("utf-8").split("\r\n")[0] == header, pattern
    assert not list(demo.root.glob("reference/2026-01-02"))


def test_qualtrics_files_have_bom_crlf_and_the_three_header_rows(demo):
    for day in DAYS_ISO:
        raw = (demo.root / f"qualtrics/{day}/SV_cxlakeApp_{day}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").split("\r\n")
        assert lines[0] == QUALTRICS_ROW1
        assert lines[1].startswith("Start Date,End Date,Response Type,IP Address,")
        assert "请对本次体验的以下方面打分 - 外卖配送,通过小程序下单有多容易？" in lines[1]
        assert lines[2].startswith('"{""ImportId"":""startDate"",""timeZone"":""Asia/Shanghai""}",')
        assert lines[2].endswith('"{""ImportId"":""channel""}"')
        assert '"{""ImportId"":""QID5_TEXT""}"' in lines[2]


def test_qualtrics_rows_use_choice_texts_and_leave_other_channels_questions_empty(demo):
    statuses = {row["Status"] for row in demo.qualtrics}
    assert statuses == {"IP Address", "Survey Preview", "Survey Test"}
    for row in demo.qualtrics:
        assert row["ResponseId"].startswith("R_") and len(row["ResponseId"]) == 17
        assert row["Progress"] == "100" and row["Finished"] == "True" and row["UserLanguage"] == "ZH-S"
        assert row["Q1"] in {"0 - 完全不可能", "10 - 极有可能"} | {str(n) for n in range(1, 10)}
        if row["Status"] != "IP Address":
            continue
        filled = {q for q in ("Q2_1", "Q2_2", "Q2_3", "Q2_4", "Q2_5", "Q2_6") if row[q]}
        if row["channel"] == "delivery":
            assert filled == {"Q2_1", "Q2_4", "Q2_5", "Q2_6"} and row["Q3"] == ""
        else:
            assert row["channel"] == "app"
            assert filled == {"Q2_1", "Q2_2", "Q2_3", "Q2_4", "Q2_5"}
            assert row["Q3"] in {"1 - 非常困难", "7 - 非常容易"} | {str(n) for n in range(2, 7)}
        assert row["transaction_id"].startswith("T") and len(row["transaction_id"]) == 9


def test_wjx_files_are_gb18030_with_crlf_and_serial_numbers_running_across_days(demo):
    serials = []
    for day in DAYS_ISO:
        raw = (demo.root / f"wjx/{day}/wjx_instore_{day}.csv").read_bytes()
        assert raw.decode("gb18030").split("\r\n")[0] == WJX_HEADER
        serials += [int(row["序号"]) for row in read_wjx(demo.root / f"wjx/{day}/wjx_instore_{day}.csv")]
    assert serials == list(range(1, len(serials) + 1))
    row = demo.wjx[0]
    assert row["所用时间"].endswith("秒") and row["来源"] in {"微信", "手机提交", "链接"}
    assert any("┋" in r["9、您本次点了哪些品类？"] for r in demo.wjx)
    assert any(r["7、门店环境满意度"] == "(跳过)" for r in demo.wjx)
    assert any(r["10、还有什么想对我们说的？"] == "(空)" for r in demo.wjx)


def test_each_response_lands_once_in_the_survey_of_its_channel(demo):
    channel_of = {t["transaction_id"]: t["channel"] for t in demo.transactions}
    genuine = [r for r in demo.qualtrics if r["Status"] == "IP Address"]
    assert all(channel_of[r["transaction_id"]] == r["channel"] for r in genuine)
    assert all(channel_of[r["2、小票号"]] == "in_store" for r in demo.wjx)
    ids = [r["ResponseId"] for r in demo.qualtrics]
    assert len(ids) == len(set(ids))


def test_transaction_amounts_equal_the_sum_of_their_lines(demo):
    totals: dict[str, float] = {}
    for line in demo.lines:
        totals[line["transaction_id"]] = totals.get(line["transaction_id"], 0) + float(line["line_amount"])
    assert len(totals) == len(demo.transactions)
    # the planted delivery defect without an amount is the one row the gate must catch
    with_amount = [t for t in demo.transactions if t["amount"]]
    assert len(demo.transactions) - len(with_amount) <= 1
    assert all(abs(totals[t["transaction_id"]] - float(t["amount"])) < 0.005 for t in with_amount)
    ids = [t["transaction_id"] for t in demo.transactions]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_channels_and_members_have_the_intended_mix(demo):
    n = len(demo.transactions)
    share = {
        ch: sum(t["channel"] == ch for t in demo.transactions) / n for ch in ("in_store", "app", "delivery")
    }
    assert abs(share["in_store"] - 0.55) < 0.03 and abs(share["app"] - 0.30) < 0.03
    members = sum(bool(t["customer_id"]) for t in demo.transactions) / n
    assert 0.60 < members < 0.70
    assert 30 * 50 < n / DAYS < 30 * 75  # ~30 stores x ~60 transactions a day


def test_first_crm_day_carries_the_whole_base_and_later_days_only_changes(demo):
    first = list(csv.DictReader((demo.root / "crm/2026-01-01/customers.csv").open(encoding="utf-8")))
    later = list(csv.DictReader((demo.root / "crm/2026-01-10/customers.csv").open(encoding="utf-8")))
    assert 15_000 < len(first) < 19_000 and 0 < len(later) < 500
    assert all(r["updated_at"].startswith("2026-01-10T") for r in later)
    assert {r["member_tier"] for r in first} == {"basic", "silver", "gold", "black"}


def test_review_pages_are_json_per_platform_and_day(demo):
    for day in DAYS_ISO:
        for platform in ("dianping", "meituan", "xiaohongshu"):
            page = json.loads((demo.root / f"reviews/{day}/{platform}.json").read_text("utf-8"))
            assert page["platform"] == platform and page["fetched_at"].endswith("T03:00:00+08:00")
    transactions = {t["transaction_id"]: t for t in demo.transactions}
    for review in demo.reviews:
        assert 1 <= review["rating"] <= 5 and review["content"]
        if review["order_id"] is not None:
            assert transactions[review["order_id"]]["channel"] == "delivery"
            assert transactions[review["order_id"]]["store_id"] == review["store_id"]
    assert {r["brand"] for r in demo.reviews} == {"栖云咖啡", "山野茶铺", "港湾咖啡"}
    assert any(r["order_id"] for r in demo.reviews)


def test_qualtrics_reader_helper_skips_the_header_rows(demo):
    rows = read_qualtrics(next(demo.root.glob("qualtrics/*/*.csv")))
    assert all(not r["StartDate"].startswith(("Start", "{")) for r in rows)
