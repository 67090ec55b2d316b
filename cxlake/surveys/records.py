"""What a tool-specific parser hands back: responses with their answers, before they become frames."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("ok", "preview", "test", "imported", "spam", "offline")


@dataclass
class ParsedResponse:
    response_id: str
    submitted_at: str
    started_at: str
    duration_seconds: float | None
    status: str
    ip_address: str
    source_row: int
    metadata: dict[str, str]
    answers: list[tuple[str, str, str]] = field(default_factory=list)  # question_id, question_text, answer
    problem: str | None = None  # why the row does not fit its header: the gate quarantines it


@dataclass(frozen=True)
class ParsedExport:
    tool: str
    layout: str
    responses: list[ParsedResponse]
    questions: list[tuple[str, str]]  # (question_id, question_text) in file order, answered or not
    warnings: list[str] = field(default_factory=list)  # "line N: ..." for what was read but not kept
