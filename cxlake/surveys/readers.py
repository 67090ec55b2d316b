"""Read a survey export (Qualtrics or 问卷星) into one row per response and one row per answer.

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
from cxlake.surveys import qualtrics, wjx
from cxlake.surveys.records import ParsedExport
from cxlake.surveys.table import RawTable, UnreadableExport, read_table

FORMATS = ("auto", "qualtrics", "wjx")
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
    tool: str  # qualtrics | wjx
    layout: str  # qualtrics-current | qualtrics-2017 | qualtrics-legacy | wjx-text | wjx-numeric
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
) -> SurveyExport:
    """``data``: the file's bytes when the caller has read them (ingestion reads through
    :func:`cxlake.delivered_files.read_delivered`, which refuses links leaving landing/)."""
    path = Path(path)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SurveyReadError(f"{path}: unknown time zone {timezone!r}") from None
    if format not in FORMATS:
        raise SurveyReadError(f"{path}: unknown format {format!r} (expected one of {', '.join(FORMATS)})")
    try:
        parsed = _parse(read_table(path.read_bytes() if data is None else data), format, zone)
    except OSError as err:
        raise SurveyReadError(f"{path}: cannot open ({err.strerror or err})") from None
    except UnreadableExport as err:
        raise SurveyReadError(f"{path}: {' '.join(str(err).split())}") from None
    return _export(parsed, survey_id or default_survey_id(path))


def _parse(table: RawTable, format: str, zone: ZoneInfo) -> ParsedExport:
    tools = {"qualtrics": qualtrics, "wjx": wjx}
    candidates = list(tools.values()) if format == "auto" else [tools[format]]
    for module in candidates:
        layout = module.detect_layout(table)
        if layout:
            return module.parse(table, layout, zone)
    wanted = "a Qualtrics or 问卷星 export" if format == "auto" else f"a {format} export"
    header = header_summary(table.rows[0][:8])
    raise UnreadableExport(f"unknown layout: not {wanted} (a {table.container} file; first row: {header})")


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
