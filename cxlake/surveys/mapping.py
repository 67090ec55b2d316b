"""Survey mappings: which question of a survey is NPS, CSAT for which touchpoint, CES, the comment,
and which field carries the store and the transaction; plus the dry run behind ``cxlake check-survey``.

A mapping is configuration (``mappings/<survey_id>.yaml``), so adding a survey or renaming a question
means editing YAML; the checks here catch a bad mapping before the pipeline loads a single row.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from cxlake.journey import CHANNELS, load_touchpoints
from cxlake.surveys.readers import TOOLS as READERS
from cxlake.surveys.readers import read_survey

TOOLS = tuple(READERS)
FIELD_ROLES = ("nps", "ces", "comment", "store_id", "transaction_id", "channel")
CONSTANT_ROLES = ("channel", "store_id")
SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}  # plain numbers in range need no scale entry


class SurveyMappingError(ValueError):
    """A mapping that cannot be used; ``str(err)`` names the mapping file."""


@dataclass(frozen=True)
class SurveyMapping:
    survey_id: str
    tool: str
    files: str
    timezone: str
    fields: dict[str, str]
    constants: dict[str, str]
    csat: dict[str, str]
    scales: dict[str, dict[str, int]]
    path: Path

    def nps_questions(self) -> tuple[str, ...]:
        """The NPS question, for readers whose download numbers its options (问卷星 numeric)."""
        return (self.fields["nps"],) if "nps" in self.fields else ()

    def question_roles(self) -> dict[str, str]:
        """question_id -> role, for every question the mapping names."""
        return {question: role for role, question in self.fields.items()} | dict.fromkeys(self.csat, "csat")


def default_mappings_dir() -> Path:
    return Path(str(resources.files("cxlake.surveys").joinpath("mappings")))


def load_mapping(path: str | Path) -> SurveyMapping:
    path = Path(path)

    def fail(reason: str) -> SurveyMappingError:
        return SurveyMappingError(f"{path}: {reason}")

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise fail(f"cannot read ({' '.join(str(err).split())})") from None
    if not isinstance(raw, dict):
        raise fail("not a YAML mapping")
    missing = [key for key in ("survey_id", "tool", "files") if not raw.get(key)]
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    mapping = SurveyMapping(
        survey_id=str(raw["survey_id"]),
        tool=str(raw["tool"]),
        files=str(raw["files"]),
        timezone=str(raw.get("timezone") or "Asia/Shanghai"),
        fields=_str_dict(raw.get("fields"), "fields", fail),
        constants=_str_dict(raw.get("constants"), "constants", fail),
        csat=_str_dict(raw.get("csat"), "csat", fail),
        scales=_scales(raw.get("scales"), fail),
        path=path,
    )
    _validate(mapping, fail)
    return mapping


def _str_dict(value: object, key: str, fail) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or any(v is None or isinstance(v, dict | list) for v in value.values()):
        raise fail(f"{key} must map names to single values")
    return {str(k): str(v) for k, v in value.items()}


def _scales(value: object, fail) -> dict[str, dict[str, int]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise fail("scales must map a role to {answer text: score}")
    scales: dict[str, dict[str, int]] = {}
    for role, scale in value.items():
        if role not in SCORE_RANGES:
            raise fail(f"scales: unknown role {role!r} (expected one of {', '.join(SCORE_RANGES)})")
        low, high = SCORE_RANGES[role]
        for text, score in scale.items():
            if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
                raise fail(f"scales.{role}: {text!r} -> {score!r} is not a whole number in {low}..{high}")
        scales[role] = {str(text): score for text, score in scale.items()}
    return scales


def _validate(mapping: SurveyMapping, fail) -> None:
    if mapping.tool not in TOOLS:
        raise fail(f"tool {mapping.tool!r} is not one of {', '.join(TOOLS)}")
    if mapping.path.stem != mapping.survey_id:
        raise fail(
            f"survey_id {mapping.survey_id!r} differs from the file name (expected {mapping.path.stem}.yaml)"
        )
    try:
        ZoneInfo(mapping.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown timezone {mapping.timezone!r}") from None
    if unknown := sorted(set(mapping.fields) - set(FIELD_ROLES)):
        raise fail(f"fields: unknown role(s) {', '.join(unknown)} (expected {', '.join(FIELD_ROLES)})")
    if unknown := sorted(set(mapping.constants) - set(CONSTANT_ROLES)):
        raise fail(f"constants: unknown key(s) {', '.join(unknown)} (expected {', '.join(CONSTANT_ROLES)})")
    if both := sorted(set(mapping.fields) & set(mapping.constants)):
        raise fail(f"{', '.join(both)} given both as a field and as a constant")
    channel = mapping.constants.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise fail(f"constants.channel {channel!r} is not one of {', '.join(CHANNELS)}")
    touchpoints = {touchpoint.id for touchpoint in load_touchpoints()}
    if unknown := sorted(set(mapping.csat.values()) - touchpoints):
        raise fail(f"csat: touchpoint(s) {', '.join(unknown)} not in the journey map")
    questions = Counter([*mapping.fields.values(), *mapping.csat])
    if twice := sorted(question for question, count in questions.items() if count > 1):
        raise fail(f"question(s) {', '.join(twice)} given more than one role")


def load_mappings(directory: str | Path | None = None) -> list[SurveyMapping]:
    """Every ``*.yaml`` mapping in ``directory`` (default: the package's ``mappings/``), by survey id."""
    folder = Path(directory) if directory is not None else default_mappings_dir()
    return [load_mapping(path) for path in sorted(folder.glob("*.yaml"))]


def mapping_for_file(path: str | Path, mappings: list[SurveyMapping]) -> SurveyMapping | None:
    """The mapping whose ``files`` glob matches the file's name (the folder is not considered)."""
    name = Path(path).name
    matches = [mapping for mapping in mappings if fnmatch.fnmatchcase(name, mapping.files)]
    if len(matches) > 1:
        paths = ", ".join(str(mapping.path) for mapping in matches)
        raise SurveyMappingError(f"{path}: matches more than one mapping ({paths})")
    return matches[0] if matches else None


def question_map_frame(mappings: list[SurveyMapping]) -> pd.DataFrame:
    """One row per mapped question: survey_id, question_id, role, touchpoint_id (CSAT only)."""
    rows = [
        [mapping.survey_id, question, role, mapping.csat.get(question) if role == "csat" else None]
        for mapping in mappings
        for question, role in mapping.question_roles().items()
    ]
    return pd.DataFrame(rows, columns=["survey_id", "question_id", "role", "touchpoint_id"]).astype("str")


def value_map_frame(mappings: list[SurveyMapping]) -> pd.DataFrame:
    """One row per answer text with a score: survey_id, role, answer_text, score."""
    rows = [
        [mapping.survey_id, role, text, score]
        for mapping in mappings
        for role, scale in mapping.scales.items()
        for text, score in scale.items()
    ]
    frame = pd.DataFrame(rows, columns=["survey_id", "role", "answer_text", "score"])
    return frame.astype({"survey_id": "str", "role": "str", "answer_text": "str", "score": "int64"})


@dataclass
class SurveyCheck:
    path: Path
    survey_id: str
    layout: str
    responses: int
    mapped_questions: list[str]
    unmapped_questions: list[tuple[str, str]]  # (question_id, question_text) in the file only
    missing_questions: list[str]  # in the mapping, not in the file
    unmapped_values: list[tuple[str, str, str, int]]  # (question_id, role, answer, count)
    # (line, problem) of each row that does not fit the header: the pipeline quarantines these
    malformed_rows: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Extra questions are only reported: a survey may ask more than the pipeline scores."""
        return not self.missing_questions and not self.unmapped_values and not self.malformed_rows

    def render(self) -> str:
        lines = [
            f"{self.path}: survey {self.survey_id}, layout {self.layout}, {self.responses} responses",
            f"mapped questions ({len(self.mapped_questions)}): {', '.join(self.mapped_questions) or '-'}",
            f"questions not in the mapping ({len(self.unmapped_questions)}):",
            *[f"  {question_id}  {text}" for question_id, text in self.unmapped_questions],
            f"mapping questions missing from the file ({len(self.missing_questions)}):",
            *[f"  {question_id}" for question_id in self.missing_questions],
            f"answers that are neither a number in range nor in the scale ({len(self.unmapped_values)}):",
            *[
                f"  {question} ({role}): {answer!r} x{count}"
                for question, role, answer, count in self.unmapped_values
            ],
            f"rows that do not fit the header, quarantined when loaded ({len(self.malformed_rows)}):",
            *[f"  line {line}: {problem}" for line, problem in self.malformed_rows],
            "result: " + ("ok" if self.ok else "problems found"),
        ]
        return "\n".join(lines)


def check_survey(path: str | Path, mapping: SurveyMapping) -> SurveyCheck:
    """Dry-run an export against a mapping (raises SurveyReadError when the file cannot be read)."""
    export = read_survey(
        path, format=mapping.tool, survey_id=mapping.survey_id, timezone=mapping.timezone,
        nps_questions=mapping.nps_questions(),
    )  # fmt: skip
    roles = mapping.question_roles()
    answers = export.answers
    in_file = dict(zip(export.questions["question_id"], export.questions["question_text"], strict=True))
    unmapped_values = [
        (question, role, answer, count)
        for (question, answer), count in Counter(
            zip(answers["question_id"], answers["answer"], strict=True)
        ).items()
        if (role := roles.get(question)) in SCORE_RANGES and not _scores(answer, role, mapping)
    ]
    return SurveyCheck(
        path=Path(path),
        survey_id=mapping.survey_id,
        layout=export.layout,
        responses=len(export.responses),
        mapped_questions=[question for question in in_file if question in roles],
        unmapped_questions=[(question, text) for question, text in in_file.items() if question not in roles],
        missing_questions=[question for question in roles if question not in in_file],
        unmapped_values=unmapped_values,
        malformed_rows=[
            (int(line), problem)
            for line, problem in zip(
                export.responses["source_row"], export.responses["record_problem"], strict=True
            )
            if isinstance(problem, str)
        ],
    )


def _scores(answer: str, role: str, mapping: SurveyMapping) -> bool:
    if answer in mapping.scales.get(role, {}):
        return True
    low, high = SCORE_RANGES[role]
    return answer.strip().isdigit() and low <= int(answer) <= high


def score_answer(answer: str, role: str, mapping: SurveyMapping) -> int | None:
    """The score an answer stands for: its scale entry, else the answer as a whole number (which may
    be out of range: the quality gate judges that); None when it is neither."""
    text = answer.strip()
    if text in mapping.scales.get(role, {}):
        return mapping.scales[role][text]
    try:
        return int(text)
    except ValueError:
        return None
