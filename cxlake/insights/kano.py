"""Kano: which features customers take for granted, which delight them and which leave them cold.

A Kano survey asks about each feature twice: the *functional* question ("if the store offers
oat milk, how do you feel?") and the *dysfunctional* one ("if it does not, how do you feel?"), each
on the five-point Kano scale: I like it, I expect it (it must be that way), I am neutral, I can
tolerate it (I can live with it), I dislike it. The pair of answers gives one category through the
standard evaluation table (Berger et al. 1993, *Center for Quality Management Journal* 2(4);
Matzler & Hinterhuber 1998, *Technovation* 18(1)), rows functional, columns dysfunctional:

=============  ====  ========  =======  =========  =======
functional      like  must-be   neutral  live-with  dislike
=============  ====  ========  =======  =========  =======
like            Q     A         A        A          O
must-be         R     I         I        I          M
neutral         R     I         I        I          M
live-with       R     I         I        I          M
dislike         R     R         R        R          Q
=============  ====  ========  =======  =========  =======

A attractive (delights when present, no harm when absent), O one-dimensional (the more the better),
M must-be (taken for granted, absence dissatisfies), I indifferent, R reverse (the respondent wants
the opposite), Q questionable (contradictory answers).

A feature's category is the most frequent category of its respondents' pairs. Ties are broken
by M > O > A > I > R > Q: the rule Berger et al. give ("if in doubt, M > O > A > I": fixing a
must-be comes first, since its absence hurts most), with R and Q last because they say the
question, not the feature, needs another look.

The customer-satisfaction coefficients (Berger et al. 1993) over the pairs that are A, O, M or I
(R and Q answers are left out of the denominator: they do not place the feature on the
satisfaction scale):

- Better = (A + O) / (A + O + M + I), 0..1: how much offering the feature raises satisfaction;
- Worse = -(O + M) / (A + O + M + I), -1..0: how much its absence lowers it.

Pure and core: pandas in, pandas out. The survey (which question of the 问卷星 download is the
functional or dysfunctional question of which feature) and the answer texts are configuration,
the ``kano:`` section of cxlake/config/insights.yaml, read by the ingestion of the ``kano`` source,
the demo generator and the Kano asset (``assets/kano.py``) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

CONFIG_FILE = "cxlake/config/insights.yaml"
# The five answers of the Kano scale, in the evaluation table's order.
LIKE, MUST_BE, NEUTRAL, LIVE_WITH, DISLIKE = "like", "must_be", "neutral", "live_with", "dislike"
ANSWERS = (LIKE, MUST_BE, NEUTRAL, LIVE_WITH, DISLIKE)
# The categories, in the tie-break order (the first listed wins a tie).
ATTRACTIVE, ONE_DIMENSIONAL, MUST_BE_CATEGORY, INDIFFERENT = "A", "O", "M", "I"
REVERSE, QUESTIONABLE = "R", "Q"
TIE_ORDER = (MUST_BE_CATEGORY, ONE_DIMENSIONAL, ATTRACTIVE, INDIFFERENT, REVERSE, QUESTIONABLE)
CATEGORIES = (ATTRACTIVE, ONE_DIMENSIONAL, MUST_BE_CATEGORY, INDIFFERENT, REVERSE, QUESTIONABLE)
# Rows: functional answer; columns: dysfunctional answer (both in ANSWERS order).
EVALUATION_TABLE: dict[str, dict[str, str]] = {
    LIKE: dict(zip(ANSWERS, "QAAAO", strict=True)),
    MUST_BE: dict(zip(ANSWERS, "RIIIM", strict=True)),
    NEUTRAL: dict(zip(ANSWERS, "RIIIM", strict=True)),
    LIVE_WITH: dict(zip(ANSWERS, "RIIIM", strict=True)),
    DISLIKE: dict(zip(ANSWERS, "RRRRQ", strict=True)),
}
FUNCTIONAL, DYSFUNCTIONAL = "functional", "dysfunctional"
# A feature with fewer answered pairs than metrics.yaml's min_responses: no category, no coefficients.
NOT_ENOUGH_RESPONSES = "not_enough_responses"
# The columns of marts.mart_kano: written by the Kano asset.
COUNT_COLUMNS = tuple(f"count_{c.lower()}" for c in CATEGORIES)
MART_COLUMNS = (
    "feature", "feature_label", "category", "n", *COUNT_COLUMNS, "better", "worse", "is_reportable",
)  # fmt: skip


class KanoConfigError(ValueError):
    """A ``kano:`` section that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class KanoFeature:
    feature: str  # id, e.g. oat_milk
    label: str  # as the survey names it, e.g. 燕麦奶
    functional: str  # question id of the functional question in the download, e.g. Q9
    dysfunctional: str


