"""Reading delivered files as they come: only regular files inside landing/, encoding detection,
and CSV records with the physical line each starts on (a quoted field may span lines, so record
number != line number).

A refused file is never read: its error says its name and what kind of file it is, never its bytes.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path


class DeliveredFileError(ValueError):
    """A delivered file that cannot be read; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class UndecodableText(ValueError):
    """Bytes that are no text in any encoding we accept; the message says why, in one line."""


def decode_bytes(data: bytes) -> str:
    """Decode delivered text: a BOM decides (UTF-8, UTF-16); else strict UTF-8, then GB18030.

    Not the reverse: most UTF-8 Chinese text also decodes as GB18030 without error, into garbage.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as err:
            raise UndecodableText(f"encoding: UTF-8 BOM but invalid UTF-8 at byte {err.start + 3}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UndecodableText("encoding: UTF-16 BOM but invalid UTF-16") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as err:
        raise UndecodableText(f"encoding: neither UTF-8 nor GB18030 (bad byte at {err.start})") from None


def decode_text(data: bytes, path: Path | str) -> str:
    """:func:`decode_bytes`, failing with the file's name."""
    try:
        return decode_bytes(data)
    except UndecodableText as error:
        raise DeliveredFileError(path, str(error)) from None


def file_checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def landing_name(path: Path, landing_root: Path) -> str:
    """The name a delivered file goes by in the audit, quarantine and messages: its path under
    landing/ (``pos/2026-03-02/transactions.csv``), or the path as given when it is elsewhere."""
    try:
        return str(path.relative_to(landing_root))
    except ValueError:
        return str(path)


