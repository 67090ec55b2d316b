"""Read a survey export (Qualtrics, SurveyMonkey, 腾讯问卷 or 问卷星, or a .zip holding one) into one
row per response and one row per answer.

This is the one entry point the ingestion assets and the ``cxlake read-survey`` command use; any
file it cannot read raises :class:`SurveyReadError` with a one-line "<file>: <reason>" message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from cxlake.delivered_files import header_summary
from cxlake.sources import wjx_push
from cxlake.surveys import archives, qualtrics, surveymonkey, tencent, wjx
from cxlake.surveys.records import ParsedExport
from cxlake.surveys.table import RawTable, UnreadableExport, read_table

# detection order matters: a 腾讯问卷 header also fits 问卷星's looser pattern (编号, ``N.`` questions)
TOOLS = {"qualtrics": qualtrics, "surveymonkey": surveymonkey, "tencent": tencent, "wjx": wjx}
TOOL_NAMES = {
    "qualtrics": "Qualtrics",
    "surveymonkey": "SurveyMonkey",
    "tencent": "腾讯问卷",
    "wjx": "问卷星",
}
FORMATS = ("auto", *TOOLS)
# record_problem: why the row does not fit the header (field count, a value under no header, a field
# past the reader limit), missing when it does; the ingestion gate quarantines a response that has one
RESPONSE_COLUMNS = [
    "survey_id", "response_id", "submitted_at", "started_at", "duration_seconds",
    "status", "ip_address", "source_row", "metadata", "record_problem",
]  # fmt: skip
ANSWER_COLUMNS = [
    "survey_id", "response_id", "submitted_at", "status",
    "question_id", "question_text", "answer", "source_row",
]  # fmt: skip
QUESTION_COLUMNS = ["question_id", "question_text"]
CSV_COLUMNS = ANSWER_COLUMNS[:-1]  # what `cxlake read-survey` writes
_DATED_STEM = re.compile(r"_\d{4}-\d{2}-\d{2}$")


class SurveyReadError(ValueError):
    """A file that cannot be read; ``str(err)`` is one line naming the file and the reason."""


@dataclass(frozen=True)
class SurveyExport:
    survey_id: str
    tool: str  # qualtrics | surveymonkey | tencent | wjx
    # qualtrics-current | qualtrics-2017 | qualtrics-legacy | surveymonkey-expanded | tencent-csv |
    # wjx-text | wjx-numeric | wjx-push
    layout: str
    responses: pd.DataFrame
    answers: pd.DataFrame
    # question_id, question_text of every question column, answered or not (for check-survey)
    questions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUESTION_COLUMNS))
    warnings: list[str] = field(default_factory=list)  # "line N, ...: ..." about what the reader changed


def default_survey_id(path: str | Path) -> str:
    """``SV_cxlakeApp_2026-01-05.csv`` -> ``SV_cxlakeApp``: landing files are named per day."""
    return _DATED_STEM.sub("", Path(path).stem)


def read_survey(
    path: str | Path,
    format: str = "auto",
    survey_id: str | None = None,
    timezone: str = "Asia/Shanghai",
    data: bytes | None = None,
    nps_questions: tuple[str, ...] = (),
) -> SurveyExport:
    """``data``: the file's bytes when the caller has read them (ingestion reads through
    :func:`cxlake.delivered_files.read_delivered`, which refuses links leaving landing/).
    ``nps_questions``: the survey's NPS question ids (from its mapping); a 问卷星 numeric download
    gives their answers as option numbers 1-11, read as the scores 0-10 they stand for."""
    path = Path(path)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SurveyReadError(f"{path}: unknown time zone {timezone!r}") from None
    if format not in FORMATS:
        raise SurveyReadError(f"{path}: unknown format {format!r} (expected one of {', '.join(FORMATS)})")
    try:
        raw = path.read_bytes() if data is None else data
        parsed = wjx.numeric_when_nps_says_so(_parse_file(raw, format, zone), nps_questions)
        if parsed.layout in ("wjx-numeric", wjx_push.LAYOUT):
            parsed = wjx.nps_from_option_numbers(parsed, nps_questions)
    except OSError as err:
        raise SurveyReadError(f"{path}: cannot open ({err.strerror or err})") from None
    except UnreadableExport as err:
        raise SurveyReadError(f"{path}: {' '.join(str(err).split())}") from None
    return _export(parsed, survey_id or default_survey_id(path))


def _parse_file(data: bytes, format: str, zone: ZoneInfo) -> ParsedExport:
    """A delivered file, or the survey file(s) inside a zipped download, parsed."""
    if format in ("auto", "wjx") and wjx_push.is_push(data):  # a response 问卷星 pushed, as landed
        return wjx_push.parse_push(data, zone)
    if not archives.is_archive(data):
        return _parse(read_table(data), format, zone)
    archive = archives.read_archive(data)
    try:
        parsed = _parse(archive.table, format, zone)
    except UnreadableExport as err:
        raise UnreadableExport(f"{' + '.join(archive.members)} in the zip: {err}") from None
    members = " + ".join(archive.members)
    warnings = [*archive.warnings, *(f"{members}: {warning}" for warning in parsed.warnings)]
    return ParsedExport(parsed.tool, parsed.layout, parsed.responses, parsed.questions, warnings)


def _parse(table: RawTable, format: str, zone: ZoneInfo) -> ParsedExport:
    candidates = list(TOOLS) if format == "auto" else [format]
    for tool in candidates:
        layout = TOOLS[tool].detect_layout(table)
        if layout:
            return TOOLS[tool].parse(table, layout, zone)
    header = header_summary(table.rows[0][:8])
    if format == "auto":
        wanted = "an export of " + ", ".join(TOOL_NAMES.values())
        raise UnreadableExport(
            f"unknown layout: not {wanted} (a {table.container} file; first row: {header})"
        )
    looks_like = next((tool for tool in TOOLS if tool != format and TOOLS[tool].detect_layout(table)), None)
    hint = f"; it looks like a {TOOL_NAMES[looks_like]} export ({looks_like})" if looks_like else ""
    raise UnreadableExport(
        f"unknown layout: not a {format} ({TOOL_NAMES[format]}) export (a {table.container} file; "
        f"first row: {header}){hint}"
    )


def _export(parsed: ParsedExport, survey_id: str) -> SurveyExport:
    responses = pd.DataFrame(
        [
            [
                survey_id, r.response_id, r.submitted_at, r.started_at, r.duration_seconds,
                r.status, r.ip_address, r.source_row, json.dumps(r.metadata, ensure_ascii=False), r.problem,
            ]
            for r in parsed.responses
        ],
        columns=RESPONSE_COLUMNS,
    )  # fmt: skip
    answers = pd.DataFrame(
        [
            [survey_id, r.response_id, r.submitted_at, r.status, question_id, text, answer, r.source_row]
            for r in parsed.responses
            for question_id, text, answer in r.answers
        ],
        columns=ANSWER_COLUMNS,
    )
    return SurveyExport(
        survey_id=survey_id,
        tool=parsed.tool,
        layout=parsed.layout,
        responses=_typed(responses, floats=("duration_seconds",)),
        answers=_typed(answers),
        questions=_typed(pd.DataFrame(parsed.questions, columns=QUESTION_COLUMNS)),
        warnings=list(parsed.warnings),
    )


def _typed(frame: pd.DataFrame, floats: tuple[str, ...] = ()) -> pd.DataFrame:
    """Strings everywhere except source_row (int) and the given float columns, also when empty."""
    dtypes = {column: "str" for column in frame.columns} | dict.fromkeys(floats, "float64")
    if "source_row" in frame.columns:
        dtypes["source_row"] = "int64"
    return frame.astype(dtypes)


def write_answers_csv(export: SurveyExport, out_path: str | Path) -> None:
    """The documented ``read-survey`` output: one row per response x question x chosen option, UTF-8."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    export.answers[CSV_COLUMNS].to_csv(out_path, index=False, encoding="utf-8", lineterminator="\n")
