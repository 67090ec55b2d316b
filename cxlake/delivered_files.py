"""Reading delivered text files as they come: encoding detection and CSV records with the
physical line each starts on (a quoted field may span lines, so record number != line number)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass
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


NUL_STANDIN = "\ufffd"
# Python's csv refuses fields over 128 KiB; a delivery's long text is the gate's to judge, not a crash.
MAX_FIELD_CHARS = 64 * 1024 * 1024


def allow_long_fields() -> None:
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass(frozen=True)
class CsvRecords:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # 1-based physical line where each row starts
    checksum: str
    problems: list[str | None]  # per row: why the record is malformed (field count, NUL), else None


def read_csv_records(path: Path) -> CsvRecords:
    """All records of a delimited text file with a header row, keeping where each starts."""
    data = path.read_bytes()
    text = decode_text(data, path)
    has_nul = "\x00" in text
    if has_nul:  # the csv module refuses NUL; mark the records that carry one instead of failing the file
        text = text.replace("\x00", NUL_STANDIN)
    allow_long_fields()
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
    header = [h.strip() for h in header]
    problems = [_record_problem(row, len(header), has_nul) for row in rows]
    return CsvRecords(header, rows, lines, file_checksum(data), problems)


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
