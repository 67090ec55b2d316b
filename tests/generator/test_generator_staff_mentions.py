"""Comments name the serving staff member, a praised and a coached barista stand out, and naming
moves nothing else the generator writes (its own random stream)."""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path

import pytest

from cxlake.generator import generate
from cxlake.generator import staff_mentions as staff_mentions_module
from cxlake.generator.staff_mentions import name_forms

COMMENT_COLUMNS = {"Q5", "10、还有什么想对我们说的？"}


def test_name_forms_are_how_customers_write_a_name():
    assert name_forms("王伟芳") == {"xiao_surname": "小王", "full_name": "王伟芳", "given_name": "伟芳"}
    assert name_forms("李娜") == {"xiao_surname": "小李", "full_name": "李娜"}  # 娜 alone is no name


@pytest.fixture(scope="module")
def frontline(demo) -> dict:
    return demo.truth["planted"]["frontline"]


def test_every_named_mention_is_in_its_comment_and_names_who_served(demo, responses, frontline):
    by_key = {r["key"]: r for r in responses}
    server = {t["transaction_id"]: t["staff_id"] for t in demo.transactions}
    labels = {c["response_key"]: c for c in demo.truth["comments"]}
    mentions = frontline["mentions"]
    assert len(mentions) > 50
    for mention in mentions:
        response = by_key[mention["response_key"]]
        assert mention["written_as"] in response["comment"], mention
        assert server[response["transaction"]] == mention["staff_id"], mention
        assert labels[mention["response_key"]]["aspects"]["staff"] == mention["polarity"]
    forms = collections.Counter(len(m["written_as"]) for m in mentions)
    assert forms[2] > forms[3] > 0  # 小王 and 伟芳 mostly, the whole name sometimes


def test_the_praised_and_the_coached_barista_stand_out(demo, frontline):
    counts = collections.Counter((m["staff_id"], m["polarity"]) for m in frontline["mentions"])
    praised, coached = frontline["praised_staff_id"], frontline["coached_staff_id"]
    store_staff = {t["staff_id"] for t in demo.transactions if t["store_id"] == frontline["store_id"]}
    assert {praised, coached} <= store_staff
    others = {m["staff_id"] for m in frontline["mentions"]} - {praised, coached}
    assert counts[(praised, "positive")] > 2 * max(counts[(s, "positive")] for s in others)
    assert counts[(praised, "negative")] < counts[(praised, "positive")]
    assert counts[(coached, "negative")] > max(counts[(s, "negative")] for s in others)
    assert counts[(coached, "negative")] > counts[(coached, "positive")]


def _read_rows(path: Path) -> list[list[str]]:
    encoding = "gb18030" if path.parts[-3] == "wjx" else "utf-8-sig"
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.reader(f))


def test_naming_staff_changes_only_comments(tmp_path, monkeypatch):
    named = tmp_path / "named"
    generate(named, scale="small", seed=5, days=4, progress=False)
    monkeypatch.setattr(
        staff_mentions_module.StaffMentions,
        "apply",
        lambda self, rnd, staff, kind, staff_csat, text, aspects, clauses: (text, aspects, None),
    )
    plain = tmp_path / "plain"
    generate(plain, scale="small", seed=5, days=4, progress=False)
    files = sorted(p.relative_to(named) for p in named.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
    changed_columns: set[str] = set()
    for relative in files:
        if relative.name == "truth.json":
            continue
        a, b = named / relative, plain / relative
        if a.read_bytes() == b.read_bytes():
            continue
        assert relative.parts[0] in ("qualtrics", "wjx"), relative
        rows_a, rows_b = _read_rows(a), _read_rows(b)
        assert len(rows_a) == len(rows_b)
        for row_a, row_b in zip(rows_a, rows_b, strict=True):
            changed_columns |= {
                rows_a[0][i] for i, (x, y) in enumerate(zip(row_a, row_b, strict=True)) if x != y
            }
    assert changed_columns == COMMENT_COLUMNS
    truth_a = json.loads((named / "truth.json").read_text(encoding="utf-8"))
    truth_b = json.loads((plain / "truth.json").read_text(encoding="utf-8"))
    assert truth_b["planted"]["frontline"]["mentions"] == []
    truth_a["planted"].pop("frontline"), truth_b["planted"].pop("frontline")
    assert truth_a["planted"] == truth_b["planted"]
    assert truth_a["case_work"] == truth_b["case_work"] and truth_a["reviews"] == truth_b["reviews"]
    labels_b = {c["response_key"]: c for c in truth_b["comments"]}
    assert set(labels_b) <= {c["response_key"] for c in truth_a["comments"]}
    for label in truth_a["comments"]:
        before = labels_b.get(label["response_key"], {"aspects": {}})
        # a label changes only by a staff aspect added to it (a planted praise or complaint)
        assert {k: v for k, v in label["aspects"].items() if k not in before["aspects"]} in (
            {},
            {"staff": label["aspects"].get("staff")},
        ), label
