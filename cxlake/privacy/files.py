"""Erasing a person from the files under the cxlake home: landing deliveries, the invitation outbox,
exports, data docs, anything written as text.

A delimited file is rewritten record by record (see :mod:`cxlake.privacy.records`) in its own
encoding (a BOM stays, GB18030 stays GB18030), delimiter and line ends; a JSON file object by object;
any other text file (HTML, logs, YAML) as text, with the person's name erased file-wide once the file
names their id, phone or e-mail. A binary file (a database, an image) is left to its own owner; the
databases have their own step. Each changed file is written to a temp name beside it and renamed into
place with its old mode, so a reader (the landing sensor, a loader) never sees half a file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cxlake.delivered_files import UndecodableText, decode_bytes, file_checksum
from cxlake.privacy.records import Keys, erased_json, erased_record, is_theirs

DELIMITED = frozenset({".csv", ".tsv", ".txt"})
JSON_SUFFIXES = frozenset({".json"})
JSON_LINES = frozenset({".jsonl", ".ndjson"})
WORKBOOKS = frozenset({".xlsx", ".xlsm"})
ARCHIVES = frozenset({".zip"})
_SNIFF_BYTES = 8192
_DELIMITERS = ",\t;|"


@dataclass(frozen=True)
class FileChange:
    """A file that holds the person: its path, checksums before and after, records changed."""

    path: Path
    records: int
    old_checksum: str
    new_checksum: str
    data: bytes  # the new content (written only when the erasure is applied)


def _encoding_of(data: bytes) -> str:
    """The codec that gives back ``data``'s bytes: the one :func:`decode_bytes` read it with."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _is_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    return b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _delimited(text: str, keys: Keys, suffix: str) -> tuple[str, int]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if suffix == ".tsv" else max(_DELIMITERS, key=first_line.count)
    terminator = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = rows[0] if rows else []
    matcher = keys.person.matcher
    changed = 0
    out = []
    for number, row in enumerate(rows):
        if not (matcher.may_mention("\x1f".join(row)) or keys.linked.intersection(row)):
            out.append(row)
            continue
        new = erased_record(keys, row, header if number else ())
        if new is not None:
            changed += 1
            row = [str(value) for value in new]
        out.append(row)
    if not changed:
        return text, 0
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    writer.writerows(out)
    written = buffer.getvalue()
    if not text.endswith(("\n", "\r")):
        written = written[: -len(terminator)]
    return written, changed


def _json_text(text: str, keys: Keys) -> tuple[str, int]:
    document = json.loads(text)
    new, changed = erased_json(document, keys)
    if not changed:
        return text, 0
    indent = 2 if "\n" in text.strip() else None
    return json.dumps(new, ensure_ascii=False, indent=indent) + ("\n" if text.endswith("\n") else ""), changed


def _json_lines(text: str, keys: Keys) -> tuple[str, int]:
    lines, changed = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            new, count = _json_text(line.rstrip("\r\n"), keys)
            if count:
                line = new + line[len(line.rstrip("\r\n")) :]
                changed += count
        lines.append(line)
    return "".join(lines), changed


def _plain_text(text: str, keys: Keys) -> tuple[str, int]:
    matcher = keys.person.matcher
    theirs = is_theirs(keys, [text]) if matcher.may_mention(text) else False
    lines = text.splitlines(keepends=True)
    changed = 0
    out = []
    for line in lines:
        new = matcher.scrubbed(line, names=theirs)
        if new != line:
            changed += 1
            if not new.endswith(("\n", "\r")) and line.endswith(("\n", "\r")):
                new += line[len(line.rstrip("\r\n")) :]
        out.append(new)
    return "".join(out), changed


def _text_bytes(name: str, data: bytes, keys: Keys) -> tuple[bytes, int] | None:
    """A text file's new bytes (same encoding) and records changed, or None."""
    if _is_binary(data):
        return None
    try:
        text = decode_bytes(data)
    except UndecodableText:
        return None
    if not (keys.person.matcher.may_mention(text) or any(key in text for key in keys.linked)):
        return None
    suffix = Path(name).suffix.lower()
    try:
        if suffix in DELIMITED:
            new_text, records = _delimited(text, keys, suffix)
        elif suffix in JSON_SUFFIXES:
            new_text, records = _json_text(text, keys)
        elif suffix in JSON_LINES:
            new_text, records = _json_lines(text, keys)
        else:
            new_text, records = _plain_text(text, keys)
    except (csv.Error, json.JSONDecodeError):
        new_text, records = _plain_text(text, keys)  # not the format its name says: erase as text
    return (new_text.encode(_encoding_of(data)), records) if records else None


def _workbook_bytes(data: bytes, keys: Keys) -> tuple[bytes, int] | None:
    """An .xlsx workbook's new bytes, sheet by sheet and row by row (the first row names the columns)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    changed = 0
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        header = ["" if cell.value is None else str(cell.value) for cell in rows[0]] if rows else []
        for number, row in enumerate(rows):
            new = erased_record(keys, [cell.value for cell in row], header if number else ())
            if new is None:
                continue
            changed += 1
            for cell, value in zip(row, new, strict=True):
                if value != cell.value:
                    cell.value = value
    if not changed:
        return None
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), changed


def _archive_bytes(data: bytes, keys: Keys) -> tuple[bytes, int] | None:
    """A .zip of deliveries (a Qualtrics download): each member erased by its own name, the archive
    written again with the same names, order and compression."""
    changed = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            erased = None if info.is_dir() else erased_bytes(info.filename, content, keys)
            if erased is not None:
                content, count = erased
                changed += count
            target.writestr(info, content, compress_type=info.compress_type)
    return (buffer.getvalue(), changed) if changed else None


def erased_bytes(name: str, data: bytes, keys: Keys) -> tuple[bytes, int] | None:
    """A file's new bytes once the person is erased and how many records changed; None when it holds
    nothing of them, or is binary (a database, an image) and no workbook or archive."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix in WORKBOOKS:
            return _workbook_bytes(data, keys)
        if suffix in ARCHIVES:
            return _archive_bytes(data, keys)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None  # not what its name says: left as it is (cxlake wrote no such file)
    return _text_bytes(name, data, keys)


def erased_file(path: Path, keys: Keys) -> FileChange | None:
    """What erasing the person does to ``path``: None when it holds nothing of them."""
    data = path.read_bytes()
    erased = erased_bytes(path.name, data, keys)
    if erased is None:
        return None
    new_data, records = erased
    return FileChange(path, records, file_checksum(data), file_checksum(new_data), new_data)


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` over ``path`` atomically (temp name beside it, then rename), keeping its mode."""
    mode = path.stat().st_mode & 0o7777
    temp = path.with_name(f".{path.name}.{os.getpid()}.erasing")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def files_under(home: Path, skip: set[Path]) -> Iterator[Path]:
    """Every regular file under ``home`` but ``skip`` (the databases and their journals), in order."""
    for folder, names, files in os.walk(home):
        names.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.resolve() in skip or path.is_symlink() or not path.is_file():
                continue
            yield path
