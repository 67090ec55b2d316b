"""Sending what the cases owe: each queued notification is claimed, rendered, sent and marked.

Notifications are queued in the transaction that opens or escalates a case (cases.py), so sending
is a separate, repeatable step: a run, a sensor tick or the clock sweep may all call
:func:`dispatch_pending`. A claim (a lease on the row) keeps two callers from sending the same
message; a sent row is never sent again; a row whose channel refuses after every retry is marked
failed with the reason, shown to the CX director and kept (the case is never lost with it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cxlake.access.pii import mask_free_text
from cxlake.alerts import messages
from cxlake.alerts.cases import Case, CaseStore
from cxlake.alerts.config import AlertConfig
from cxlake.alerts.delivery import Channel, ChannelError, RetryPolicy, send
from cxlake.contracts import BUSINESS_TIMEZONE

BUSINESS_ZONE = ZoneInfo(BUSINESS_TIMEZONE)
# A notice of a failed pipeline run to the data team (cxlake.alerts.run_failures): no case.
RUN_FAILURE_KIND = "run_failure"
# How long a claimed row stays claimed: longer than every retry of one send together.
_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Notification:
    notification_id: int
    dedupe_key: str
    kind: str
    case_id: str | None
    channel: str
    recipient: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None


@dataclass(frozen=True)
class Dispatched:
    sent: int
    failed: int


def dispatch_pending(
    store: CaseStore,
    config: AlertConfig,
    now: datetime | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Dispatched:
    """Send every pending notification that is due; returns how many went out and how many failed."""
    now = now or datetime.now(UTC)
    environ = os.environ if environ is None else environ
    retry = RetryPolicy(
        attempts=config.delivery_attempts,
        backoff_seconds=config.delivery_backoff_seconds,
        timeout_seconds=config.delivery_timeout_seconds,
    )
    sent = failed = 0
    for row in _due(store, now):
        if not _claim(store, row.notification_id, now):
            continue  # another dispatcher has it
        try:
            channel = _channel(config, row.channel, environ)
            message = _message(store, config, row)
        except (ChannelError, KeyError, ValueError) as error:
            _finish(store, row.notification_id, ok=False, attempts=0, error=str(error), response=None)
            failed += 1
            continue
        recipients = [row.recipient] if row.recipient else []
        kwargs = {"retry": retry} if sleep is None else {"retry": retry, "sleep": sleep}
        result = send(channel, message, recipients, **kwargs)
        _finish(store, row.notification_id, result.ok, result.attempts, result.error, result.response)
        if result.ok:
            sent += 1
        else:
            failed += 1
    return Dispatched(sent, failed)


def notifications(store: CaseStore, case_id: str | None = None) -> list[Notification]:
    """The notifications of one case (or all), oldest first."""
    with store.state.transaction() as connection:
        rows = connection.execute(
            f"select {', '.join(Notification.__dataclass_fields__)} from notifications"
            " where ? is null or case_id = ? order by notification_id",
            [case_id, case_id],
        ).fetchall()
    return [Notification(*row) for row in rows]


def queue_digest(store: CaseStore, config: AlertConfig, digest: Mapping[str, Any], now: datetime) -> int:
    """Queue the day's digest to the director's route, once per day and channel."""
    route = config.routing.get(config.digest_to)
    targets: list[tuple[str, str | None]] = []
    if route is not None and route.email:
        targets.append(("email", route.address(None, None)))
    targets.extend((webhook, None) for webhook in config.digest_webhooks)
    return queue_notices(store, "digest", f"digest:{digest['day']}", targets, digest, now)


def queue_notices(
    store: CaseStore,
    kind: str,
    subject: str,
    targets: Sequence[tuple[str, str | None]],
    payload: Mapping[str, Any],
    now: datetime,
) -> int:
    """Queue one caseless notice of ``kind`` per (channel, recipient) of ``targets``, rendered later
    from ``payload``; ``subject`` (the digest's day, the failed run) makes each once only. Returns
    how many were new."""
    queued = 0
    with store.state.transaction() as connection:
        for channel, recipient in targets:
            cursor = connection.execute(
                "insert or ignore into notifications (dedupe_key, kind, case_id, channel, recipient, status,"
                " created_at, next_attempt_at, payload) values (?, ?, null, ?, ?, 'pending', ?, ?, ?)",
                [
                    f"{subject}:{channel}:{recipient or ''}",
                    kind,
                    channel,
                    recipient,
                    _iso(now),
                    _iso(now),
                    json.dumps(dict(payload), ensure_ascii=False, default=str),
                ],
            )
            queued += cursor.rowcount
    return queued


def case_fields(case: Case, config: AlertConfig) -> dict[str, Any]:
    """What a message says about a case; the customer's words are masked (messages leave cxlake
    through third-party mail and chat servers, the full text is one tap away in the explorer)."""
    context = case.context
    rule = config.rule(case.rule_id) if case.rule_id in {r.rule_id for r in config.rules} else None
    if case.source == "review":
        score_label = f"评分 Rating {context.get('rating')}/5" if context.get("rating") is not None else None
    else:
        score_label = f"NPS {context.get('nps_score')}" if context.get("nps_score") is not None else None
    csat = None
    if context.get("lowest_csat_score") is not None:
        csat = f"{context.get('lowest_csat_touchpoint')} {context.get('lowest_csat_score')}/5"
    customer = None
    if case.customer_id:
        past = context.get("past_nps_scores")
        customer = {
            "tier": context.get("member_tier"),
            "tenure_days": context.get("tenure_days"),
            "visits_90d": context.get("visits_90d"),
            "spend_90d": context.get("spend_90d"),
            "past_scores": [int(s) for s in str(past).split(",") if s.strip().isdigit()] if past else [],
        }
    return {
        "case_id": case.case_id,
        "rule_id": case.rule_id,
        "rule_label": rule.label("zh") + " / " + rule.label("en") if rule else case.rule_id,
        "severity": case.severity,
        "source": case.source,
        "store_id": case.store_id,
        "store_name": context.get("store_name"),
        "region_name": context.get("region_name"),
        "score_label": score_label,
        "csat_lowest": csat,
        "comment": mask_free_text(context.get("text")),
        "customer": customer,
        "transaction_id": case.transaction_id,
        "channel": context.get("channel"),
        "staff_name": context.get("staff_name"),
        "feedback_local": _local(case.feedback_at),
        "ack_due_local": _local(case.ack_due_at),
        "resolve_due_local": _local(case.resolve_due_at),
        "link": config.case_link(case.case_id),
        "owner": case.owner,
    }


def _message(store: CaseStore, config: AlertConfig, row: Notification) -> messages.Message:
    if row.kind in ("digest", RUN_FAILURE_KIND):
        with store.state.transaction() as connection:
            payload = connection.execute(
                "select payload from notifications where notification_id = ?", [row.notification_id]
            ).fetchone()[0]
        if row.kind == RUN_FAILURE_KIND:
            return messages.run_failure_message(json.loads(payload))
        return messages.digest_message(json.loads(payload))
    case = store.get(str(row.case_id))
    fields = case_fields(case, config)
    if row.kind == "escalation":
        with store.state.transaction() as connection:
            payload = json.loads(
                connection.execute(
                    "select payload from notifications where notification_id = ?", [row.notification_id]
                ).fetchone()[0]
            )
        fields["owner"] = payload.get("previous_owner") or case.owner
        fields["overdue_minutes"] = payload.get("overdue_minutes")
        return messages.escalation_message(fields)
    return messages.alert_message(fields)


def _channel(config: AlertConfig, name: str, environ: Mapping[str, str]) -> Channel:
    settings = config.channels.get(name)
    if settings is None:
        raise ChannelError(f"{config.source_file.name}: no channel named {name!r}")
    channel = Channel.from_config(name, settings, environ)
    if not channel.configured:
        raise ChannelError(f"channel {name!r} is not configured: {', '.join(channel.missing_env)} not set")
    return channel


def _due(store: CaseStore, now: datetime) -> list[Notification]:
    with store.state.transaction() as connection:
        rows = connection.execute(
            f"select {', '.join(Notification.__dataclass_fields__)} from notifications"
            " where status = 'pending' and next_attempt_at <= ? order by notification_id",
            [_iso(now)],
        ).fetchall()
    return [Notification(*row) for row in rows]


def _claim(store: CaseStore, notification_id: int, now: datetime) -> bool:
    with store.state.transaction() as connection:
        cursor = connection.execute(
            "update notifications set next_attempt_at = ? where notification_id = ?"
            " and status = 'pending' and next_attempt_at <= ?",
            [_iso(now + _LEASE), notification_id, _iso(now)],
        )
        return cursor.rowcount == 1


def _finish(
    store: CaseStore, notification_id: int, ok: bool, attempts: int, error: str | None, response: str | None
) -> None:
    with store.state.transaction() as connection:
        connection.execute(
            "update notifications set status = ?, attempts = attempts + ?, last_error = ?, response = ?,"
            " sent_at = ? where notification_id = ?",
            [
                "sent" if ok else "failed",
                attempts,
                None if ok else (error or "failed")[:500],
                (response or "")[:500] or None,
                _iso(datetime.now(UTC)) if ok else None,
                notification_id,
            ],
        )


def _local(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(BUSINESS_ZONE).strftime("%Y-%m-%d %H:%M")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")