@dataclass(frozen=True)
class KanoSurvey:
    """The ``kano:`` section: the survey, its features' question pairs and the answer texts."""

    survey_id: str
    files: str  # glob of the downloads' names in landing/kano/<day>/
    timezone: str
    features: tuple[KanoFeature, ...]
    answer_texts: dict[str, str]  # answer text (casefolded) -> one of ANSWERS

    def question_roles(self) -> dict[str, tuple[str, str]]:
        """question_id -> (feature, functional | dysfunctional)."""
        roles = {f.functional: (f.feature, FUNCTIONAL) for f in self.features}
        return roles | {f.dysfunctional: (f.feature, DYSFUNCTIONAL) for f in self.features}

    def answer(self, text: str | None) -> str | None:
        """The Kano answer a delivered text stands for (English or Chinese, any case), else None."""
        return None if text is None else self.answer_texts.get(text.strip().casefold())


def load_kano_survey(path: str | Path | None = None) -> KanoSurvey:
    """The ``kano:`` section of ``path``, else of the packaged insights.yaml (read when called)."""
    if path is None:
        text = resources.files("cxlake.config").joinpath("insights.yaml").read_text("utf-8")
        where = CONFIG_FILE
    else:
        text, where = Path(path).read_text("utf-8"), str(path)
    raw = (yaml.safe_load(text) or {}).get("kano")
    if not isinstance(raw, dict):
        raise KanoConfigError(f"{where}: missing the kano: section")
    for key in ("survey_id", "files", "features", "answers"):
        if not raw.get(key):
            raise KanoConfigError(f"{where}: kano: missing key {key!r}")
    features = []
    for feature, spec in raw["features"].items():
        if not isinstance(spec, dict) or any(not spec.get(k) for k in ("label", FUNCTIONAL, DYSFUNCTIONAL)):
            raise KanoConfigError(
                f"{where}: kano.features.{feature} needs label, functional and dysfunctional"
            )
        features.append(
            KanoFeature(str(feature), str(spec["label"]), str(spec[FUNCTIONAL]), str(spec[DYSFUNCTIONAL]))
        )
    questions = [q for f in features for q in (f.functional, f.dysfunctional)]
    if twice := sorted({q for q in questions if questions.count(q) > 1}):
        raise KanoConfigError(f"{where}: kano.features: question(s) {', '.join(twice)} used more than once")
    if sorted(raw["answers"]) != sorted(ANSWERS):
        raise KanoConfigError(f"{where}: kano.answers must list exactly {', '.join(ANSWERS)}")
    texts: dict[str, str] = {}
    for answer, spellings in raw["answers"].items():
        for spelling in spellings:
            key = str(spelling).strip().casefold()
            if texts.get(key, answer) != answer:
                raise KanoConfigError(f"{where}: kano.answers: {spelling!r} stands for two answers")
            texts[key] = answer
    return KanoSurvey(
        survey_id=str(raw["survey_id"]),
        files=str(raw["files"]),
        timezone=str(raw.get("timezone") or "Asia/Shanghai"),
        features=tuple(features),
        answer_texts=texts,
    )


