"""Qualtrics CSV exports, current (three header rows) and legacy (``V1..V10`` ids) layouts.

Qualtrics has changed its layouts over the years and survey authors rename question ids, so the
layout and each column's role are read from what the header rows hold: metadata columns are known
by their id or import id, everything else (questions, embedded data) is a question.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cxlake.surveys.records import ParsedExport, ParsedResponse
from cxlake.surveys.table import RawTable, UnreadableExport
from cxlake.surveys.timestamps import iso, parse_duration, parse_timestamp, zone_for

# normalised column id (lowercase letters and digits only) -> role of a response-metadata column
METADATA_ROLES = {
    "startdate": "start",
    "enddate": "end",
    "recordeddate": "recorded",
    "status": "status",
    "responsetype": "status",
    "ipaddress": "ip",
    "progress": "progress",
    "durationinseconds": "duration",
    "duration": "duration",
    "finished": "finished",
    "responseid": "id",
    "recordid": "id",
    "responseset": "other",
    "name": "other",
    "emailaddress": "other",
    "externaldatareference": "other",
    "externalreference": "other",
    "recipientlastname": "other",
    "recipientfirstname": "other",
    "recipientemail": "other",
    "locationlatitude": "other",
    "locationlongitude": "other",
    "locationaccuracy": "other",
    "distributionchannel": "other",
    "userlanguage": "other",
}
_SYSTEM_FIELD = re.compile(r"^Q_[A-Za-z]")  # Q_RecaptchaScore, Q_TotalDuration, Q_URL ...
_LEGACY_ID = re.compile(r"^V\d+$")
_CHOICE_QUESTION = re.compile(r"^QID\d+$")  # not _TEXT, _NPS_GROUP or a matrix row
_MULTI_SEPARATOR = re.compile(r",(?! )")  # choice texts are joined without a space; prose has one
STATUS_CODES = {
    "0": "ok", "1": "preview", "2": "test", "4": "imported", "8": "spam",
    "9": "spam", "12": "spam", "16": "offline", "17": "preview",
}  # fmt: skip
# for a status given as text, the first keyword found wins (spam before preview: "preview spam" is spam)
_STATUS_KEYWORDS = (
    ("spam", "spam"), ("垃圾", "spam"), ("preview", "preview"), ("预览", "preview"), ("test", "test"),
    ("测试", "test"), ("import", "imported"), ("导入", "imported"), ("offline", "offline"),
    ("离线", "offline"), ("ip", "ok"), ("anonymous", "ok"), ("匿名", "ok"),
)  # fmt: skip


@dataclass(frozen=True)
class _Column:
    index: int
    id: str
    text: str
    metadata_key: str  # key in the response's metadata JSON: the id, or the text for legacy V1..V10
    role: str | None  # a METADATA_ROLES value, or None for a question
    zone: dt.tzinfo
    splits_choices: bool


def detect_layout(table: RawTable) -> str | None:
    """``qualtrics-current`` / ``qualtrics-legacy`` from the header rows, or None."""
    rows = table.rows
    if len(rows) >= 3 and _import_id_share(rows[2]) >= 0.5:
        return "qualtrics-current"
    first = [cell.strip() for cell in rows[0]]
    second = [_norm(cell) for cell in rows[1]] if len(rows) > 1 else []
    if sum(bool(_LEGACY_ID.match(cell)) for cell in first) >= 3 or "responseset" in second:
        return "qualtrics-legacy"
    roles = {METADATA_ROLES.get(_norm(cell)) for cell in first}
    if "id" in roles and roles & {"start", "end", "recorded"}:
        return "qualtrics-current"
    return None


def parse(table: RawTable, layout: str, zone: ZoneInfo) -> ParsedExport:
    has_import_ids = len(table.rows) > 2 and _import_id_share(table.rows[2]) >= 0.5
    header_rows = 3 if layout == "qualtrics-current" and has_import_ids else 2
    columns = _columns(table.rows[:header_rows], layout, zone)
    by_role = {column.role: column for column in reversed(columns) if column.role}
    if "id" not in by_role:
        raise UnreadableExport(f"unknown layout: {layout} header without a response id column")
    width = max(len(row) for row in table.rows[:header_rows])
    responses = [
        _response(row + [""] * (width - len(row)), line, columns, by_role)
        for row, line in zip(table.rows[header_rows:], table.lines[header_rows:], strict=True)
    ]
    questions = [(column.id, column.text) for column in columns if column.role is None]
    return ParsedExport("qualtrics", layout, responses, questions)


def _columns(headers: list[list[str]], layout: str, zone: ZoneInfo) -> list[_Column]:
    width = max(len(row) for row in headers)
    ids, texts, imports = ([*row, *[""] * (width - len(row))] for row in (headers + [[], []])[:3])
    legacy = layout == "qualtrics-legacy"
    columns = []
    for index in range(width):
        column_id, text = ids[index].strip(), texts[index].strip()
        if not column_id and not text:
            continue  # the trailing comma of legacy exports
        meta = _import_meta(imports[index])
        import_id = str(meta.get("ImportId", ""))
        columns.append(
            _Column(
                index=index,
                id=column_id or text,
                text=text or column_id,
                metadata_key=text if legacy and _LEGACY_ID.match(column_id) else column_id or text,
                role=_role(column_id, text, import_id, layout),
                zone=zone_for(meta.get("timeZone"), zone),
                splits_choices=bool(_CHOICE_QUESTION.match(import_id)),
            )
        )
    return columns


def _role(column_id: str, text: str, import_id: str, layout: str) -> str | None:
    if import_id.startswith("QID"):
        return None
    if layout == "qualtrics-legacy" and _LEGACY_ID.match(column_id):
        return METADATA_ROLES.get(_norm(text), "other")
    for name in (column_id, import_id):
        if _norm(name) in METADATA_ROLES:
            return METADATA_ROLES[_norm(name)]
    return "other" if _SYSTEM_FIELD.match(column_id) else None


def _response(
    row: list[str], line: int, columns: list[_Column], by_role: dict[str, _Column]
) -> ParsedResponse:
    def value(role: str) -> str:
        return row[by_role[role].index].strip() if role in by_role else ""

    def moment(role: str) -> dt.datetime | None:
        return parse_timestamp(value(role), by_role[role].zone) if role in by_role else None

    started, ended = moment("start"), moment("end")
    submitted = moment("recorded") or ended
    duration = parse_duration(value("duration"))
    if duration is None and started and ended:
        duration = (ended - started).total_seconds()
    metadata = {c.metadata_key: row[c.index] for c in columns if c.role}
    response = ParsedResponse(
        response_id=value("id"),
        submitted_at=iso(submitted),
        started_at=iso(started),
        duration_seconds=duration,
        status=status_of(value("status")) if "status" in by_role else "ok",
        ip_address=value("ip"),
        source_row=line,
        metadata=metadata,
    )
    for column in columns:
        if column.role is None:
            response.answers.extend(_answers(column, row[column.index].strip()))
    return response


def _answers(column: _Column, cell: str) -> list[tuple[str, str, str]]:
    if not cell:
        return []
    choices = _MULTI_SEPARATOR.split(cell) if column.splits_choices else [cell]
    return [(column.id, column.text, choice.strip()) for choice in choices if choice.strip()]


def status_of(raw: str) -> str:
    """A Qualtrics status, given as a code or as text, as one of the cxlake statuses."""
    text = raw.strip()
    if text in STATUS_CODES:
        return STATUS_CODES[text]
    lowered = text.lower()
    for keyword, status in _STATUS_KEYWORDS:
        if keyword in lowered:
            return status
    raise UnreadableExport(f"unknown response status {raw!r}")


def _import_id_share(row: list[str]) -> float:
    cells = [cell for cell in row if cell.strip()]
    return sum("ImportId" in _import_meta(cell) for cell in cells) / len(cells) if cells else 0.0


def _import_meta(cell: str) -> dict[str, object]:
    cell = cell.strip()
    if not cell.startswith("{"):
        return {}
    try:
        meta = json.loads(cell)
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
