"""Alert cases in the app-state store: opened once per feedback item, worked to closure, audited.

Cases live beside the accounts (``app_state.sqlite``), not in the warehouse, because the warehouse is
rebuilt from landing/ at any time and a manager's "called back" must survive that. A case is keyed by
its feedback item (``subject_key``): a re-run, a backfill or a second sensor tick finds the key and
opens nothing, queues nothing. The messages a case owes are queued in the same transaction that
opens or escalates it, so a crash between the two cannot lose one.

Service levels: a fresh case's clocks start when it opens (when cxlake learns of the feedback); a
historical one (feedback older than the configured horizon when it opens) is a record of the past,
so its clocks run from the feedback time and it notifies and escalates nobody.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cxlake.access.audit import AuditLog
from cxlake.access.roles import Scope
from cxlake.alerts.config import AlertConfig, Rule
from cxlake.alerts.rules import matching_rules
from cxlake.app_state import AppState

STATUSES = ("open", "escalated", "acknowledged", "resolved")
ACTIVE_STATUSES = ("open", "escalated", "acknowledged")
RESOLUTION_CODES = (
    "recovered",  # the customer was reached and is satisfied
    "apologised",
    "compensated",
    "fixed_cause",  # the product or process behind the complaint was fixed
    "could_not_reach",
    "not_actionable",
)
CONTACT_METHODS = ("phone", "sms", "wechat", "email", "in_person")
SYSTEM_ACTOR = "cxlake"
_NOTE_CHARS = 2_000

_COLUMNS = (
    "case_id",
    "subject_key",
    "rule_id",
    "matched_rules",
    "severity",
    "source",
    "survey_id",
    "response_id",
    "platform",
    "review_id",
    "store_id",
    "region_id",
    "customer_id",
    "transaction_id",
    "owner",
    "status",
    "is_historical",
    "feedback_at",
    "opened_at",
    "ack_due_at",
    "resolve_due_at",
    "acknowledged_at",
    "acknowledged_by",
    "escalated_at",
    "resolved_at",
    "resolved_by",
    "resolution_code",
    "customer_contacted",
    "contact_method",
    "context",
)
# The flat record of a case (Case.as_row): its columns without the context, and the breach flags.
ROW_COLUMNS = tuple(name for name in _COLUMNS if name != "context") + ("ack_breached", "resolve_breached")


class CaseError(ValueError):
    """A case action the store refuses (unknown case, wrong state, missing reason); says which and why."""


@dataclass(frozen=True)
class Case:
    """A case as stored; times are ISO-8601 UTC strings, ``context`` what the owner needs to act."""

    case_id: str
    subject_key: str
    rule_id: str
    matched_rules: tuple[str, ...]
    severity: str
    source: str
    survey_id: str | None
    response_id: str | None
    platform: str | None
    review_id: str | None
    store_id: str | None
    region_id: str | None
    customer_id: str | None
    transaction_id: str | None
    owner: str
    status: str
    is_historical: bool
    feedback_at: str
    opened_at: str
    ack_due_at: str
    resolve_due_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    escalated_at: str | None
    resolved_at: str | None
    resolved_by: str | None
    resolution_code: str | None
    customer_contacted: bool
    contact_method: str | None
    context: dict[str, Any] = field(hash=False)

    def ack_breached(self, now: datetime) -> bool:
        """Acknowledged after its due time, or still unacknowledged past it."""
        done = self.acknowledged_at or self.resolved_at
        return (done or _iso(now)) > self.ack_due_at

    def resolve_breached(self, now: datetime) -> bool:
        return (self.resolved_at or _iso(now)) > self.resolve_due_at

    def as_row(self, now: datetime) -> dict[str, Any]:
        """The flat record the CLI, the pages and the warehouse snapshot share."""
        row = {name: getattr(self, name) for name in _COLUMNS if name != "context"}
        row["matched_rules"] = ",".join(self.matched_rules)
        row["ack_breached"] = self.ack_breached(now)
        row["resolve_breached"] = self.resolve_breached(now)
        return row


@dataclass(frozen=True)
class CaseEvent:
    event_id: int
    case_id: str
    at: str
    actor: str
    action: str
    note: str | None
    detail: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class OpenedCases:
    """What one evaluation did: cases it opened (fresh and historical) and items it found already cased."""

    opened: tuple[Case, ...]
    already_open: int
    notifications_queued: int

    @property
    def fresh(self) -> tuple[Case, ...]:
        return tuple(case for case in self.opened if not case.is_historical)


def subject_key(item: Mapping[str, Any]) -> str:
    """The item a case is about: ``survey:<survey_id>:<response_id>`` or ``review:<platform>:<id>``."""
    if item.get("source") == "review":
        return f"review:{item['platform']}:{item['review_id']}"
    return f"survey:{item['survey_id']}:{item['response_id']}"


def owner_for(position: str, store_id: str | None, region_id: str | None) -> str:
    """The position that owns a case, e.g. ``store_manager:S001`` or ``regional_manager:R01``."""
    if position == "store_manager":
        return f"store_manager:{store_id}"
    return f"regional_manager:{region_id}"


class CaseStore:
    """Opens, reads and works cases; every human action is also written to the audit log."""

    def __init__(
        self, state: AppState | None = None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.state = state if state is not None else AppState.shared()
        self._clock = clock
        self.audit = AuditLog(self.state, clock=clock)

    # -- opening ---------------------------------------------------------------------------------
    def open_cases(
        self, items: Iterable[Mapping[str, Any]], config: AlertConfig, now: datetime | None = None
    ) -> OpenedCases:
        """A case for every item that matches a rule and has none yet; fresh ones queue their messages."""
        now = now or self._clock()
        opened: list[Case] = []
        already = queued = 0
        with self.state.transaction() as connection:
            known = {row[0] for row in connection.execute("select subject_key from cases")}
            for item in items:
                matched = matching_rules(item, config.rules)
                if not matched:
                    continue
                key = subject_key(item)
                if key in known:
                    already += 1
                    continue
                case = _new_case(item, key, matched, config, now)
                _insert_case(connection, case)
                _event(
                    connection,
                    case.case_id,
                    now,
                    SYSTEM_ACTOR,
                    "opened",
                    None,
                    {"rules": list(case.matched_rules)},
                )
                if not case.is_historical:
                    queued += _queue_for_position(connection, "alert", case, config, now)
                known.add(key)
                opened.append(case)
        return OpenedCases(tuple(opened), already, queued)

    # -- reading ---------------------------------------------------------------------------------
    def get(self, case_id: str) -> Case:
        with self.state.transaction() as connection:
            row = connection.execute(
                f"select {', '.join(_COLUMNS)} from cases where case_id = ?", [case_id]
            ).fetchone()
        if row is None:
            raise CaseError(f"no case {case_id!r}")
        return _case(row)

    def cases(
        self,
        scope: Scope | None = None,
        *,
        status: Iterable[str] | None = None,
        store_id: str | None = None,
        owner: str | None = None,
        include_historical: bool = True,
        limit: int | None = None,
    ) -> list[Case]:
        """Cases within ``scope`` (None: all), newest first; ``status`` keeps only those states."""
        where, params = ["1 = 1"], []
        if scope is not None and scope.kind != "all":
            column = "store_id" if scope.kind == "store" else "region_id"
            where.append(f"{column} in ({', '.join('?' for _ in scope.ids) or 'null'})")
            params.extend(scope.ids)
        statuses = tuple(status or ())
        for value in statuses:
            if value not in STATUSES:
                raise CaseError(f"unknown status {value!r}; expected one of {', '.join(STATUSES)}")
        if statuses:
            where.append(f"status in ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        if store_id is not None:
            where.append("store_id = ?")
            params.append(store_id)
        if owner is not None:
            where.append("owner = ?")
            params.append(owner)
        if not include_historical:
            where.append("is_historical = 0")
        sql = (
            f"select {', '.join(_COLUMNS)} from cases where {' and '.join(where)}"
            " order by opened_at desc, case_id"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        with self.state.transaction() as connection:
            return [_case(row) for row in connection.execute(sql, params)]

    def count_historical(
        self, scope: Scope | None = None, *, region_ids: Iterable[str] = (), store_ids: Iterable[str] = ()
    ) -> int:
        """How many historical cases are in ``scope`` and the region / store lists (empty: all),
        without reading them: the workbench says how many it hides."""
        where, params = ["is_historical = 1"], []
        if scope is not None and scope.kind != "all":
            column = "store_id" if scope.kind == "store" else "region_id"
            where.append(f"{column} in ({', '.join('?' for _ in scope.ids) or 'null'})")
            params.extend(scope.ids)
        for column, values in (("region_id", tuple(region_ids)), ("store_id", tuple(store_ids))):
            if values:
                where.append(f"{column} in ({', '.join('?' for _ in values)})")
                params.extend(values)
        with self.state.transaction() as connection:
            ((count,),) = connection.execute(
                f"select count(*) from cases where {' and '.join(where)}", params
            )
        return int(count)

    def events(self, case_id: str) -> list[CaseEvent]:
        with self.state.transaction() as connection:
            rows = connection.execute(
                "select event_id, case_id, at, actor, action, note, detail from case_events"
                " where case_id = ? order by event_id",
                [case_id],
            ).fetchall()
        return [
            CaseEvent(int(i), c, at, who, what, note, json.loads(d)) for i, c, at, who, what, note, d in rows
        ]

    def customers_with_open_case(self, at: datetime) -> set[str]:
        """Customers whose case was open at ``at`` (opened by then, not yet resolved): survey
        invitations leave them alone while someone is working their complaint. As of a time, not
        of now, so a day's invitation decisions come out the same however often it is re-run."""
        moment = _iso(at)
        with self.state.transaction() as connection:
            rows = connection.execute(
                "select distinct customer_id from cases where customer_id is not null"
                " and opened_at <= ? and (resolved_at is null or resolved_at > ?)",
                (moment, moment),
            )
            return {row[0] for row in rows}

    # -- working ---------------------------------------------------------------------------------
    def acknowledge(self, case_id: str, by: str, note: str | None = None, at: datetime | None = None) -> Case:
        """The owner has seen it: stops the acknowledge clock (and escalation)."""
        at = at or self._clock()
        with self.state.transaction() as connection:
            case = self._active(connection, case_id)
            if case.acknowledged_at:
                raise CaseError(
                    f"case {case_id} was acknowledged by {case.acknowledged_by} at {case.acknowledged_at}"
                )
            connection.execute(
                "update cases set status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?"
                " where case_id = ?",
                [_iso(at), _actor(by), case_id],
            )
            _event(connection, case_id, at, by, "acknowledged", _note(note), {})
        self.audit.record(by, "case_acknowledged", {"case_id": case_id})
        return self.get(case_id)

    def add_comment(self, case_id: str, by: str, note: str, at: datetime | None = None) -> Case:
        if not note or not note.strip():
            raise CaseError("a comment needs text")
        at = at or self._clock()
        with self.state.transaction() as connection:
            self._existing(connection, case_id)
            _event(connection, case_id, at, by, "commented", _note(note), {})
        self.audit.record(by, "case_commented", {"case_id": case_id})
        return self.get(case_id)

    def record_contact(
        self,
        case_id: str,
        by: str,
        method: str = "phone",
        note: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        """ "Called back": the customer was contacted (and the case, if still open, is acknowledged)."""
        if method not in CONTACT_METHODS:
            raise CaseError(
                f"unknown contact method {method!r}; expected one of {', '.join(CONTACT_METHODS)}"
            )
        at = at or self._clock()
        with self.state.transaction() as connection:
            case = self._active(connection, case_id)
            connection.execute(
                "update cases set customer_contacted = 1, contact_method = ?,"
                " status = case when status in ('open', 'escalated') then 'acknowledged' else status end,"
                " acknowledged_at = coalesce(acknowledged_at, ?),"
                " acknowledged_by = coalesce(acknowledged_by, ?)"
                " where case_id = ?",
                [method, _iso(at), _actor(by), case_id],
            )
            _event(connection, case_id, at, by, "contacted", _note(note), {"method": method})
            if not case.acknowledged_at:
                _event(connection, case_id, at, by, "acknowledged", None, {"by_contact": True})
        self.audit.record(by, "case_contacted", {"case_id": case_id, "method": method})
        return self.get(case_id)

    def resolve(
        self,
        case_id: str,
        by: str,
        code: str,
        note: str | None = None,
        contact_method: str | None = None,
        at: datetime | None = None,
    ) -> Case:
        """Close the case with a resolution code; ``contact_method`` records a call-back made with it."""
        if code not in RESOLUTION_CODES:
            raise CaseError(f"unknown resolution {code!r}; expected one of {', '.join(RESOLUTION_CODES)}")
        if contact_method is not None and contact_method not in CONTACT_METHODS:
            raise CaseError(
                f"unknown contact method {contact_method!r}; expected one of {', '.join(CONTACT_METHODS)}"
            )
        at = at or self._clock()
        with self.state.transaction() as connection:
            self._active(connection, case_id)
            connection.execute(
                "update cases set status = 'resolved', resolved_at = ?, resolved_by = ?, resolution_code = ?,"
                " customer_contacted = max(customer_contacted, ?),"
                " contact_method = coalesce(?, contact_method)"
                " where case_id = ?",
                [_iso(at), _actor(by), code, int(contact_method is not None), contact_method, case_id],
            )
            _event(
                connection,
                case_id,
                at,
                by,
                "resolved",
                _note(note),
                {"code": code, "contact": contact_method},
            )
        self.audit.record(by, "case_resolved", {"case_id": case_id, "code": code})
        return self.get(case_id)

    # -- the clock -------------------------------------------------------------------------------
    def escalate_overdue(self, config: AlertConfig, now: datetime | None = None) -> list[Case]:
        """Fresh cases still unacknowledged past their due time go to the regional manager, once."""
        now = now or self._clock()
        escalated: list[Case] = []
        with self.state.transaction() as connection:
            rows = connection.execute(
                f"select {', '.join(_COLUMNS)} from cases where status = 'open' and is_historical = 0"
                " and ack_due_at <= ? order by ack_due_at",
                [_iso(now)],
            ).fetchall()
            for row in rows:
                case = _case(row)
                new_owner = owner_for("regional_manager", case.store_id, case.region_id)
                connection.execute(
                    "update cases set status = 'escalated', escalated_at = ?, owner = ? where case_id = ?",
                    [_iso(now), new_owner, case.case_id],
                )
                _event(
                    connection,
                    case.case_id,
                    now,
                    SYSTEM_ACTOR,
                    "escalated",
                    None,
                    {"from": case.owner, "to": new_owner, "ack_due_at": case.ack_due_at},
                )
                moved = _case(
                    connection.execute(
                        f"select {', '.join(_COLUMNS)} from cases where case_id = ?", [case.case_id]
                    ).fetchone()
                )
                overdue = (now - datetime.fromisoformat(case.ack_due_at)).total_seconds() // 60
                _queue_for_position(
                    connection,
                    "escalation",
                    moved,
                    config,
                    now,
                    {"previous_owner": case.owner, "overdue_minutes": int(overdue)},
                )
                escalated.append(moved)
        return escalated

    def _existing(self, connection: sqlite3.Connection, case_id: str) -> Case:
        row = connection.execute(
            f"select {', '.join(_COLUMNS)} from cases where case_id = ?", [case_id]
        ).fetchone()
        if row is None:
            raise CaseError(f"no case {case_id!r}")
        return _case(row)

    def _active(self, connection: sqlite3.Connection, case_id: str) -> Case:
        case = self._existing(connection, case_id)
        if case.status == "resolved":
            raise CaseError(f"case {case_id} is resolved ({case.resolution_code}) since {case.resolved_at}")
        return case


def _new_case(
    item: Mapping[str, Any], key: str, matched: list[Rule], config: AlertConfig, now: datetime
) -> Case:
    rule = matched[0]
    feedback_at = _aware(item["feedback_at"])
    historical = now - feedback_at > config.fresh_horizon
    clock_start = feedback_at if historical else now
    context = {
        name: _plain(item.get(name))
        for name in (
            "store_name",
            "region_name",
            "channel",
            "nps_score",
            "lowest_csat_score",
            "lowest_csat_touchpoint",
            "rating",
            "text",
            "sentiment_label",
            "aspects",
            "staff_id",
            "staff_name",
            "member_tier",
            "tenure_days",
            "visits_90d",
            "spend_90d",
            "past_nps_scores",
            "amount",
        )
        if name in item
    }
    return Case(
        case_id=_case_id(now),
        subject_key=key,
        rule_id=rule.rule_id,
        matched_rules=tuple(r.rule_id for r in matched),
        severity=rule.severity,
        source=str(item["source"]),
        survey_id=item.get("survey_id"),
        response_id=item.get("response_id"),
        platform=item.get("platform"),
        review_id=item.get("review_id"),
        store_id=item.get("store_id"),
        region_id=item.get("region_id"),
        customer_id=item.get("customer_id"),
        transaction_id=item.get("transaction_id"),
        owner=owner_for(rule.responsible, item.get("store_id"), item.get("region_id")),
        status="open",
        is_historical=historical,
        feedback_at=_iso(feedback_at),
        opened_at=_iso(now),
        ack_due_at=_iso(clock_start + rule.ack_sla),
        resolve_due_at=_iso(clock_start + rule.resolve_sla),
        acknowledged_at=None,
        acknowledged_by=None,
        escalated_at=None,
        resolved_at=None,
        resolved_by=None,
        resolution_code=None,
        customer_contacted=False,
        contact_method=None,
        context=context,
    )


def _queue_for_position(
    connection: sqlite3.Connection,
    kind: str,
    case: Case,
    config: AlertConfig,
    now: datetime,
    about: dict | None = None,
) -> int:
    """Queue one message per channel of the case owner's route; a dedupe key makes it at most once.
    ``about``: what the message needs beyond the case (an escalation: who had it, how late)."""
    position = case.owner.split(":", 1)[0]
    route = config.routing.get(position)
    if route is None:
        return 0
    targets: list[tuple[str, str | None]] = []
    address = route.address(case.store_id, case.region_id)
    if address:
        targets.append(("email", address))
    targets.extend((webhook, None) for webhook in route.webhooks)
    payload = json.dumps(about or {}, ensure_ascii=False)
    queued = 0
    for channel, recipient in targets:
        cursor = connection.execute(
            "insert or ignore into notifications (dedupe_key, kind, case_id, channel, recipient, status,"
            " created_at, next_attempt_at, payload) values (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            [
                f"{kind}:{case.case_id}:{channel}:{recipient or ''}",
                kind,
                case.case_id,
                channel,
                recipient,
                _iso(now),
                _iso(now),
                payload,
            ],
        )
        queued += cursor.rowcount
    return queued


