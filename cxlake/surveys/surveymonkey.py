"""SurveyMonkey "expanded" exports: two header rows, one column per answer option.

Row 1 holds the response metadata names (``RespondentID, CollectorID, StartDate, EndDate, IP Address,
Email Address, First Name, LastName, Custom Data`` in older exports, ``Respondent ID, ..., Custom Data
1`` in newer ones) and each question's text above its first column only; row 2 says what each
column holds: ``Response`` / ``Open-Ended Response`` for a one-column question, else the option or
matrix-row label (padded with spaces, sometimes with ``<br>``; older exports put NUL bytes under the
metadata). A multi-select column holds its option label when chosen, so those columns become one
question with one answer per chosen option; a column whose values are not its label (a matrix row's
rating, "Other (please specify)") is a question of its own. The export carries no question ids:
questions are numbered ``Q1, Q2, ...`` in column order and sub-columns ``Q5_1, Q5_2, ...``.
Custom Data columns (what a collector link carried, such as a store code) are also answers, to
questions ``custom_data_1, custom_data_2, ...`` (an older export's one ``Custom Data`` is
``custom_data_1``), so a survey's mapping can name them as it names a Qualtrics embedded field.
Times (``MM/DD/YYYY HH:MM:SS``) are the account's wall-clock time: the source's zone applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cxlake.surveys.records import ParsedExport, ParsedResponse
from cxlake.surveys.table import Header, RawTable, UnreadableExport, row_problem, without_repeated_headers
from cxlake.surveys.timestamps import iso, parse_timestamp

# normalised name (lowercase letters and digits) -> role of a metadata column
METADATA_ROLES = {
    "respondentid": "id",
    "collectorid": "other",
    "startdate": "start",
    "enddate": "end",
    "ipaddress": "ip",
    "emailaddress": "other",
    "firstname": "other",
    "lastname": "other",
}
_CUSTOM_DATA = re.compile(r"^customdata(?P<number>\d*)$")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_ONE_COLUMN_LABELS = {"response", "openendedresponse"}
_LAYOUT = "surveymonkey-expanded"


@dataclass(frozen=True)
class _Question:
    question_id: str
    text: str
    indexes: tuple[int, ...]
    options: tuple[str, ...] = ()  # one label per index for a multi-select


def clean(cell: str) -> str:
    """A cell as meant: no NUL bytes, ``<br>`` and non-breaking spaces as spaces, whitespace single."""
    text = _BREAK.sub(" ", cell.replace("\x00", "")).replace("\xa0", " ")
    return " ".join(text.split())


def clean_value(cell: str) -> str:
    """An answer or metadata value: NUL bytes gone, non-breaking spaces as spaces, line breaks kept."""
    return cell.replace("\x00", "").replace("\xa0", " ").strip()


def detect_layout(table: RawTable) -> str | None:
    """``surveymonkey-expanded`` when row 1 names a respondent id, a collector id and a date."""
    roles = {_role(clean(cell)) for cell in table.rows[0]}
    return _LAYOUT if {"id", "start"} <= roles and len(table.rows) > 1 and _has_collector(table) else None


def _has_collector(table: RawTable) -> bool:
    return any(_norm(clean(cell)) == "collectorid" for cell in table.rows[0])


def parse(table: RawTable, layout: str, zone: ZoneInfo) -> ParsedExport:
    width = max(len(row) for row in table.rows[:2])
    first = [clean(cell) for cell in [*table.rows[0], *[""] * (width - len(table.rows[0]))]]
    second = [clean(cell) for cell in [*table.rows[1], *[""] * (width - len(table.rows[1]))]]
    meta = {i: role for i, name in enumerate(first) if (role := _role(name))}
    by_role = {role: i for i, role in reversed(list(meta.items())) if role != "other"}
    if "id" not in by_role:
        raise UnreadableExport("unknown layout: SurveyMonkey header without a RespondentID column")
    warnings = _header_warnings(table)
    header_rows = 2
    if _is_response(second, by_role, zone):  # the label row was deleted (or never written)
        header_rows, second = 1, [""] * width
        warnings.append(
            f"line {table.lines[1]}: a response, not the row of option labels; read with one header row "
            "(a multi-select's option columns are then one question each)"
        )
    body, skipped = without_repeated_headers(table, header_rows)
    rows = [row + [""] * (width - len(row)) for row in body.rows[header_rows:]]
    questions = _questions(first, second, rows, set(meta))
    custom = {i: custom_id for i in meta if (custom_id := custom_data_question(first[i]))}
    names = [""] * width
    for i in meta:
        names[i] = first[i]
    for question in questions:
        for i in question.indexes:
            names[i] = question.question_id
    shape = Header.of(names)
    responses = []
    for delivered, row, line in zip(body.rows[header_rows:], rows, body.lines[header_rows:], strict=True):
        started = parse_timestamp(clean(row[by_role["start"]]), zone) if "start" in by_role else None
        ended = parse_timestamp(clean(row[by_role["end"]]), zone) if "end" in by_role else None
        response = ParsedResponse(
            response_id=clean_value(row[by_role["id"]]),
            submitted_at=iso(ended),
            started_at=iso(started),
            duration_seconds=(ended - started).total_seconds() if started and ended else None,
            status="ok",  # the expanded export holds no preview/test flag
            ip_address=clean_value(row[by_role["ip"]]) if "ip" in by_role else "",
            source_row=line,
            metadata={first[i]: clean_value(row[i]) for i in meta},
            problem=row_problem(body, delivered, line, shape),
        )
        for i, question_id in custom.items():
            if value := clean_value(row[i]):
                response.answers.append((question_id, first[i], value))
        for question in questions:
            response.answers.extend(_answers(question, row))
        responses.append(response)
    listed = [(question.question_id, question.text) for question in questions]
    listed += [(question_id, first[i]) for i, question_id in custom.items()]
    return ParsedExport("surveymonkey", layout, responses, listed, [*table.warnings, *warnings, *skipped])


def _is_response(second: list[str], by_role: dict[str, int], zone: ZoneInfo) -> bool:
    """Whether the second row holds a response: a respondent id and a start or end time, where the
    label row has nothing (or NUL bytes) under the metadata."""
    dated = [by_role[role] for role in ("start", "end") if role in by_role]
    return bool(second[by_role["id"]]) and any(parse_timestamp(second[i], zone) for i in dated)


def _questions(first: list[str], second: list[str], rows: list[list[str]], meta: set[int]) -> list[_Question]:
    """Questions in column order: each text in row 1 starts one, the unnamed columns after it are its."""
    groups: list[tuple[str, list[int]]] = []
    for index, text in enumerate(first):
        if index in meta:
            continue
        if text:
            groups.append((text, [index]))
        elif groups:
            groups[-1][1].append(index)
        elif second[index]:
            raise UnreadableExport(f"column {index + 1} has an option label but no question before it")
    # a "numerical value" export writes a chosen option's position instead of its label; told apart
    # by the file: an export whose option columns never hold their own label
    numeric = not any(
        _is_flag_column(rows, i, second[i]) and any(clean(row[i]) for row in rows)
        for _, indexes in groups
        for i in indexes
        if len(indexes) > 1
    )
    questions: list[_Question] = []
    for number, (text, indexes) in enumerate(groups, start=1):
        if len(indexes) == 1 and _norm(second[indexes[0]]) in _ONE_COLUMN_LABELS | {""}:
            questions.append(_Question(f"Q{number}", text, (indexes[0],)))
            continue
        flags = [i for i in indexes if _is_flag_column(rows, i, second[i])]
        if numeric and (positions := _position_flags(rows, indexes)):
            flags = positions
        answered = [i for i in flags if any(clean(row[i]) for row in rows)]
        rated = [i for i in indexes if i not in flags]
        # a column nobody answered is an option when the question has chosen options or no other kind
        options = tuple(flags) if answered or not rated else tuple(answered)
        if options:
            labels = tuple(second[i] for i in options)
            questions.append(_Question(f"Q{number}", text, options, labels))
        for position, i in enumerate(indexes, start=1):
            if i not in options:
                questions.append(_Question(f"Q{number}_{position}", f"{text} - {second[i]}", (i,)))
    return questions


def _is_flag_column(rows: list[list[str]], index: int, label: str) -> bool:
    """Whether every value in the column is its own label: a multi-select option, chosen or not."""
    return bool(label) and all(clean(row[index]) in ("", label) for row in rows)


def _position_flags(rows: list[list[str]], indexes: list[int]) -> list[int]:
    """The option columns of a multi-select in a "numerical value" export, or [] when ``indexes`` are
    no such question. There each option's column holds its position (1, 2, ...) when chosen, so a
    column holding only its own position, empty or not, is an option; an "Other (please specify)"
    column holds text. A matrix row holds ratings, so it is taken for a multi-select only when every
    row anyone answered was rated with that row's own position by everyone (row 1 as 1, row 2 as 2):
    a day's file where one option of a multi-select was chosen is far more common than that."""
    numeric = [
        (position, i)
        for position, i in enumerate(indexes, start=1)
        if all(clean(row[i]).isdigit() or not clean(row[i]) for row in rows)
    ]
    fits = [i for position, i in numeric if all(clean(row[i]) in ("", str(position)) for row in rows)]
    answered = any(clean(row[i]) for row in rows for i in fits)
    return fits if len(numeric) >= 2 and len(fits) == len(numeric) and answered else []


def _answers(question: _Question, row: list[str]) -> list[tuple[str, str, str]]:
    if question.options:
        chosen = [label for label, i in zip(question.options, question.indexes, strict=True) if clean(row[i])]
        return [(question.question_id, question.text, label) for label in chosen]
    value = clean_value(row[question.indexes[0]])
    return [(question.question_id, question.text, value)] if value else []


def _header_warnings(table: RawTable) -> list[str]:
    warnings = []
    for row, line in zip(table.rows[:2], table.lines[:2], strict=False):
        nuls = sum(cell.count("\x00") for cell in row)
        if nuls:
            warnings.append(f"line {line}: removed {nuls} NUL byte(s) from the header")
    return warnings


def custom_data_question(name: str) -> str | None:
    """``custom_data_<n>`` for a Custom Data column (``Custom Data`` alone is the first), else None."""
    match = _CUSTOM_DATA.match(_norm(name))
    return f"custom_data_{match.group('number') or 1}" if match else None


def _role(name: str) -> str | None:
    norm = _norm(name)
    if norm in METADATA_ROLES:
        return METADATA_ROLES[norm]
    return "other" if _CUSTOM_DATA.match(norm) else None


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
