"""The delivered-files layer on its own: what it refuses, what it strips, what it quotes.

The bad-input catalogue runs the same code through the ingestion assets; these tests pin the
cases that need a real FIFO or folder, a link swapped in, or the exact warning text.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assets.ingestion.raw_tables import POS_TRANSACTIONS
from assets.ingestion.sources import csv_file_frame, load_reviews
from cxlake.delivered_files import (
    MAX_FIELD_CHARS,
    DeliveredFileError,
    header_summary,
    read_csv_records,
    read_delivered,
)

HEADER = "transaction_id,store_id,amount\r\n"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "pos" / "2026-03-04"
    folder.mkdir(parents=True)
    return tmp_path / "landing"


def test_a_regular_file_and_a_link_inside_landing_are_read(landing):
    day = landing / "pos" / "2026-03-04"
    (landing / "drop.csv").write_bytes(b"a,b\r\n")
    (day / "transactions.csv").symlink_to("../../drop.csv")
    assert read_delivered(day / "transactions.csv", landing) == b"a,b\r\n"


@pytest.mark.parametrize("target", ["outside", "/etc/passwd", "../../../outside"])
def test_a_link_leaving_landing_is_refused_unread(landing, target):
    outside = landing.parent / "outside"
    outside.write_text("customer_id,secret\r\nC1,s3cr3t\r\n")
    link = landing / "pos" / "2026-03-04" / "transactions.csv"
    link.symlink_to(outside if target == "outside" else target)
    with pytest.raises(DeliveredFileError) as refused:
        read_delivered(link, landing)
    assert str(refused.value) == f"{link}: a symbolic link that leads outside landing/; refused unread"


def test_a_day_folder_that_is_a_link_out_of_landing_refuses_its_files(landing, tmp_path):
    elsewhere = tmp_path / "share" / "2026-03-05"
    elsewhere.mkdir(parents=True)
    (elsewhere / "transactions.csv").write_text(HEADER)
    (landing / "pos" / "2026-03-05").symlink_to(elsewhere)
    with pytest.raises(DeliveredFileError, match="outside landing/"):
        read_delivered(landing / "pos" / "2026-03-05" / "transactions.csv", landing)


def test_a_fifo_under_a_delivered_name_is_refused_without_blocking(landing):
    fifo = landing / "pos" / "2026-03-04" / "transactions.csv"
    os.mkfifo(fifo)  # reading it would wait forever for a writer
    refused = r"a named pipe \(FIFO\), not a regular file; refused unread"
    with pytest.raises(DeliveredFileError, match=refused):
        read_delivered(fifo, landing)


def test_a_folder_under_a_delivered_name_is_refused(landing):
    folder = landing / "pos" / "2026-03-04" / "transactions.csv"
    folder.mkdir()
    with pytest.raises(DeliveredFileError, match="a folder, not a regular file"):
        read_delivered(folder, landing)


def test_a_dangling_link_inside_landing_says_it_cannot_open(landing):
    link = landing / "pos" / "2026-03-04" / "transactions.csv"
    link.symlink_to("missing.csv")
    with pytest.raises(DeliveredFileError, match=r"cannot open \(No such file or directory\)"):
        read_delivered(link, landing)


def test_a_bom_mid_file_is_removed_and_named_by_line_and_field(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_bytes(f"\ufeff{HEADER}T1,S001,30\r\n\ufeffT2,S002,31\r\nT3,S003,\ufeff32\r\n".encode())
    records = read_csv_records(path)
    assert records.header == ["transaction_id", "store_id", "amount"]
    assert records.rows == [["T1", "S001", "30"], ["T2", "S002", "31"], ["T3", "S003", "32"]]
    assert records.warnings == [
        "3:transaction_id: removed a byte-order mark (U+FEFF) (another file joined on here?)",
        "4:amount: removed a byte-order mark (U+FEFF) (another file joined on here?)",
    ]


def test_the_frame_carries_the_warning_as_file_line_field(tmp_path):
    path = tmp_path / "transactions.csv"
    columns = ",".join(POS_TRANSACTIONS.columns)
    row = "T03040001,S001,E001,,app,2026-03-04T08:00:00+08:00,2026-03-04T08:06:00+08:00,30.50,,0"
    path.write_text(f"{columns}\r\n\ufeff{row}\r\n", encoding="utf-8")
    frame, _, warnings = csv_file_frame(path, POS_TRANSACTIONS, "pos/2026-03-04/transactions.csv")
    assert frame["transaction_id"].tolist() == ["T03040001"]
    assert warnings == [
        "pos/2026-03-04/transactions.csv:2:transaction_id: removed a byte-order mark (U+FEFF) "
        "(another file joined on here?)"
    ]


def test_a_field_past_the_reader_limit_is_cut_and_marks_its_record(tmp_path):
    path = tmp_path / "customers.csv"
    long_name = "王" * (MAX_FIELD_CHARS + 5)
    path.write_text(f"customer_id,name\r\nC1,{long_name}\r\nC2,王小明\r\n", encoding="utf-8")
    records = read_csv_records(path)
    assert len(records.rows[0][1]) == MAX_FIELD_CHARS
    assert records.problems == [
        f"name has {MAX_FIELD_CHARS + 5:,} characters, more than the reader keeps ({MAX_FIELD_CHARS:,})",
        None,
    ]


@pytest.mark.parametrize(
    ("header", "summary"),
    [
        (["transaction_id", "store_id"], "transaction_id, store_id"),
        (["序号", "提交答卷时间", "Duration (in seconds)"], "序号, 提交答卷时间, Duration (in seconds)"),
        (["root:x:0:0:root:/root:/bin/bash"], "1 field(s) that are not column names"),
        (["-----BEGIN RSA PRIVATE KEY-----"], "1 field(s) that are not column names"),
        ([f"c{n}" for n in range(20)], "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, ... (20 columns)"),
    ],
)
def test_an_error_quotes_a_header_only_when_it_is_column_names(header, summary):
    assert header_summary(header) == summary


def test_a_missing_column_error_does_not_quote_a_system_file(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    with pytest.raises(DeliveredFileError) as refused:
        csv_file_frame(path, POS_TRANSACTIONS, "pos/2026-03-04/transactions.csv")
    assert "root:x" not in str(refused.value) and "nologin" not in str(refused.value)
    assert str(refused.value).endswith("(header: 1 field(s) that are not column names)")


def test_a_review_page_whose_list_holds_a_non_object_names_the_entry(landing):
    day = landing / "reviews" / "2026-03-04"
    day.mkdir(parents=True)
    (day / "dianping.json").write_text('{"platform": "dianping", "reviews": [{"review_id": "1"}, "oops"]}')
    with pytest.raises(DeliveredFileError, match=r"dianping\.json: reviews list entry 2 is not an object"):
        load_reviews(landing, day, "2026-03-04")