def json_value_text(value) -> str | None:
    """A JSON field's value as text, as delivered: numbers as written, true/false as JSON spells
    them; null stays missing (the raw layer keeps every field as text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_delivered(path: Path, landing_root: Path) -> bytes:
    """The bytes of a delivered file, refusing anything but a regular file inside ``landing_root``.

    A symbolic link is followed only while it stays inside landing/ (a vendor's link to another
    delivery is still a delivery); one that leaves it, or a FIFO, device or folder under a
    delivered name, is refused unread. The resolved path is opened without following links again
    and checked on the open descriptor, so a link swapped in after the check is refused too.
    """
    real = Path(os.path.realpath(path))
    root = Path(os.path.realpath(landing_root))
    if not real.is_relative_to(root):
        raise DeliveredFileError(path, "a symbolic link that leads outside landing/; refused unread")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(real, flags)
    except OSError as error:
        raise DeliveredFileError(path, f"cannot open ({error.strerror or type(error).__name__})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise DeliveredFileError(path, f"{_kind(mode)}, not a regular file; refused unread")
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    )  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "a special file")


_COLUMN_NAME = re.compile(r"^[\w][\w .()\-]{0,63}$")
MAX_NAMES_SHOWN = 12


def header_summary(cells: list[str]) -> str:
    """The header of a refused file as it may be quoted in an error: its column names when they look
    like column names, else only how many fields it has (never a line of someone's file)."""
    names = [cell.strip() for cell in cells]
    if names and all(_COLUMN_NAME.match(name) for name in names):
        shown = ", ".join(names[:MAX_NAMES_SHOWN])
        return shown + (f", ... ({len(names)} columns)" if len(names) > MAX_NAMES_SHOWN else "")
    return f"{len(names)} field(s) that are not column names"


NUL_STANDIN = "\ufffd"
BYTE_ORDER_MARK = "\ufeff"
# A delivered field longer than this is no value of any column (the suites' longest text rule is far
# shorter): the reader keeps this much, marks the record and the gate quarantines it.
MAX_FIELD_CHARS = 1_000_000


def allow_long_fields(chars: int) -> None:
    """Let the csv module read fields up to ``chars`` (the text's length; 128 KiB by default): a
    long field is judged after reading, with its file, line and column, instead of failing the file.
    The limit is process-wide and only ever raised, so concurrent readers never lower it."""
    if csv.field_size_limit() < chars + 1:
        csv.field_size_limit(chars + 1)


def stray_marks_removed(value: str) -> tuple[str, str | None]:
    """``value`` without byte-order marks, and what was removed. A U+FEFF inside a delivered file is
    where another file was joined on; it is never part of an id or a text."""
    count = value.count(BYTE_ORDER_MARK)
    if not count:
        return value, None
    what = "a byte-order mark (U+FEFF)" if count == 1 else f"{count} byte-order marks (U+FEFF)"
    return value.replace(BYTE_ORDER_MARK, ""), what


@dataclass(frozen=True)
class CsvRecords:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # 1-based physical line where each row starts
    checksum: str
    problems: list[str | None]  # per row: why the record is malformed (field count, NUL, length)
    warnings: list[str] = field(default_factory=list)  # "<line>:<column>: ..." for cells the reader changed


def read_csv_records(path: Path, data: bytes | None = None) -> CsvRecords:
    """All records of a delimited text file with a header row, keeping where each starts.

    ``data`` is the file's bytes when the caller has read them (through :func:`read_delivered`).
    """
    data = path.read_bytes() if data is None else data
    text = decode_text(data, path)
    has_nul = "\x00" in text
    if has_nul:  # the csv module refuses NUL; mark the records that carry one instead of failing the file
        text = text.replace("\x00", NUL_STANDIN)
    allow_long_fields(len(text))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DeliveredFileError(path, "empty file (no header row)") from None
    except csv.Error as error:
        raise DeliveredFileError(path, f"line 1: {error}") from None
    rows: list[list[str]] = []
    lines: list[int] = []
    next_line = reader.line_num + 1
    try:
        for row in reader:
            if row:
                rows.append(row)
                lines.append(next_line)
            next_line = reader.line_num + 1
    except csv.Error as error:
        raise DeliveredFileError(path, f"line {next_line}: {error}") from None
    header = [stray_marks_removed(h)[0].strip() for h in header]
    warnings = _remove_stray_marks(header, rows, lines) if BYTE_ORDER_MARK in text else []
    long_fields = _cut_long_fields(header, rows) if _longest_field(text, rows) > MAX_FIELD_CHARS else {}
    problems = [
        _record_problem(row, len(header), has_nul) or long_fields.get(number)
        for number, row in enumerate(rows)
    ]
    return CsvRecords(header, rows, lines, file_checksum(data), problems, warnings)


def _column(header: list[str], index: int) -> str:
    return header[index] if index < len(header) else f"field {index + 1}"


def _remove_stray_marks(header: list[str], rows: list[list[str]], lines: list[int]) -> list[str]:
    warnings = []
    for row, line in zip(rows, lines, strict=True):
        for index, value in enumerate(row):
            cleaned, removed = stray_marks_removed(value)
            if removed:
                row[index] = cleaned
                warnings.append(
                    f"{line}:{_column(header, index)}: removed {removed} (another file joined on here?)"
                )
    return warnings


def _longest_field(text: str, rows: list[list[str]]) -> int:
    """The longest field's length, skipping the scan when the whole text is shorter than the limit."""
    if len(text) <= MAX_FIELD_CHARS or not rows:
        return 0
    return max(map(len, itertools.chain.from_iterable(rows)), default=0)


def _cut_long_fields(header: list[str], rows: list[list[str]]) -> dict[int, str]:
    """Cut each field longer than MAX_FIELD_CHARS to that length and say so per record: the record
    is quarantined with its first MAX_FIELD_CHARS characters (the full value stays in landing/)."""
    problems = {}
    for number, row in enumerate(rows):
        for index, value in enumerate(row):
            if len(value) > MAX_FIELD_CHARS:
                row[index] = value[:MAX_FIELD_CHARS]
                problems.setdefault(
                    number,
                    f"{_column(header, index)} has {len(value):,} characters, more than the reader keeps "
                    f"({MAX_FIELD_CHARS:,})",
                )
    return problems


def _record_problem(row: list[str], width: int, has_nul: bool) -> str | None:
    if len(row) != width:
        return f"{len(row)} fields where the header has {width}"
    if has_nul and any(NUL_STANDIN in value for value in row):
        return "contains a NUL byte"
    return None


def delimiter_hint(header: list[str]) -> str:
    """A hint for a header that came out as one field: the file likely uses another delimiter."""
    if len(header) == 1:
        for delimiter, name in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
            if delimiter in header[0]:
                return f"; the file seems to use {name} as delimiter, not ','"
    return ""
