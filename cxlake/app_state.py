"""State that must outlive warehouse rebuilds (SQLite): the steward's quarantine decisions, the
explorer's accounts, sessions and audit log (migration step 2, code in :mod:`cxlake.access`), and
alert cases with their events and owed messages (step 3, code in :mod:`cxlake.alerts`).

The warehouse can be rebuilt from landing/ at any time, so a human decision cannot live there. The
decision log is append-only (triggers refuse UPDATE and DELETE): a steward changes their mind by
recording a new decision, and the latest one per row is what the loader applies on the next run of
that partition. Every decision carries who made it and when.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from cxlake.paths import OWNER_ONLY_FILE, cxlake_paths, owner_only_folder

DECISIONS = ("release", "reject")
# Seconds a writer waits for another process's write to finish (the page and the CLI may both write).
_BUSY_TIMEOUT_SECONDS = 10.0

# Applied in order, each exactly once and each in one transaction; append steps, never edit one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """create table quarantine_decisions (
                decision_id integer primary key autoincrement,
                raw_table text not null,
                source_file text not null,
                source_row integer not null,
                decision text not null check (decision in ('release', 'reject')),
                corrections text not null default '{}',
                reason text,
                decided_by text not null check (length(trim(decided_by)) > 0),
                decided_at text not null,
                check (decision = 'release' or length(trim(coalesce(reason, ''))) > 0),
                check (decision = 'release' or corrections = '{}')
            )""",
            """create index quarantine_decisions_by_row
                on quarantine_decisions (raw_table, source_file, source_row)""",
            """create trigger quarantine_decisions_no_update before update on quarantine_decisions
                begin select raise(abort, 'quarantine decisions are append-only'); end""",
            """create trigger quarantine_decisions_no_delete before delete on quarantine_decisions
                begin select raise(abort, 'quarantine decisions are append-only'); end""",
        ),
    ),
    (
        2,
        (
            # Accounts of the explorer (cxlake.access.accounts): a row changes (password, lockout,
            # disabled), so the who-did-what history lives in audit_log, not here.
            """create table accounts (
                name text primary key collate nocase check (length(trim(name)) > 0),
                role text not null,
                scope_id text,
                password_hash text not null,
                disabled integer not null default 0 check (disabled in (0, 1)),
                created_at text not null,
                failed_count integer not null default 0,
                failing_since text,
                locked_until text
            )""",
            # Only a hash of each token: a copy of this file does not let anyone sign in.
            """create table sessions (
                token_sha256 text primary key,
                name text not null references accounts (name),
                created_at text not null,
                expires_at text not null,
                last_seen_at text not null
            )""",
            "create index sessions_by_name on sessions (name)",
            """create table audit_log (
                event_id integer primary key autoincrement,
                at text not null,
                actor text not null check (length(trim(actor)) > 0),
                action text not null check (length(trim(action)) > 0),
                detail text not null default '{}'
            )""",
            "create index audit_log_by_actor on audit_log (actor, event_id)",
            """create trigger audit_log_no_update before update on audit_log
                begin select raise(abort, 'the audit log is append-only'); end""",
            """create trigger audit_log_no_delete before delete on audit_log
                begin select raise(abort, 'the audit log is append-only'); end""",
        ),
    ),
    (
        3,
        (
            # Alert cases (cxlake.alerts.cases): one per feedback item (subject_key), whatever rules,
            # runs, backfills or sensor ticks find it again. The row holds the case's current state;
            # what happened to it, who did it and when is case_events, append-only.
            """create table cases (
                case_id text primary key,
                subject_key text not null unique,
                rule_id text not null,
                matched_rules text not null default '[]',
                severity text not null check (severity in ('high', 'medium', 'low')),
                source text not null check (source in ('survey', 'review')),
                survey_id text,
                response_id text,
                platform text,
                review_id text,
                store_id text,
                region_id text,
                customer_id text,
                transaction_id text,
                owner text not null,
                status text not null check (status in ('open', 'escalated', 'acknowledged', 'resolved')),
                is_historical integer not null check (is_historical in (0, 1)),
                feedback_at text not null,
                opened_at text not null,
                ack_due_at text not null,
                resolve_due_at text not null,
                acknowledged_at text,
                acknowledged_by text,
                escalated_at text,
                resolved_at text,
                resolved_by text,
                resolution_code text,
                customer_contacted integer not null default 0 check (customer_contacted in (0, 1)),
                contact_method text,
                context text not null default '{}'
            )""",
            "create index cases_by_store on cases (store_id, status)",
            "create index cases_by_status on cases (status, ack_due_at)",
            """create table case_events (
                event_id integer primary key autoincrement,
                case_id text not null references cases (case_id),
                at text not null,
                actor text not null check (length(trim(actor)) > 0),
                action text not null,
                note text,
                detail text not null default '{}'
            )""",
            "create index case_events_by_case on case_events (case_id, event_id)",
            """create trigger case_events_no_update before update on case_events
                begin select raise(abort, 'case events are append-only'); end""",
            """create trigger case_events_no_delete before delete on case_events
                begin select raise(abort, 'case events are append-only'); end""",
            # Every message cxlake owes someone: queued in the same transaction as the case that
            # needs it (so none is lost), sent and retried by the dispatcher, never twice (dedupe_key).
            """create table notifications (
                notification_id integer primary key autoincrement,
                dedupe_key text not null unique,
                kind text not null check (kind in ('alert', 'escalation', 'digest')),
                case_id text references cases (case_id),
                channel text not null,
                recipient text,
                status text not null check (status in ('pending', 'sent', 'failed')),
                attempts integer not null default 0,
                last_error text,
                response text,
                created_at text not null,
                next_attempt_at text not null,
                sent_at text,
                payload text not null
            )""",
            "create index notifications_by_status on notifications (status, next_attempt_at)",
        ),
    ),
    (
        4,
        (
            # Failed sign-ins of names no account has (cxlake.access.accounts), counted and locked
            # out like an account's, so a lockout message does not tell which names exist. Only a
            # hash of the name typed; rows whose streak and lock are over are deleted.
            """create table sign_in_failures (
                name_key text primary key,
                failed_count integer not null default 0,
                failing_since text,
                locked_until text
            )""",
        ),
    ),
    (
        5,
        (
            # Notices of failed pipeline runs to the data team go through the outbox too
            # (cxlake.alerts.run_failures). SQLite cannot change a CHECK: the table is rebuilt.
            """create table notifications_v5 (
                notification_id integer primary key autoincrement,
                dedupe_key text not null unique,
                kind text not null check (kind in ('alert', 'escalation', 'digest', 'run_failure')),
                case_id text references cases (case_id),
                channel text not null,
                recipient text,
                status text not null check (status in ('pending', 'sent', 'failed')),
                attempts integer not null default 0,
                last_error text,
                response text,
                created_at text not null,
                next_attempt_at text not null,
                sent_at text,
                payload text not null
            )""",
            "insert into notifications_v5 select * from notifications",
            "drop table notifications",
            "alter table notifications_v5 rename to notifications",
            "create index notifications_by_status on notifications (status, next_attempt_at)",
        ),
    ),
)


class DecisionError(ValueError):
    """A decision the log refuses: unknown kind, reject without a reason, corrections on a reject."""


@dataclass(frozen=True)
class QuarantineDecision:
    """One steward decision about one quarantined row, identified by its file and line."""

    raw_table: str
    source_file: str
    source_row: int
    decision: str  # 'release' | 'reject'
    corrections: dict[str, str] = field(hash=False)  # column -> corrected value (release only)
    reason: str | None
    decided_by: str
    decided_at: str  # ISO-8601 UTC


class AppState:
    """The app-state database; each call opens its own connection, so threads and processes can share it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else cxlake_paths().app_state
        owner_only_folder(self.path.parent)
        # Created empty and 0600 before SQLite opens it (an empty file is an empty database), so
        # password hashes and cases are the owner's alone whatever the umask; SQLite gives its
        # journal and WAL files the database's mode.
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, OWNER_ONLY_FILE))
        self._migrate()

    @classmethod
    def shared(cls, path: Path | None = None) -> AppState:
        """The process's one AppState for ``path`` (default: ``$CXLAKE_HOME``'s, read now): a page
        run asks for accounts, the audit log and cases several times, and each must not open and
        check the migrations again."""
        return _shared_app_state(Path(path) if path is not None else cxlake_paths().app_state)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection whose ``with`` block is one transaction (commit on success, rollback on error)."""
        with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS)) as connection, connection:
            yield connection

    def _migrate(self) -> None:
        # Autocommit mode, so the explicit BEGIN IMMEDIATE below is the only transaction: it takes the
        # write lock before checking what is applied, so two processes never run the same step.
        with closing(
            sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        ) as connection:
            connection.execute(
                "create table if not exists schema_migrations (version integer primary key, applied_at text)"
            )
            for version, statements in MIGRATIONS:
                connection.execute("begin immediate")
                try:
                    applied = connection.execute(
                        "select count(*) from schema_migrations where version = ?", [version]
                    ).fetchone()[0]
                    if not applied:
                        for statement in statements:
                            connection.execute(statement)
                        connection.execute("insert into schema_migrations values (?, ?)", [version, _now()])
                except BaseException:
                    connection.execute("rollback")
                    raise
                connection.execute("commit")

    def record_decision(
        self,
        raw_table: str,
        source_file: str,
        source_row: int,
        decision: str,
        decided_by: str,
        reason: str | None = None,
        corrections: dict[str, str] | None = None,
    ) -> QuarantineDecision:
        """Append a decision and return it; the latest decision per row is the one that counts."""
        corrections = dict(corrections or {})
        reason = reason.strip() if reason and reason.strip() else None
        if decision not in DECISIONS:
            raise DecisionError(f"decision must be one of {DECISIONS}, got {decision!r}")
        if not raw_table or not source_file:
            raise DecisionError("a decision needs the raw table and the source file")
        if not decided_by or not decided_by.strip():
            raise DecisionError("a decision needs the name of who made it")
        if decision == "reject" and reason is None:
            raise DecisionError("a reject needs a reason")
        if decision == "reject" and corrections:
            raise DecisionError("only a release can carry corrections")
        if any(str(column).startswith("_") for column in corrections):
            raise DecisionError("corrections cannot change lineage columns (names starting with _)")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in corrections.items()):
            raise DecisionError("corrections map column names to text values (raw tables are all text)")
        recorded = QuarantineDecision(
            raw_table=raw_table,
            source_file=source_file,
            source_row=int(source_row),
            decision=decision,
            corrections=corrections,
            reason=reason,
            decided_by=decided_by.strip(),
            decided_at=_now(),
        )
        with self.transaction() as connection:
            connection.execute(
                "insert into quarantine_decisions (raw_table, source_file, source_row, decision,"
                " corrections, reason, decided_by, decided_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    recorded.raw_table,
                    recorded.source_file,
                    recorded.source_row,
                    recorded.decision,
                    json.dumps(recorded.corrections, ensure_ascii=False, sort_keys=True),
                    recorded.reason,
                    recorded.decided_by,
                    recorded.decided_at,
                ],
            )
        return recorded

    def latest_decisions(self, raw_table: str) -> dict[tuple[str, int], QuarantineDecision]:
        """(source_file, source_row) -> the latest decision for that row of ``raw_table``."""
        latest: dict[tuple[str, int], QuarantineDecision] = {}
        for decision in self.decision_history(raw_table):
            latest[(decision.source_file, decision.source_row)] = decision
        return latest

    def decision_history(self, raw_table: str | None = None) -> list[QuarantineDecision]:
        """Every decision (for one raw table, or all), oldest first in the order they were recorded."""
        sql = (
            "select raw_table, source_file, source_row, decision, corrections, reason, decided_by,"
            " decided_at from quarantine_decisions where ? is null or raw_table = ? order by decision_id"
        )
        with self.transaction() as connection:
            rows = connection.execute(sql, [raw_table, raw_table]).fetchall()
        return [
            QuarantineDecision(table, file, int(row), kind, json.loads(corrections), reason, by, at)
            for table, file, row, kind, corrections, reason, by, at in rows
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@cache
def _shared_app_state(path: Path) -> AppState:
    return AppState(path)
