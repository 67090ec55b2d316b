"""The ``kano`` source: the Kano survey's 问卷星 downloads, read like every survey export.

``landing/kano/<day>/`` holds the downloads of the survey named in the ``kano:`` section of
cxlake/config/insights.yaml (``files``, e.g. ``wjx_kano_2026-01-04.csv``). Each file is read by
the one survey reader (:func:`cxlake.surveys.readers.read_survey`) into raw.kano_responses and
raw.kano_answers, like the in-store survey's; the answers are judged through their response.

What the gate judges per response, added here: ``_kano_problem`` names every answer to a Kano
question that is not one of the five answers of ``kano.answers`` (question id, feature, side and
the answer as delivered), so the response is quarantined with its answers and the steward reads
which field of which line was wrong; plus ``_longest_answer`` / ``_longest_question`` for the
length rules the survey suites share. A download without one of the configured questions is
refused: pairs would go missing without a trace.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from assets.ingestion import raw_tables as rt
from assets.ingestion.delivery import FileAudit, PartitionLoad
from assets.ingestion.survey_answers import with_longest_texts
from cxlake.delivered_files import file_checksum, read_delivered
from cxlake.insights.kano import KanoSurvey, load_kano_survey
from cxlake.surveys.readers import SurveyReadError, read_survey
from expectations.suites.base import RECORD_PROBLEM

KANO_PROBLEM = "_kano_problem"


def load_kano(landing_root: Path, folder: Path, day: str) -> PartitionLoad:
    """One day's Kano downloads as raw.kano_responses and raw.kano_answers rows."""
    survey = load_kano_survey()
    load = PartitionLoad(day)
    present = sorted(folder.iterdir()) if folder.is_dir() else []
    for path in present:
        name = str(path.relative_to(landing_root))
        if not fnmatch.fnmatchcase(path.name, survey.files):
            load.warnings.append(f"{name}: not a download of Kano survey {survey.survey_id}; left unread")
            continue
        data = read_delivered(path, landing_root)
        export = read_survey(
            path, format="wjx", survey_id=survey.survey_id, timezone=survey.timezone, data=data
        )
        asked = set(export.questions["question_id"])
        if missing := [q for q in survey.question_roles() if q not in asked]:
            raise SurveyReadError(
                f"{name}: no column for Kano question(s) {', '.join(missing)} of kano.features "
                "(cxlake/config/insights.yaml)"
            )
        load.warnings.extend(f"{name}: {warning}" for warning in export.warnings)
        answers = export.answers.rename(columns={"source_row": "_source_row"}).assign(_source_file=name)
        responses = export.responses.rename(
            columns={"source_row": "_source_row", "record_problem": RECORD_PROBLEM}
        ).astype({RECORD_PROBLEM: "string"})
        responses = responses.assign(layout=export.layout, _source_file=name)
        responses = with_kano_checks(responses, answers, survey)
        load.add(rt.KANO_RESPONSES, responses)
        load.add(rt.KANO_ANSWERS, answers)
        load.audits.append(
            FileAudit(name, rt.KANO_RESPONSES.name, len(responses), len(responses), file_checksum(data))
        )
    return load


def with_kano_checks(responses: pd.DataFrame, answers: pd.DataFrame, survey: KanoSurvey) -> pd.DataFrame:
    """Per response: ``_kano_problem`` (missing when every Kano answer is on the scale), and the
    length of its longest answer and question (id or text)."""
    roles = survey.question_roles()
    kano = answers[answers["question_id"].isin(list(roles))]
    off_scale = kano[np.array([survey.answer(a) is None for a in kano["answer"]], dtype=bool)]
    problems = (
        off_scale.assign(
            _problem=[
                f"{q} ({roles[q][0]}, {roles[q][1]}): {a!r} is not a Kano answer"
                for q, a in zip(off_scale["question_id"], off_scale["answer"], strict=True)
            ]
        )
        .groupby("response_id")["_problem"]
        .agg("; ".join)
    )
    checked = responses.assign(**{KANO_PROBLEM: responses["response_id"].map(problems).astype("string")})
    return with_longest_texts(checked, answers)
