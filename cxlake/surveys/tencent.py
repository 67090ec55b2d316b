"""腾讯问卷 (wj.qq.com) CSV downloads: one header row, metadata first, then ``N.题目`` columns.

Metadata: ``编号, 开始答题时间, 结束答题时间, 答题时长, 地理位置国家和地区, 地理位置省, 地理位置市, 用户类型,
用户标识, 昵称, 自定义字段``. A question that takes several columns repeats its header: a cascading
drop-down (``3.检查地点:请选择`` three times, one per level) or a date picker (year, month, day).
Those become ``Q3_1, Q3_2, Q3_3`` in column order, so the levels stay in order; a one-column
question is ``Q3``. The tool writes every value quoted, each line ending in a comma, times as
``02-Sep-2020 07:44:08`` (``2020/9/1 18:55`` once Excel has saved the file again), and puts a TAB
before numeric-looking text (``"\t014"``) so Excel keeps it as text: the TAB is no part of the
answer. An uploaded file is an Excel formula ``=Hyperlink("<url>"，"<name>")``: its URL is the answer.
Older downloads (2016) have no 答题时长 and write a choice with its option letter (``"A.使用过"``,
``"C.26-30岁"``); the letter is dropped where every answer in the column has one, so a survey's
answers read the same from an old and a new download. Times carry no zone: the source's zone applies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cxlake.surveys.records import ParsedExport, ParsedResponse
from cxlake.surveys.table import Header, RawTable, UnreadableExport, row_problem, without_repeated_headers
from cxlake.surveys.timestamps import iso, parse_duration, parse_timestamp

ID_COLUMN = "编号"
STARTED_COLUMN = "开始答题时间"
ENDED_COLUMN = "结束答题时间"
DURATION_COLUMN = "答题时长"
_IP_COLUMNS = ("IP", "IP地址", "ip")
_QUESTION = re.compile(r"^(\d+)\.\s*(.+)$", re.DOTALL)
_OPTION_LETTER = re.compile(r"^[A-Z]\.(?=\S)")
_HYPERLINK = re.compile(r'^=hyperlink\(\s*"([^"]*)"\s*[,，]', re.IGNORECASE)
_LAYOUT = "tencent-csv"


@dataclass(frozen=True)
class _Question:
    question_id: str
    text: str
    index: int


def detect_layout(table: RawTable) -> str | None:
    """``tencent-csv`` when the header has 编号, the answer start/end times and ``N.`` questions."""
    header = [value(cell) for cell in table.rows[0]]
    timed = STARTED_COLUMN in header or ENDED_COLUMN in header
    questions = any(_QUESTION.match(cell) for cell in header)
    return _LAYOUT if ID_COLUMN in header and timed and questions else None


def value(cell: str) -> str:
    """A cell without the TAB the tool puts before numeric-looking text, and without outer spaces."""
    return cell.lstrip("\t").strip()


def parse(table: RawTable, layout: str, zone: ZoneInfo) -> ParsedExport:
    header = [value(cell) for cell in table.rows[0]]
    table, skipped = without_repeated_headers(table, 1)
    width = len(header)
    body = [row + [""] * (width - len(row)) for row in table.rows[1:]]
    questions = _questions(header)
    asked = {question.index for question in questions}
    index = {name: i for i, name in reversed(list(enumerate(header))) if name}
    if ID_COLUMN not in index:
        raise UnreadableExport(f"unknown layout: 腾讯问卷 header without a {ID_COLUMN} column")
    shape = Header.of(header)
    ip_column = next((index[name] for name in _IP_COLUMNS if name in index), None)
    lettered = {question.index for question in questions if _lettered(body, question.index)}
    responses = []
    for delivered, row, line in zip(table.rows[1:], body, table.lines[1:], strict=True):
        started = _moment(row, index, STARTED_COLUMN, zone)
        ended = _moment(row, index, ENDED_COLUMN, zone)
        duration = parse_duration(value(row[index[DURATION_COLUMN]])) if DURATION_COLUMN in index else None
        if duration is None and started and ended:
            duration = (ended - started).total_seconds()
        if started is None and ended and duration is not None:
            started = ended - dt.timedelta(seconds=duration)
        response = ParsedResponse(
            response_id=value(row[index[ID_COLUMN]]),
            submitted_at=iso(ended),
            started_at=iso(started),
            duration_seconds=duration,
            status="ok",  # the download holds no preview/test flag
            ip_address=value(row[ip_column]) if ip_column is not None else "",
            source_row=line,
            metadata={name: value(row[i]) for i, name in enumerate(header) if name and i not in asked},
            problem=row_problem(table, delivered, line, shape),
        )
        for question in questions:
            answer = _answer(row[question.index])
            if question.index in lettered:
                answer = _OPTION_LETTER.sub("", answer)
            if answer:
                response.answers.append((question.question_id, question.text, answer))
        responses.append(response)
    listed = [(question.question_id, question.text) for question in questions]
    return ParsedExport("tencent", layout, responses, listed, [*table.warnings, *skipped])


def _questions(header: list[str]) -> list[_Question]:
    """``N.题目`` columns in order; a number on several columns gives ``QN_1, QN_2, ...`` in column
    order, with ``[k]`` after the text where the columns share one header (a cascade's levels)."""
    matches = [(i, match) for i, name in enumerate(header) if (match := _QUESTION.match(name))]
    columns = Counter(match.group(1) for _, match in matches)
    names = Counter(header[i] for i, _ in matches)
    seen: Counter[str] = Counter()
    questions = []
    for i, match in matches:
        number, text = match.group(1), match.group(2).strip()
        seen[number] += 1
        if columns[number] == 1:
            questions.append(_Question(f"Q{number}", text, i))
            continue
        level = seen[number]
        shown = f"{text} [{level}]" if names[header[i]] > 1 else text
        questions.append(_Question(f"Q{number}_{level}", shown, i))
    return questions


def _lettered(body: list[list[str]], index: int) -> bool:
    """Whether every answer in the column starts with an option letter (``A.``): an old download's
    choice question. A text answer that happens to start so is rare; a whole column of them is none."""
    answers = [text for row in body if (text := value(row[index]))]
    return bool(answers) and all(_OPTION_LETTER.match(text) for text in answers)


def _answer(cell: str) -> str:
    text = value(cell)
    if link := _HYPERLINK.match(text):
        return link.group(1)
    return text


def _moment(row: list[str], index: dict[str, int], name: str, zone: ZoneInfo) -> dt.datetime | None:
    return parse_timestamp(value(row[index[name]]), zone) if name in index else None
