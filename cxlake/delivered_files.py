"""Reading delivered text files as they come: encoding detection and CSV records with the
physical line each starts on (a quoted field may span lines, so record number != line number)."""

from __future__ import annotations

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


def decode_text(data: bytes, path: Path | str) -> tuple[str, str]:
    """Decode with strict UTF-8 (BOM or not) first, then GB18030.

    Not the reverse: most UTF-8 Chinese text also decodes as GB18030 without error, into garbage.
    Returns (text, encoding name).
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise DeliveredFileError(path, f"neither UTF-8 nor GB18030 text (byte {error.start})") from None


def file_checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CsvRecords:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # 1-based physical line where each row starts
    encoding: str
    checksum: str


def read_csv_records(path: Path) -> CsvRecords:
    """All records of a delimited text file with a header row, keeping where each starts."""
    data = path.read_bytes()
    text, encoding = decode_text(data, path)
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
    return CsvRecords([h.strip() for h in header], rows, lines, encoding, file_checksum(data))
