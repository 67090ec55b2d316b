"""Bytes of a delivered file -> a grid of text cells, whatever the container (CSV, .xls, .xlsx, HTML).

The container is recognised by its bytes, not its extension: web "xls" downloads are often HTML or CSV.
Text is decoded as strict UTF-8 first and GB18030 second, because UTF-8 Chinese often decodes as
GB18030 without error, into garbage; the reverse order would silently corrupt UTF-8 files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser

from python_calamine import CalamineError, CalamineWorkbook

from cxlake.delivered_files import (
    MAX_FIELD_CHARS,
    UndecodableText,
    allow_long_fields,
    decode_bytes,
    stray_marks_removed,
)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy binary .xls
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx (a zip of XML parts)
TEXT_CONTAINERS = ("csv", "html")  # a row has the fields the file wrote; a sheet row is as wide as the sheet


class UnreadableExport(ValueError):
    """Why a file cannot be read, as one line; the caller adds the file name."""


@dataclass(frozen=True)
class RawTable:
    rows: list[list[str]]
    lines: list[int]  # 1-based physical line (CSV) or sheet row where each row starts
    container: str  # csv | xls | xlsx | html
    warnings: list[str] = field(default_factory=list)  # "line N: ..." about cells the reader changed
    # line -> (column index, length as delivered) of the first field cut to MAX_FIELD_CHARS in that row
    cut_fields: dict[int, tuple[int, int]] = field(default_factory=dict)


def read_table(data: bytes, keep_blank_rows: bool = False) -> RawTable:
    """``keep_blank_rows``: keep the rows of a CSV that hold nothing, as ``[]`` (the parts of a split
    export are joined row by row, and a response may have answered nothing in one part)."""
    if not data.strip():
        raise UnreadableExport("empty file")
    if data.startswith(OLE2_MAGIC):
        return _checked(_read_excel(data, "xls"))
    if data.startswith(ZIP_MAGIC):
        return _checked(_read_excel(data, "xlsx"))
    text = decode_text(data)
    head = text[:2048].lower()
    if text.lstrip().startswith("<") and ("<table" in head or "<html" in head or "<!doctype" in head):
        return _checked(_read_html(text))
    table = _read_csv(text, keep_blank_rows)
    if not table.rows:
        raise UnreadableExport("empty file")
    return _checked(table)


def decode_text(data: bytes) -> str:
    try:
        return decode_bytes(data)
    except UndecodableText as error:
        raise UnreadableExport(str(error)) from None


def _read_csv(text: str, keep_blank_rows: bool = False) -> RawTable:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    allow_long_fields(len(text))
    try:
        for row in reader:
            if keep_blank_rows or any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        raise UnreadableExport(f"malformed CSV near line {reader.line_num}: {err}") from None
    return RawTable(rows, lines, "csv")


def _checked(table: RawTable) -> RawTable:
    """``table`` with byte-order marks stripped from its cells (a BOM mid-file is the start of another
    file joined on, never text) and each cell longer than MAX_FIELD_CHARS cut to that length: one
    overlong field is no answer, so its row is marked for quarantine instead of the file refused."""
    warnings: list[str] = []
    cut: dict[int, tuple[int, int]] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        for index, cell in enumerate(row):
            if len(cell) > MAX_FIELD_CHARS:
                cut.setdefault(line, (index, len(cell)))
                cell = row[index] = cell[:MAX_FIELD_CHARS]
            cleaned, removed = stray_marks_removed(cell)
            if removed:
                row[index] = cleaned
                warnings.append(f"line {line}, column {index + 1}: removed {removed} (a joined-on file?)")
    return RawTable(table.rows, table.lines, table.container, [*table.warnings, *warnings], cut)


@dataclass(frozen=True)
class Header:
    """What each data row is checked against, worked out once per file: the header's field count,
    the width up to its last named column, and its columns without a name."""

    names: tuple[str, ...]  # per field of the header row(s); "" where a column has no name
    named_width: int
    unnamed: tuple[int, ...]

    @classmethod
    def of(cls, names: list[str]) -> Header:
        stripped = tuple(name.strip() for name in names)
        named_width = max((i + 1 for i, name in enumerate(stripped) if name), default=0)
        return cls(stripped, named_width, tuple(i for i, name in enumerate(stripped) if not name))

    def name(self, index: int) -> str:
        return self.names[index] if index < len(self.names) else ""


def row_problem(table: RawTable, row: list[str], line: int, header: Header) -> str | None:
    """Why the data row ``row`` (as read, before any padding) cannot be loaded as delivered, or None.

    A text file's row must have the header's number of fields (more: a stray delimiter or cells added
    to one row; fewer: a record cut off), except that it may leave off trailing fields no header
    names; a spreadsheet row is as wide as the sheet, so there only a value under no header counts.
    Extra fields count even when empty: a stray delimiter shifts every later value into the wrong
    column, and the shifted-out last one may be empty. A field the reader cut counts too.
    """
    problems = []
    width = len(header.names)
    if table.container in TEXT_CONTAINERS and not header.named_width <= len(row) <= width:
        difference = len(row) - width
        more = f"{difference} more" if difference > 0 else f"{-difference} fewer"
        problems.append(f"{len(row)} fields where the header has {width} ({more})")
    else:
        under_none = [i for i in header.unnamed if i < len(row) and row[i].strip()]
        under_none += [width + i for i, cell in enumerate(row[width:]) if cell.strip()]
        if under_none:
            problems.append(f"a value in column {under_none[0] + 1}, which has no header")
    if line in table.cut_fields:
        index, length = table.cut_fields[line]
        column = header.name(index) or f"column {index + 1}"
        problems.append(
            f"{column} has {length:,} characters, more than the reader keeps ({MAX_FIELD_CHARS:,})"
        )
    return "; ".join(problems) or None


def without_repeated_headers(table: RawTable, header_rows: int) -> tuple[RawTable, list[str]]:
    """``table`` without the copies of its header rows found below them: two exports joined into
    one file repeat the header where the second starts. The copies are no responses; say where."""
    header = [[cell.strip() for cell in row] for row in table.rows[:header_rows]]
    rows, lines, warnings = list(table.rows[:header_rows]), list(table.lines[:header_rows]), []
    for row, line in zip(table.rows[header_rows:], table.lines[header_rows:], strict=True):
        stripped = [cell.strip() for cell in row]
        if any(_same_cells(stripped, copy) for copy in header):
            warnings.append(f"line {line}: a copy of a header row (two exports joined?); skipped")
            continue
        rows.append(row)
        lines.append(line)
    return RawTable(rows, lines, table.container, table.warnings, table.cut_fields), warnings


def _same_cells(row: list[str], header: list[str]) -> bool:
    width = max(len(row), len(header))
    return [*row, *[""] * (width - len(row))] == [*header, *[""] * (width - len(header))]


def _read_excel(data: bytes, container: str) -> RawTable:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        grid = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as err:
        what = "a zip archive that is not an .xlsx workbook" if container == "xlsx" else "a damaged .xls"
        raise UnreadableExport(f"{what} ({type(err).__name__}: {err})") from None
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, cells in enumerate(grid, start=1):
        row = [cell_text(cell) for cell in cells]
        if any(cell.strip() for cell in row):
            rows.append(row)
            lines.append(number)
    if not rows:
        raise UnreadableExport(f"an empty {container} workbook")
    return RawTable(rows, lines, container)


def cell_text(value: object) -> str:
    """An Excel cell as the text a CSV download would show (1.0 -> "1", datetimes without 'T')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.timedelta):
        return str(int(value.total_seconds()))
    return str(value)


class _TableCollector(HTMLParser):
    """Collects the cells of the first <table>; <br> becomes a line break inside a cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.tables_seen = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables_seen += 1
        if self.tables_seen != 1:
            return
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _read_html(text: str) -> RawTable:
    collector = _TableCollector()
    collector.feed(text)
    collector.close()
    numbered = [(n, row) for n, row in enumerate(collector.rows, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise UnreadableExport("an HTML page without a data table, not a survey export")
    return RawTable([row for _, row in numbered], [n for n, _ in numbered], "html")