def _insert_case(connection: sqlite3.Connection, case: Case) -> None:
    values = []
    for name in _COLUMNS:
        value = getattr(case, name)
        if name == "context":
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        elif name == "matched_rules":
            value = json.dumps(list(value))
        elif isinstance(value, bool):
            value = int(value)
        values.append(value)
    connection.execute(
        f"insert into cases ({', '.join(_COLUMNS)}) values ({', '.join('?' for _ in _COLUMNS)})", values
    )


def _case(row: tuple) -> Case:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["matched_rules"] = tuple(json.loads(values["matched_rules"]))
    values["context"] = json.loads(values["context"])
    values["is_historical"] = bool(values["is_historical"])
    values["customer_contacted"] = bool(values["customer_contacted"])
    return Case(**values)


def _event(
    connection: sqlite3.Connection,
    case_id: str,
    at: datetime,
    actor: str,
    action: str,
    note: str | None,
    detail: Mapping[str, Any],
) -> None:
    connection.execute(
        "insert into case_events (case_id, at, actor, action, note, detail) values (?, ?, ?, ?, ?, ?)",
        [case_id, _iso(at), _actor(actor), action, note, json.dumps(dict(detail), ensure_ascii=False)],
    )


def _case_id(now: datetime) -> str:
    """Short, sortable and unique across processes: ``C-20261206-1a2b3c4d``."""
    return f"C-{now.astimezone(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"


def _actor(by: str) -> str:
    if not by or not str(by).strip():
        raise CaseError("a case action needs the name of who took it (--by)")
    return str(by).strip()[:200]


def _note(note: str | None) -> str | None:
    return note.strip()[:_NOTE_CHARS] if note and note.strip() else None


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        raise CaseError(f"feedback time {value!r} has no time zone")
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """JSON-safe copies of what the mart gives (numpy numbers, lists, NaN)."""
    if value is None:
        return None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)
