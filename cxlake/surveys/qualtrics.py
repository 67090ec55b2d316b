"""Qualtrics CSV exports in each layout Qualtrics has written:

- ``qualtrics-legacy``: two header rows, column ids (``V1..V10`` or ``ResponseID, ResponseSet, ...``)
  then question texts;
- ``qualtrics-2017``: the 2017 "Insights platform" export, three header rows whose third holds a
  Python-repr dict per column (``{'ImportId': 'QID2-1'}``); question ids repeat their question
  (``Q44_Q44_1_1`` is the legacy ``Q44_1_1``), sub-items are joined with a hyphen;
- ``qualtrics-current``: three header rows whose third is JSON (``{"ImportId":"QID2_1"}``), or only
  the first two when the export was made without import ids.

Survey authors rename question ids, so the layout and each column's role are read from what all the
header rows hold, never from one marker: metadata columns are known by their id or import id,
everything else (questions, embedded data) is a question.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cxlake.surveys.records import ParsedExport, ParsedResponse
from cxlake.surveys.table import Header, RawTable, UnreadableExport, row_problem, without_repeated_headers
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
# without import ids, a choice question is known only when it has a text-entry option: its label
# then ends so ("What did you order? - Selected Choice"), beside the "- Other - Text" column
_SELECTED_CHOICE = " - Selected Choice"
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
    """``qualtrics-current`` / ``qualtrics-2017`` / ``qualtrics-legacy`` from the header rows, or None."""
    import_row = _import_id_row(table.rows)
    if import_row is not None:
        json_ids = _import_row_style(table.rows[import_row]) == "json"
        return "qualtrics-current" if json_ids else "qualtrics-2017"
    first = [cell.strip() for cell in table.rows[0]]
    second = [_norm(cell) for cell in table.rows[1]] if len(table.rows) > 1 else []
    if sum(bool(_LEGACY_ID.match(cell)) for cell in first) >= 3:
        return "qualtrics-legacy"
    if "responseset" in second or "responseset" in {_norm(cell) for cell in first}:
        return "qualtrics-legacy"
    roles = {METADATA_ROLES.get(_norm(cell)) for cell in first}
    if "id" in roles and roles & {"start", "end", "recorded"}:
        return "qualtrics-current"
    return None


def parse(table: RawTable, layout: str, zone: ZoneInfo) -> ParsedExport:
    import_row = _import_id_row(table.rows)
    header_rows = 2 if import_row is None else import_row + 1
    if layout == "qualtrics-current" and import_row is None and not _is_label_row(table.rows):
        header_rows = 1  # ids only: the second row already holds a response
    columns = _columns(table.rows[:header_rows], import_row, layout, zone)
    by_role = {column.role: column for column in reversed(columns) if column.role}
    if "id" not in by_role:
        raise UnreadableExport(f"unknown layout: {layout} header without a response id column")
    width = max(len(row) for row in table.rows[:header_rows])
    names = [""] * width  # per field of the header: the column's id, "" for the legacy trailing comma
    for column in columns:
        names[column.index] = column.id
    header = Header.of(names)
    body, warnings = without_repeated_headers(table, header_rows)
    responses = [
        _response(
            row + [""] * (width - len(row)), line, columns, by_role, row_problem(body, row, line, header)
        )
        for row, line in zip(body.rows[header_rows:], body.lines[header_rows:], strict=True)
    ]
    questions = [(column.id, column.text) for column in columns if column.role is None]
    return ParsedExport("qualtrics", layout, responses, questions, [*table.warnings, *warnings])


def _columns(headers: list[list[str]], import_row: int | None, layout: str, zone: ZoneInfo) -> list[_Column]:
    width = max(len(row) for row in headers)
    padded = [[*row, *[""] * (width - len(row))] for row in headers]
    ids = padded[0]
    texts = padded[1] if len(padded) > 1 and import_row != 1 else [""] * width
    imports = padded[import_row] if import_row is not None else [""] * width
    legacy = layout == "qualtrics-legacy"
    columns = []
    for index in range(width):
        column_id, text = ids[index].strip(), texts[index].strip()
        if not column_id and not text:
            continue  # the trailing comma of legacy exports
        meta = _import_meta(imports[index])
        import_id = str(meta.get("ImportId", ""))
        role = _role(column_id, text, import_id, layout)
        if layout == "qualtrics-2017":
            import_id = import_id.replace("-", "_")  # QID2-1 is QID2_1 in the other layouts
            column_id = _legacy_id(column_id) if role is None else column_id
        columns.append(
            _Column(
                index=index,
                id=column_id or text,
                text=text or column_id,
                metadata_key=text if legacy and _LEGACY_ID.match(column_id) else column_id or text,
                role=role,
                zone=zone_for(_zone_name(meta), zone),
                splits_choices=bool(_CHOICE_QUESTION.match(import_id))
                or (import_row is None and text.endswith(_SELECTED_CHOICE)),
            )
        )
    return columns


def _legacy_id(column_id: str) -> str:
    """A 2017 question id with its question repeated in front (``Q44_Q44_1_1``) as the legacy ``Q44_1_1``."""
    head, _, rest = column_id.partition("_")
    return rest if head and rest.startswith(head + "_") else column_id


def _zone_name(meta: dict[str, object]) -> str | None:
    zone = meta.get("timeZone")
    return zone if isinstance(zone, str) else None


def _role(column_id: str, text: str, import_id: str, layout: str) -> str | None:
    if import_id.startswith("QID"):
        return None
    if layout == "qualtrics-legacy" and _LEGACY_ID.match(column_id):
        return METADATA_ROLES.get(_norm(text), "other")
    # 2017 import ids name the panel or location they come from: panel-RecipientEmail
    for name in (column_id, import_id, import_id.rpartition("-")[2]):
        if _norm(name) in METADATA_ROLES:
            return METADATA_ROLES[_norm(name)]
    return "other" if _SYSTEM_FIELD.match(column_id) else None


def _response(
    row: list[str], line: int, columns: list[_Column], by_role: dict[str, _Column], problem: str | None
) -> ParsedResponse:
    """One response; ``problem`` says why the row does not fit its header (it is then read as far as
    it goes, and its status kept as written when it is no status: a shifted row must not fail the file)."""

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
        status=_status(value("status"), problem) if "status" in by_role else "ok",
        ip_address=value("ip"),
        source_row=line,
        metadata=metadata,
        problem=problem,
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


def _status(raw: str, problem: str | None) -> str:
    try:
        return status_of(raw)
    except UnreadableExport:
        if problem is None:
            raise
        return raw.strip()


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


def _import_id_row(rows: list[list[str]]) -> int | None:
    """Which of the second and third rows holds an import-id mapping for its columns, if either.

    A row counts when most of its filled cells parse (as JSON or as a Python literal) to a dict with
    an ImportId: a response never looks like that, a label row never parses.
    """
    for index in (2, 1):
        if len(rows) > index and _import_id_share(rows[index]) >= 0.5:
            return index
    return None


def _import_id_share(row: list[str]) -> float:
    cells = [cell for cell in row if cell.strip()]
    if len(cells) < 2:
        return 0.0
    return sum("ImportId" in _import_meta(cell) for cell in cells) / len(cells)


def _import_row_style(row: list[str]) -> str:
    """``json`` when every import-id cell is JSON (2016+), else ``repr`` (the 2017 single quotes)."""
    cells = [cell.strip() for cell in row if cell.strip().startswith("{")]
    return "json" if all(_json_dict(cell) is not None for cell in cells) else "repr"


def _is_label_row(rows: list[list[str]]) -> bool:
    """Whether the second row of an export without import ids names the columns (``Start Date``,
    ``Response ID``) rather than holding a response: its date cells are no timestamps."""
    if len(rows) < 2:
        return True
    dated = [i for i, cell in enumerate(rows[0]) if METADATA_ROLES.get(_norm(cell)) in ("start", "end")]
    second = rows[1] + [""] * (len(rows[0]) - len(rows[1]))
    return not any(parse_timestamp(second[i], dt.UTC) for i in dated)


_MAX_IMPORT_CELL = 1000  # an import-id cell is a short mapping; never evaluate a long cell


def _import_meta(cell: str) -> dict[str, object]:
    """``{"ImportId":"QID1"}`` (JSON) or ``{'ImportId': 'QID1-1'}`` (2017, a Python literal) as a dict."""
    cell = cell.strip()
    if not cell.startswith("{") or len(cell) > _MAX_IMPORT_CELL:
        return {}
    meta = _json_dict(cell)
    if meta is None:
        try:
            meta = ast.literal_eval(cell)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return {}
    return meta if isinstance(meta, dict) else {}


def _json_dict(cell: str) -> dict[str, object] | None:
    try:
        meta = json.loads(cell)
    except json.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) else None


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
