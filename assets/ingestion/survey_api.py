"""The survey API source: its landed pages read as raw rows, and the asset that pulls them.

Reading (``survey_api_loader``): each file in landing/survey_api/<day>/ is one page the connector
(cxlake.sources.survey_api) landed. Every response in it is one *version* (response id x
last-modified time): an edited response pulled on a later day is a new row in that day's
partition, the old one stays, and dbt's ``stg_survey_api__response_versions`` turns them into
history with the current version marked. The survey mapping scores answers as for a file export.

Pulling (``survey_api_pull``): the pull asset (assets.ingestion.api_pull) of each configured
survey from its cursor, kept in Dagster.
"""

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from dagster import AssetKey

from assets.ingestion import raw_tables as rt
from assets.ingestion.api_pull import build_api_pull_asset
from assets.ingestion.delivery import FileAudit, PartitionLoad
from cxlake.delivered_files import DeliveredFileError, file_checksum, landing_name, read_delivered
from cxlake.sources.survey_api import SURVEY_API
from cxlake.surveys.mapping import SurveyMapping, load_mappings
from expectations.suites.base import RECORD_PROBLEM

PULL_ASSET_KEY = AssetKey(["landing", "survey_api"])
RESPONSE_FIELDS = {  # raw column -> the API's field
    "submitted_at": "recorded_at",
    "started_at": "started_at",
    "duration_seconds": "duration_seconds",
    "status": "status",
    "ip_address": "ip_address",
    "modified_at": "modified_at",
}


def survey_api_loader(
    with_scores: Callable[[pd.DataFrame, pd.DataFrame, SurveyMapping], pd.DataFrame],
) -> Callable[[Path, Path, str], PartitionLoad]:
    """The loader of landing/survey_api/<day>/; ``with_scores`` is the file sources' scorer
    (assets.ingestion.sources), passed in so the two modules do not import each other."""

    def load(landing_root: Path, folder: Path, day: str) -> PartitionLoad:
        load = PartitionLoad(day)
        mappings = {m.survey_id: m for m in load_mappings()}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            name = landing_name(path, landing_root)
            data = read_delivered(path, landing_root)
            survey_id, records = _page(path, data)
            mapping = mappings.get(survey_id)
            if mapping is None:
                load.warnings.append(f"{name}: no survey mapping for survey {survey_id!r}; left unread")
                continue
            responses, answers = _frames(path, survey_id, records, name)
            load.add(rt.SURVEY_API_RESPONSES, with_scores(responses, answers, mapping))
            load.add(rt.SURVEY_API_ANSWERS, answers)
            load.audits.append(
                FileAudit(
                    name, rt.SURVEY_API_RESPONSES.name, len(responses), len(responses), file_checksum(data)
                )
            )
        return load

    return load


def _page(path: Path, data: bytes) -> tuple[str, list]:
    """(survey id, responses) of one landed page; a file that is not one names itself and why."""
    try:
        page = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise DeliveredFileError(path, f"not valid UTF-8 JSON (undecodable byte at {error.start})") from None
    except json.JSONDecodeError as error:
        raise DeliveredFileError(path, f"not valid UTF-8 JSON ({error})") from None
    if not isinstance(page, dict) or not isinstance(page.get("responses"), list) or not page.get("id"):
        raise DeliveredFileError(path, 'expected an object with the survey "id" and a "responses" list')
    return str(page["id"]), page["responses"]


def _frames(path: Path, survey_id: str, records: list, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per response version and one per answer of it, all text as delivered.

    A response without a list of answers is kept and marked, so the gate quarantines it by itself.
    """
    responses, answers = [], []
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise DeliveredFileError(path, f"responses list entry {row} is not an object")
        listed = record.get("answers")
        problem = None if isinstance(listed, list) else 'the response has no "answers" list'
        responses.append(
            {
                "survey_id": survey_id,
                "response_id": _text(record.get("id")),
                "layout": "api",
                **{column: _text(record.get(field)) for column, field in RESPONSE_FIELDS.items()},
                "metadata": json.dumps(record.get("metadata") or {}, ensure_ascii=False, sort_keys=True),
                "_source_row": row,
                RECORD_PROBLEM: problem,
            }
        )
        for answer in listed if isinstance(listed, list) else []:
            answer = answer if isinstance(answer, dict) else {}
            answers.append(
                {
                    "survey_id": survey_id,
                    "response_id": _text(record.get("id")),
                    "submitted_at": _text(record.get("recorded_at")),
                    "status": _text(record.get("status")),
                    "question_id": _text(answer.get("question_id")),
                    "question_text": _text(answer.get("question_text")),
                    "answer": _text(answer.get("answer")),
                    "modified_at": _text(record.get("modified_at")),
                    "_source_row": row,
                }
            )
    response_frame = pd.DataFrame(
        responses, columns=[*rt.SURVEY_API_RESPONSES.columns, "_source_row", RECORD_PROBLEM]
    ).astype({c: "string" for c in (*rt.SURVEY_API_RESPONSES.columns, RECORD_PROBLEM)})
    answer_frame = pd.DataFrame(answers, columns=[*rt.SURVEY_API_ANSWERS.columns, "_source_row"]).astype(
        dict.fromkeys(rt.SURVEY_API_ANSWERS.columns, "string")
    )
    return response_frame.assign(_source_file=name), answer_frame.assign(_source_file=name)


def _text(value) -> str | None:
    """A JSON value as delivered, as text (numbers too); null stays missing."""
    return None if value is None else str(value)


survey_api_pull = build_api_pull_asset(SURVEY_API, PULL_ASSET_KEY, "survey_api")
