"""The audit log: who signed in, exported or queried what, and when (append-only, in the app state).

An admin must be able to answer "who saw this?" after the fact, so the log lives beside the
accounts in the app-state store (it outlives warehouse rebuilds) and SQLite triggers refuse UPDATE
and DELETE: a row, once written, stays as written. Because nothing is ever deleted, nothing a user
types is stored unbounded: a statement is kept as a prefix with the SHA-256 and length of the whole
(enough to tell which query it was), and every other text is cut to the same length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cxlake.app_state import AppState

# Every action the log accepts; a typo in a caller fails loudly instead of hiding from the admin's filter.
ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "locked",
    "sign_out",
    "export",
    "sql_query",
    "sql_refused",
    "user_added",
    "user_reset",
    "user_disabled",
    "password_set",
    "case_acknowledged",
    "case_commented",
    "case_contacted",
    "case_resolved",
    "erasure",  # cxlake erase: one person's data removed (cxlake.privacy.erasure)
)
# Characters kept of a statement, and of any other text in an event (actor names included).
TEXT_CHARS = 2_000
ACTOR_CHARS = 200


@dataclass(frozen=True)
class AuditEvent:
    """One row of the log; ``detail`` is what the action was about (file, SQL text, reason)."""

    event_id: int
    at: str  # ISO-8601 UTC
    actor: str
    action: str
    detail: dict[str, object] = field(hash=False)


class AuditLog:
    """Appends events to, and reads them back from, the app-state store's ``audit_log`` table."""

    def __init__(
        self, state: AppState | None = None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.state = state if state is not None else AppState.shared()
        self._clock = clock

    def record(self, actor: str, action: str, detail: dict[str, object] | None = None) -> None:
        """Append one event; values in ``detail`` that JSON cannot hold are stored as text."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
        if not actor or not actor.strip():
            raise ValueError("an audit event needs an actor")
        at = self._clock().astimezone(UTC).isoformat(timespec="microseconds")
        bounded = {key: _bounded(value, TEXT_CHARS) for key, value in (detail or {}).items()}
        text = json.dumps(bounded, ensure_ascii=False, sort_keys=True, default=str)
        with self.state.transaction() as connection:
            connection.execute(
                "insert into audit_log (at, actor, action, detail) values (?, ?, ?, ?)",
                [at, _bounded(actor.strip(), ACTOR_CHARS), action, text],
            )

    def events(
        self, *, limit: int = 500, actor: str | None = None, action: str | None = None
    ) -> list[AuditEvent]:
        """The latest ``limit`` events, newest first, optionally of one actor and/or one action."""
        sql = (
            "select event_id, at, actor, action, detail from audit_log"
            " where (? is null or actor = ?) and (? is null or action = ?)"
            " order by event_id desc limit ?"
        )
        with self.state.transaction() as connection:
            rows = connection.execute(sql, [actor, actor, action, action, max(int(limit), 0)]).fetchall()
        return [
            AuditEvent(int(key), at, who, what, json.loads(detail)) for key, at, who, what, detail in rows
        ]


def statement_detail(sql: str) -> dict[str, object]:
    """How a statement is logged: its first ``TEXT_CHARS`` characters, its length and SHA-256."""
    return {
        "sql": _bounded(sql, TEXT_CHARS),
        "sql_chars": len(sql),
        "sql_sha256": hashlib.sha256(sql.encode("utf-8", "surrogatepass")).hexdigest(),
    }


def _bounded(value: object, chars: int) -> object:
    """Text cut to ``chars`` characters, lone surrogates (which SQLite cannot store) replaced."""
    if not isinstance(value, str):
        return value
    return value[:chars].encode("utf-8", "replace").decode("utf-8")
