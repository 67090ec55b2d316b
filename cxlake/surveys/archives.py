"""Zipped survey downloads: the survey file(s) inside a .zip, as one table.

Qualtrics and SurveyMonkey hand out their exports as a .zip; 腾讯问卷's "答题编码" download zips the
CSV with SPSS syntax files. An .xlsx workbook is a zip too, so a zip is an archive only when it is
not a workbook. What is inside is read like a delivered file; files that are no survey export by
their name (SPSS syntax, a README, macOS resource forks) are left unread and named in a warning.
Older SurveyMonkey exports split wide surveys at 256 columns into ``Sheet_1.csv``, ``Sheet_2.csv``,
...: those parts are joined side by side back into one table, row for row. 腾讯问卷 names the files
of a download cut into segments ``<survey id>_seg_1.csv``, ``_seg_2.csv``, ...: segments holding the
same header are stacked back into one table, in segment order.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from cxlake.surveys.table import RawTable, UnreadableExport, read_table

SURVEY_SUFFIXES = (".csv", ".tsv", ".xls", ".xlsx", ".htm", ".html")
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a survey file larger than this unpacked is no export: a zip bomb
_SHEET_PART = re.compile(r"^sheet_(\d+)\.csv$", re.IGNORECASE)
_SEGMENT = re.compile(r"^(.+)_seg_(\d+)\.(csv|xlsx?)$", re.IGNORECASE)
_WORKBOOK_PART = "xl/workbook.xml"


@dataclass(frozen=True)
class ArchiveTable:
    table: RawTable
    members: tuple[str, ...]  # the survey files read, in the order joined
    warnings: list[str]  # "<member>: ..." about what was left unread or changed


def is_archive(data: bytes) -> bool:
    """A zip that is not an .xlsx workbook (which is a zip holding ``xl/workbook.xml``)."""
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a member first, or an empty zip
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _WORKBOOK_PART not in archive.namelist()
    except zipfile.BadZipFile:
        return False  # read_table says what is wrong with it


def read_archive(data: bytes) -> ArchiveTable:
    """The one survey table the archive holds (SurveyMonkey's ``Sheet_N.csv`` parts joined)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise UnreadableExport(f"a damaged zip archive ({err})") from None
    with archive:
        files = [_named(info) for info in archive.infolist() if not info.is_dir()]
        surveys = [info for info in files if _is_survey_name(info.filename)]
        skipped = [info.filename for info in files if info not in surveys]
        warnings = [f"{name}: not a survey export by its name; left unread" for name in skipped]
        if not surveys:
            listed = ", ".join(info.filename for info in files[:5]) or "nothing"
            raise UnreadableExport(f"a zip archive holding no survey export (it holds {listed})")
        parts = _sheet_parts([info.filename for info in surveys])
        tables = [(info.filename, _member_table(archive, info, parts is not None)) for info in surveys]
    if parts is not None:
        by_name = dict(tables)
        ordered = [(name, by_name[name]) for name in parts]
        return ArchiveTable(_joined_side_by_side(ordered), tuple(parts), warnings + _member_warnings(ordered))
    segments = _segments([name for name, _ in tables])
    if segments is not None:
        by_name = dict(tables)
        ordered = [(name, by_name[name]) for name in segments]
        return ArchiveTable(_stacked(ordered), tuple(segments), warnings + _member_warnings(ordered))
    if len(tables) > 1:
        names = ", ".join(name for name, _ in tables)
        raise UnreadableExport(
            f"a zip archive holding {len(tables)} survey files ({names}); deliver one export per zip"
        )
    name, table = tables[0]
    return ArchiveTable(table, (name,), warnings + _member_warnings(tables))


def _named(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """``info`` with its name as its maker wrote it. A name without the zip's UTF-8 flag is read as
    code page 437 by the standard, but Windows in Chinese writes GBK there (``问卷_seg_1.csv``) and
    some tools UTF-8 without setting the flag: such a name is decoded again, so messages name the
    file as its owner sees it. Only the name shown changes; the member is still found by the
    name in the archive."""
    if info.flag_bits & 0x800:
        return info
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info
    for encoding in ("utf-8", "gb18030"):
        try:
            info.filename = raw.decode(encoding)
            return info
        except UnicodeDecodeError:
            continue
    return info


def _is_survey_name(name: str) -> bool:
    path = PurePosixPath(name)
    if "__MACOSX" in path.parts or path.name.startswith("._"):
        return False
    return path.suffix.lower() in SURVEY_SUFFIXES


def _member_table(archive: zipfile.ZipFile, info: zipfile.ZipInfo, part: bool) -> RawTable:
    if info.flag_bits & 0x1:
        raise UnreadableExport(f"{info.filename}: encrypted inside the zip; download it without a password")
    if info.file_size > MAX_MEMBER_BYTES:
        raise UnreadableExport(
            f"{info.filename}: {info.file_size:,} bytes unpacked, more than a survey export "
            f"({MAX_MEMBER_BYTES:,})"
        )
    try:
        with archive.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, OSError) as err:
        raise UnreadableExport(f"{info.filename}: cannot unpack ({err})") from None
    if len(data) > MAX_MEMBER_BYTES:  # the directory lied about the size
        raise UnreadableExport(f"{info.filename}: more than {MAX_MEMBER_BYTES:,} bytes unpacked")
    try:
        return read_table(data, keep_blank_rows=part)
    except UnreadableExport as err:
        raise UnreadableExport(f"{info.filename}: {err}") from None


def _sheet_parts(names: list[str]) -> list[str] | None:
    """``Sheet_1.csv, Sheet_2.csv, ...`` (any folder, numbered from 1 without a gap) in order, or None."""
    numbered = {}
    for name in names:
        match = _SHEET_PART.match(PurePosixPath(name).name)
        if not match:
            return None
        numbered[int(match.group(1))] = name
    if len(numbered) < 2 or sorted(numbered) != list(range(1, len(numbered) + 1)):
        return None
    return [numbered[number] for number in sorted(numbered)]


def _segments(names: list[str]) -> list[str] | None:
    """``<id>_seg_1.csv, <id>_seg_2.csv, ...`` (one survey id, numbered from 1 without a gap) in
    order, or None."""
    numbered: dict[int, str] = {}
    stems = set()
    for name in names:
        match = _SEGMENT.match(PurePosixPath(name).name)
        if not match:
            return None
        stems.add(match.group(1).lower())
        numbered[int(match.group(2))] = name
    if len(numbered) < 2 or len(stems) != 1 or sorted(numbered) != list(range(1, len(numbered) + 1)):
        return None
    return [numbered[number] for number in sorted(numbered)]


def _stacked(parts: list[tuple[str, RawTable]]) -> RawTable:
    """The segments' rows one after another under the first segment's header. Each later segment
    must start with the same header row (else it is another survey's file, not a segment); a row's
    line is counted as if the segments were one file, so each response keeps its own line."""
    first_name, first = parts[0]
    header = [cell.strip() for cell in first.rows[0]]
    rows, lines, cut = [list(row) for row in first.rows], list(first.lines), dict(first.cut_fields)
    offset = max(first.lines)
    for name, table in parts[1:]:
        if [cell.strip() for cell in table.rows[0]] != header:
            raise UnreadableExport(
                f"{name} has another header than {first_name}; the segments of a download share one"
            )
        rows.extend(list(row) for row in table.rows[1:])
        lines.extend(offset + line for line in table.lines[1:])
        cut.update({offset + line: field for line, field in table.cut_fields.items()})
        offset += max(table.lines)
    return RawTable(rows, lines, first.container, [], cut)


def _joined_side_by_side(parts: list[tuple[str, RawTable]]) -> RawTable:
    """The parts' columns one after another, row for row; each part must have the first's rows
    (blank rows included: a response may have answered nothing in a part). Rows blank in every part
    are dropped afterwards, as a single file's are.

    A later part that starts with the first part's leading columns again (the respondent id and its
    metadata, repeated so each sheet stands alone) gives only its other columns, after checking
    that its respondent ids are the first part's in the same order.
    """
    first_name, first = parts[0]
    rows = [list(row) for row in first.rows]
    for name, table in parts[1:]:
        if len(table.rows) != len(first.rows):
            raise UnreadableExport(
                f"{name} has {len(table.rows)} rows where {first_name} has {len(first.rows)}; "
                "the parts of a split export must hold the same responses"
            )
        repeated = _repeated_lead(first.rows[0], table.rows[0])
        if repeated and [r[:1] for r in table.rows] != [r[:1] for r in first.rows]:
            raise UnreadableExport(f"{name} holds other respondents (or another order) than {first_name}")
        width = max(len(row) for row in rows)
        for row, part_row in zip(rows, table.rows, strict=True):
            row.extend([""] * (width - len(row)))
            row.extend(part_row[repeated:])
    kept = [(row, line) for row, line in zip(rows, first.lines, strict=True) if any(c.strip() for c in row)]
    kept_rows, kept_lines = [row for row, _ in kept], [line for _, line in kept]
    return RawTable(kept_rows, kept_lines, first.container, [], first.cut_fields)


def _repeated_lead(first_header: list[str], header: list[str]) -> int:
    """How many leading header cells ``header`` repeats from ``first_header`` (0 when it starts anew)."""
    count = 0
    for mine, theirs in zip(first_header, header, strict=False):
        if not mine.strip() or mine.strip() != theirs.strip():
            break
        count += 1
    return count


def _member_warnings(tables: list[tuple[str, RawTable]]) -> list[str]:
    return [f"{name}: {warning}" for name, table in tables for warning in table.warnings]
