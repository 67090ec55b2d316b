"""DuckDB reads a clean delivery exactly as the careful reader does, and leaves the rest to it."""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from assets.ingestion.duckdb_csv import read_clean_csv
from assets.ingestion.raw_tables import RawTable
from assets.ingestion.sources import careful_csv_file_frame, csv_file_frame

TABLE = RawTable("t", ("id", "name", "amount"), "a small table")

CLEAN = {
    # line endings of every kind a spreadsheet writes, with and without the last one
    "crlf": b"id,name,amount\r\n1,a,2\r\n3,b,4\r\n",
    "lf": b"id,name,amount\n1,a,2\n3,b,4\n",
    "no final newline": b"id,name,amount\n1,a,2\n3,b,4",
    # quoting: commas and doubled quotes inside, empty quoted and unquoted fields, spaces kept
    "quoted": b'id,name,amount\n1,"a, ""b""",2\n2,"",\n3, spaced ,  5 \n',
    # a UTF-8 byte-order mark at the start, header names with spaces around, an extra column
    "bom and extra column": codecs.BOM_UTF8 + b" id ,name,amount,note\n1,\xe8\x8c\xb6,2,x\n",
    "header only": b"id,name,amount\n",
    # a quote inside an unquoted field is a character of it, to both readers
    "a quote inside a field": b'id,name,amount\n1,a"b,2\n',
}

CAREFUL = {
    "a record spanning lines": b'id,name,amount\n1,"a\nb",2\n3,c,4\n',
    "too few fields": b"id,name,amount\n1,a\n3,b,4\n",
    "too many fields": b"id,name,amount\n1,a,2,9\n",
    "an empty line": b"id,name,amount\n1,a,2\n\n3,b,4\n",
    "GB18030": "id,name,amount\n1,茶,2\n".encode("gb18030"),
    "a NUL byte": b"id,name,amount\n1,a\x00,2\n",
    "a byte-order mark inside": "id,name,amount\n1,\ufeffa,2\n".encode(),
    "a missing column": b"id,name\n1,a\n",
    "a repeated column": b"id,name,amount,id\n1,a,2,1\n",
    "an unterminated quote": b'id,name,amount\n1,"a,2\n',
    "text after a closing quote": b'id,name,amount\n1,"a"b,2\n',
    "a lone carriage return": b"id,name,amount\r1,a,2\r",
}


@pytest.mark.parametrize("name", CLEAN)
def test_a_clean_file_reads_the_same_by_duckdb_as_by_the_careful_reader(tmp_path, name):
    path = tmp_path / "t.csv"
    path.write_bytes(CLEAN[name])
    assert read_clean_csv(CLEAN[name], TABLE.columns) is not None
    fast, fast_audit, fast_warnings = csv_file_frame(path, TABLE, "t.csv", CLEAN[name])
    careful, careful_audit, careful_warnings = careful_csv_file_frame(path, TABLE, "t.csv", CLEAN[name])
    pd.testing.assert_frame_equal(fast, careful)
    assert (fast_audit, fast_warnings) == (careful_audit, careful_warnings)


@pytest.mark.parametrize("name", CAREFUL)
def test_a_file_duckdb_would_read_differently_goes_to_the_careful_reader(name):
    assert read_clean_csv(CAREFUL[name], TABLE.columns) is None
