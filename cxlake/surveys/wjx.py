"""问卷星 (wjx.cn) downloads: "answers as text" (按文本) and "answers as option numbers" (按序号).

Questions are the columns numbered by the tool (``3、text``); sub-columns ``第9题(咖啡)`` or ``7(口味)``
are the options of a multi-select (0/1 in the numeric download) or the rows of a matrix. Every other
column is response metadata. Timestamps carry no zone: the source's configured zone applies.

A survey made in 问卷星's English interface downloads with English metadata names (``No.``, ``Submit
Time``, ``Time Taken``, ``Source``, ``Source Details``, ``IP``) and ``Q9(Coffee)`` sub-columns; they
play the same roles. In the numeric download an NPS question (a 0-10 scale) gives the option's
position, 1-11: :func:`nps_from_option_numbers` turns it back into the score for the questions a
mapping names as NPS.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cxlake.surveys.records import ParsedExport, ParsedResponse
from cxlake.surveys.table import Header, RawTable, UnreadableExport, row_problem, without_repeated_headers
from cxlake.surveys.timestamps import iso, parse_duration, parse_timestamp

_QUESTION = re.compile(r"^(\d+)[、.．:：]\s*(.*)$", re.DOTALL)
_SUB_COLUMN = re.compile(r"^(?:第(\d+)题|[Qq]?(\d+))\s*[(（](.*)[)）]\s*$", re.DOTALL)
_TEXT_SEPARATOR = "┋"  # the text download joins a multi-select's options with it
_SKIPPED = {"", "(跳过)", "（跳过）", "(空)", "（空）", "(skip)", "(skipped)", "(empty)"}
_NUMERIC_SKIPPED = {"-3", "-2"}  # numeric download: -3 skipped by logic, -2 not shown
_OPTION_FLAGS = {"0", "1"} | _NUMERIC_SKIPPED | {""}
_ID_COLUMNS = ("序号", "答卷编号", "编号", "no.", "no", "serial no.", "id")
_SUBMITTED_COLUMNS = (
    "提交答卷时间",
    "提交时间",
    "答卷时间",
    "submit time",
    "submission time",
    "time submitted",
)
_DURATION_COLUMNS = ("所用时间", "答题时长", "time taken", "time spent", "duration")
_IP_COLUMNS = ("来自IP", "ip", "source ip", "from ip")
# 腾讯问卷 also numbers its questions "N." and has 编号, but times the answer instead of the submission
_TENCENT_TIMES = ("开始答题时间", "结束答题时间")
_NPS_OPTIONS = {str(number): str(number - 1) for number in range(1, 12)}  # option 1..11 -> score 0..10
_IP = re.compile(r"^\s*([^\s(（]+)")


@dataclass(frozen=True)
class _Question:
    question_id: str
    text: str
    indexes: tuple[int, ...]  # one column, or one per option of a 0/1-expanded multi-select
    options: tuple[str, ...] = ()


def detect_layout(table: RawTable) -> str | None:
    """``wjx-text`` / ``wjx-numeric`` from the header row and the option columns, or None."""
    header = table.rows[0]
    numbered = [cell for cell in header if _QUESTION.match(cell.strip()) or _SUB_COLUMN.match(cell.strip())]
    names = {_key(cell) for cell in header}
    if not numbered or not names & {_key(name) for name in _ID_COLUMNS + _SUBMITTED_COLUMNS}:
        return None
    if names & set(_TENCENT_TIMES) and not names & {_key(name) for name in _SUBMITTED_COLUMNS}:
        return None
    body = [row + [""] * (len(header) - len(row)) for row in table.rows[1:]]
    question_cells = {row[i].strip() for row in body for i, cell in enumerate(header) if cell in numbered}
    option_groups = [g for g in _sub_groups(header).values() if _is_option_group(body, g)]
    if question_cells & _NUMERIC_SKIPPED or option_groups:
        return "wjx-numeric"
    return "wjx-text"


def parse(table: RawTable, layout: str, zone: ZoneInfo) -> ParsedExport:
    header = [cell.strip() for cell in table.rows[0]]
    table, skipped = without_repeated_headers(table, 1)
    body = [row + [""] * (len(header) - len(row)) for row in table.rows[1:]]
    # an unnamed column between named ones is a broken header (merged cells); a value right of the
    # last named column is one row's problem (row_problem), quarantined with that row
    shape = Header.of(header)
    unnamed = [i + 1 for i in shape.unnamed if i < shape.named_width and any(row[i].strip() for row in body)]
    if unnamed:
        columns = ", ".join(str(i) for i in unnamed[:5])
        raise UnreadableExport(
            f"column(s) {columns} hold answers but have no header (merged header cells? "
            "download the answers with a single header row)"
        )
    id_index = _first_index(header, _ID_COLUMNS)
    if id_index is None:
        raise UnreadableExport("unknown layout: 问卷星 header without a 序号 column")
    questions = _questions(header, body, numeric=layout == "wjx-numeric")
    asked = {i for question in questions for i in question.indexes}
    submitted_index = _first_index(header, _SUBMITTED_COLUMNS)
    responses = []
    for delivered, row, line in zip(table.rows[1:], body, table.lines[1:], strict=True):
        submitted = parse_timestamp(row[submitted_index], zone) if submitted_index is not None else None
        duration = parse_duration(_cell(row, header, _DURATION_COLUMNS))
        started = submitted - dt.timedelta(seconds=duration) if submitted and duration is not None else None
        ip_match = _IP.match(_cell(row, header, _IP_COLUMNS))
        response = ParsedResponse(
            response_id=row[id_index].strip(),
            submitted_at=iso(submitted),
            started_at=iso(started),
            duration_seconds=duration,
            status="ok",  # 问卷星 has no preview/test flag in its downloads
            ip_address=ip_match.group(1) if ip_match else "",
            source_row=line,
            metadata={name: row[i] for i, name in enumerate(header) if i not in asked and name},
            problem=row_problem(table, delivered, line, shape),
        )
        for question in questions:
            response.answers.extend(_answers(question, row, numeric=layout == "wjx-numeric"))
        responses.append(response)
    listed = [(question.question_id, question.text) for question in questions]
    return ParsedExport("wjx", layout, responses, listed, [*table.warnings, *skipped])


def _questions(header: list[str], body: list[list[str]], numeric: bool) -> list[_Question]:
    """Questions in column order; a matrix's rows become ``Q7_1``, ``Q7_2`` ... in their own order."""
    groups = _sub_groups(header)
    questions: list[_Question] = []
    for index, name in enumerate(header):
        if match := _QUESTION.match(name):
            questions.append(_Question(f"Q{match.group(1)}", match.group(2).strip(), (index,)))
            continue
        match = _SUB_COLUMN.match(name)
        if not match:
            continue
        number = match.group(1) or match.group(2)
        group = groups[number]
        if numeric and _is_option_group(body, group):
            if index == group[0]:
                labels = tuple(_SUB_COLUMN.match(header[i]).group(3).strip() for i in group)
                questions.append(_Question(f"Q{number}", f"第{number}题", tuple(group), labels))
        else:
            questions.append(_Question(f"Q{number}_{group.index(index) + 1}", name, (index,)))
    return questions