def evaluate(functional: str, dysfunctional: str) -> str:
    """The category of one answer pair by the evaluation table (both answers from ANSWERS)."""
    return EVALUATION_TABLE[functional][dysfunctional]


def modal_category(counts: dict[str, int]) -> str:
    """The most frequent category; a tie goes to the first in M > O > A > I > R > Q."""
    return max(TIE_ORDER, key=lambda c: (counts.get(c, 0), -TIE_ORDER.index(c)))


def better_worse(counts: dict[str, int]) -> tuple[float | None, float | None]:
    """Better = (A+O)/(A+O+M+I), Worse = -(O+M)/(A+O+M+I); None without an A, O, M or I answer."""
    a, o, m, i = (counts.get(c, 0) for c in (ATTRACTIVE, ONE_DIMENSIONAL, MUST_BE_CATEGORY, INDIFFERENT))
    total = a + o + m + i
    if total == 0:
        return None, None
    return (a + o) / total, -(o + m) / total


def answer_pairs(answers: pd.DataFrame, survey: KanoSurvey) -> pd.DataFrame:
    """One row per response and feature with both answers on the Kano scale: ``response_key,
    feature, functional, dysfunctional``. ``answers`` has ``survey_id, response_id, question_id,
    answer`` (one row per answered question, as staging holds them). A pair with a side skipped
    or off the scale says nothing about the feature and is left out (the quality gate quarantines
    a response with an answer off the scale, so here that is only a skipped question)."""
    roles = survey.question_roles()
    known = answers[answers["question_id"].isin(list(roles))]
    frame = pd.DataFrame(
        {
            "response_key": known["survey_id"].astype(str) + ":" + known["response_id"].astype(str),
            "feature": [roles[q][0] for q in known["question_id"]],
            "side": [roles[q][1] for q in known["question_id"]],
            "kano_answer": [survey.answer(a) for a in known["answer"]],
        }
    ).dropna(subset=["kano_answer"])
    wide = frame.pivot_table(
        index=["response_key", "feature"], columns="side", values="kano_answer", aggfunc="first"
    )
    wide = wide.reindex(columns=[FUNCTIONAL, DYSFUNCTIONAL]).dropna().reset_index()
    return wide[["response_key", "feature", FUNCTIONAL, DYSFUNCTIONAL]]


def classify(pairs: pd.DataFrame, survey: KanoSurvey, min_n: int) -> pd.DataFrame:
    """The rows of marts.mart_kano (:data:`MART_COLUMNS`), one per feature of the survey in its
    order: counts per category, n (answered pairs), the modal category and Better / Worse. A
    feature with fewer than ``min_n`` pairs keeps its counts but gets category
    ``not_enough_responses``, no coefficients and is_reportable false."""
    categories = [evaluate(f, d) for f, d in zip(pairs[FUNCTIONAL], pairs[DYSFUNCTIONAL], strict=True)]
    counted = pd.DataFrame({"feature": pairs["feature"], "category": categories})
    table = counted.groupby(["feature", "category"]).size()
    rows = []
    for feature in survey.features:
        counts = {c: int(table.get((feature.feature, c), 0)) for c in CATEGORIES}
        n = sum(counts.values())
        reportable = n >= min_n
        better, worse = better_worse(counts) if reportable else (None, None)
        rows.append(
            {
                "feature": feature.feature,
                "feature_label": feature.label,
                "category": modal_category(counts) if reportable else NOT_ENOUGH_RESPONSES,
                "n": n,
                **{f"count_{c.lower()}": counts[c] for c in CATEGORIES},
                "better": better,
                "worse": worse,
                "is_reportable": reportable,
            }
        )
    frame = pd.DataFrame(rows, columns=list(MART_COLUMNS))
    return frame.astype({"better": "float64", "worse": "float64", "is_reportable": "bool"})
