"""Reading a clean delivered CSV with DuckDB's own reader instead of Python's csv module.

DuckDB parses a typical delivery several times faster than a per-row Python loop, but it does not
say everything the delivered-files reader says: which physical line a record spans when a quoted
field holds a newline, that a GB18030 file is GB18030, where a NUL byte or a stray byte-order mark
sits, or why a record has the wrong number of fields in the words stewards know. So DuckDB reads
only what it reads exactly like :func:`cxlake.delivered_files.read_csv_records`: UTF-8 text without
NUL or byte-order marks inside, one record per line, with no record DuckDB itself rejects
(``store_rejects`` keeps them, with their line numbers). Anything else returns None and the caller
reads the file the careful way, so a bad row still reaches quarantine with its file, line, field
and the same message.
"""

from __future__ import annotations

import codecs
import csv
import io

import duckdb
import pandas as pd
import pyarrow as pa

from cxlake.delivered_files import BYTE_ORDER_MARK, MAX_FIELD_CHARS

# The reader's settings, stated rather than sniffed: a delivery says what it is, a sniffer guesses.
_OPTIONS = {
    "header": True,
    "sep": ",",
    "quotechar": '"',
    "escapechar": '"',
    "strict_mode": True,
    "store_rejects": True,
    # A field longer than the careful reader keeps needs a line at least that long: such a file is
    # read the careful way, which cuts the field and names it.
    "max_line_size": MAX_FIELD_CHARS,
}


def _text_and_header(data: bytes) -> tuple[bytes, list[str]] | None:
    """The UTF-8 bytes without their BOM and the header's names, when the file qualifies."""
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None  # GB18030 or undecodable: the careful reader decides and says which
    if "\x00" in text or BYTE_ORDER_MARK in text:
        return None
    # One record per line: every CR belongs to a CRLF and no line is empty (the careful reader skips
    # an empty line but counts it, which DuckDB's row position cannot tell).
    if body.count(b"\r") != body.count(b"\r\n") or b"\n\n" in body or b"\n\r\n" in body:
        return None
    first_line = text.split("\n", 1)[0]
    header = [name.strip() for name in next(csv.reader([first_line.rstrip("\r")]), [])]
    if not header or len(set(header)) != len(header):
        return None
    return body, header


def read_clean_csv(data: bytes, columns: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]] | None:
    """``columns`` of a clean delivery (as text, empty fields as ``""``) and its header, or None when
    the file needs the careful reader: not clean UTF-8, a column missing, a record spanning lines
    or a record DuckDB rejects (wrong field count, bad quoting, an overlong line)."""
    qualified = _text_and_header(data)
    if qualified is None:
        return None
    body, header = qualified
    if any(column not in header for column in columns):
        return None  # the careful reader names the missing columns
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    connection = duckdb.connect()
    try:
        relation = connection.read_csv(
            io.BytesIO(body), columns={name: "VARCHAR" for name in header}, **_OPTIONS
        )
        # Python's csv module reads an empty field as "", DuckDB as NULL; every record here has
        # all its fields (strict mode rejects the rest), so NULL can only be an empty field.
        selected = ", ".join(f"coalesce({_quoted(column)}, '') as {_quoted(column)}" for column in columns)
        table = relation.select(selected).to_arrow_table()
        rejected = connection.execute("select count(*) from reject_errors").fetchone()[0]
    except duckdb.Error:
        return None  # e.g. an unterminated quote: the careful reader says on which line
    finally:
        connection.close()
    if rejected or table.num_rows != lines - 1:
        return None
    frame = table.to_pandas(types_mapper=_AS_STRING.get)
    return frame, header


_AS_STRING = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