def _answers(question: _Question, row: list[str], numeric: bool) -> list[tuple[str, str, str]]:
    if question.options:
        flags = zip(question.options, question.indexes, strict=True)
        chosen = [label for label, i in flags if row[i].strip() == "1"]
        return [(question.question_id, question.text, label) for label in chosen]
    cell = row[question.indexes[0]].strip()
    if cell in _SKIPPED or (numeric and cell in _NUMERIC_SKIPPED):
        return []
    parts = [part.strip() for part in cell.split(_TEXT_SEPARATOR)]
    return [(question.question_id, question.text, part) for part in parts if part not in _SKIPPED]


def _sub_groups(header: list[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        if match := _SUB_COLUMN.match(name.strip()):
            groups.setdefault(match.group(1) or match.group(2), []).append(index)
    return groups


def _is_option_group(body: list[list[str]], indexes: list[int]) -> bool:
    """0/1 flags with at least one 0: a multi-select's options (a matrix row has 1..n ratings)."""
    values = {row[i].strip() for row in body for i in indexes}
    return values <= _OPTION_FLAGS and "0" in values


def numeric_when_nps_says_so(parsed: ParsedExport, nps_questions: tuple[str, ...]) -> ParsedExport:
    """A ``wjx-text`` export as ``wjx-numeric`` when an NPS question holds 11, the 11th option's number.

    A numeric download without multi-selects or skipped questions has no column that tells it from a
    text download; its NPS answers 1-11 would then be taken for scores one point too high (a 9, a
    passive, read as 10). A text download's NPS labels end at 10, so an 11 settles which it is.
    """
    if parsed.layout != "wjx-text":
        return parsed
    telling = sorted(
        {question for r in parsed.responses for question, _, answer in r.answers if question in nps_questions
         and answer.strip() == "11"}
    )  # fmt: skip
    if not telling:
        return parsed
    warning = (
        f"{', '.join(telling)} (NPS) holds 11, an option number: read as a numeric (按选项序号) "
        "download, options 1-11 as scores 0-10"
    )
    warnings = [*parsed.warnings, warning]
    return ParsedExport(parsed.tool, "wjx-numeric", parsed.responses, parsed.questions, warnings)


def nps_from_option_numbers(parsed: ParsedExport, nps_questions: tuple[str, ...]) -> ParsedExport:
    """A numeric download with each NPS question's option numbers (1-11) as the scores (0-10) they
    stand for. A value outside 1-11 is kept as delivered (the quality gate judges it); an option
    number 11 in a question not named as NPS gets a warning, as it is most likely one."""
    warnings = list(parsed.warnings)
    unnamed_nps = sorted(
        {
            question
            for response in parsed.responses
            for question, _, answer in response.answers
            if answer == "11" and question not in nps_questions
        }
    )
    warnings += [
        f"{question}: option number 11 in a numeric download; if it is an NPS question, name it as nps in "
        "the survey's mapping (or --nps-question) so its options 1-11 are read as 0-10"
        for question in unnamed_nps
    ]
    for response in parsed.responses:
        response.answers = [
            (question, text, _NPS_OPTIONS.get(answer, answer) if question in nps_questions else answer)
            for question, text, answer in response.answers
        ]
    return ParsedExport(parsed.tool, parsed.layout, parsed.responses, parsed.questions, warnings)


def _key(name: str) -> str:
    """A header name compared without case and outer spaces (English downloads vary the case)."""
    return name.strip().lower()


def _first_index(header: list[str], names: tuple[str, ...]) -> int | None:
    keys = [_key(name) for name in header]
    return next((keys.index(_key(name)) for name in names if _key(name) in keys), None)


def _cell(row: list[str], header: list[str], names: tuple[str, ...]) -> str:
    index = _first_index(header, names)
    return row[index] if index is not None else ""
