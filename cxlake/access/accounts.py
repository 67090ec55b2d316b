"""Explorer accounts: argon2 password hashes, sessions that expire, lockout after repeated failures.

Accounts live in the app-state store (never in the repository), so they outlive warehouse rebuilds
and a deploy cannot leak them. A sign-in gives the user a random token and keeps only its sha256,
so a copy of the store does not let anyone in. Every sign-in, failure and account change is written
to the audit log.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cxlake.access.audit import AuditLog
from cxlake.access.roles import Principal, UnknownRole, role
from cxlake.app_state import AppState

# NIST SP 800-63B-4 asks 15 characters of a password that is the only factor; we settle for 12 and
# count on the lockout, since the explorer sits inside the company network.
MIN_PASSWORD_LENGTH = 12
# A name shows in audit rows and CLI tables: printable, no spaces, not too long.
_NAME = re.compile(r"[^\s\x00-\x1f]{1,64}")
WRONG_NAME_OR_PASSWORD = "wrong name or password"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class AccountError(ValueError):
    """Bad input for an account: unknown role, missing or extra scope, duplicate name, weak password."""


class SignInError(Exception):
    """A refused sign-in; the message is safe to show as is (it never says which half was wrong)."""


@dataclass(frozen=True)
class Account:
    """An account as others may see it: never the hash, never the lockout counters."""

    name: str
    role: str
    scope_id: str | None
    disabled: bool
    created_at: str  # ISO-8601 UTC

    @property
    def principal(self) -> Principal:
        return Principal(self.name, self.role, self.scope_id)


@dataclass(frozen=True)
class Session:
    """What the UI keeps after a sign-in: the token (shown once, stored only hashed) and who it is."""

    token: str
    principal: Principal
    expires_at: datetime


class Accounts:
    """Add, change and sign in accounts of the app-state store; each call is its own transaction."""

    def __init__(
        self,
        state: AppState | None = None,
        *,
        session_minutes: int = 480,
        idle_minutes: int = 60,
        max_failures: int = 5,
        lockout_minutes: int = 15,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: PasswordHasher | None = None,
    ) -> None:
        """``hasher`` defaults to argon2id with argon2-cffi's settings (RFC 9106's second choice); tests
        pass cheaper ones. Hashes made with other settings are upgraded at the next sign-in."""
        self.state = state if state is not None else AppState.shared()
        self.session_length = timedelta(minutes=session_minutes)
        self.idle_length = timedelta(minutes=idle_minutes)
        self.max_failures = max_failures
        self.lockout_length = timedelta(minutes=lockout_minutes)
        self._clock = clock
        self.audit = AuditLog(self.state, clock=clock)
        self._hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        """A hash to check unknown names against, so they take as long as known ones."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    def add(
        self, name: str, role: str, password: str, scope_id: str | None = None, *, by: str = "system"
    ) -> Account:
        """Create an account; ``by`` is who did it, for the audit log."""
        name, scope_id = _checked_name(name), _checked_scope(role, scope_id)
        _check_password(name, password)
        created_at = self._iso(self._now())
        try:
            with self.state.transaction() as connection:
                connection.execute(
                    "insert into accounts (name, role, scope_id, password_hash, created_at)"
                    " values (?, ?, ?, ?, ?)",
                    [name, role, scope_id, self._hasher.hash(password), created_at],
                )
        except sqlite3.IntegrityError as error:
            raise AccountError(f"an account named {name!r} already exists") from error
        self.audit.record(by, "user_added", {"name": name, "role": role, "scope_id": scope_id})
        return Account(name, role, scope_id, False, created_at)

    def reset(
        self, name: str, role: str, password: str, scope_id: str | None = None, *, by: str = "system"
    ) -> Account:
        """Create the account, or make an existing one exactly this: role, scope, password, enabled.

        For ``cxlake users demo``, which must leave working accounts however often it runs.
        """
        if self.get(name) is None:
            return self.add(name, role, password, scope_id, by=by)
        scope_id = _checked_scope(role, scope_id)
        _check_password(name, password)
        with self.state.transaction() as connection:
            connection.execute(
                "update accounts set role = ?, scope_id = ?, password_hash = ?, disabled = 0,"
                " failed_count = 0, failing_since = null, locked_until = null where name = ?",
                [role, scope_id, self._hasher.hash(password), name],
            )
            connection.execute("delete from sessions where name = ?", [name])
        self.audit.record(by, "user_reset", {"name": name, "role": role, "scope_id": scope_id})
        return self._existing(name)

    def get(self, name: str) -> Account | None:
        with self.state.transaction() as connection:
            row = connection.execute(
                "select name, role, scope_id, disabled, created_at from accounts where name = ?", [name]
            ).fetchone()
        return None if row is None else Account(row[0], row[1], row[2], bool(row[3]), row[4])

    def list(self) -> list[Account]:
        with self.state.transaction() as connection:
            rows = connection.execute(
                "select name, role, scope_id, disabled, created_at from accounts order by name"
            ).fetchall()
        return [Account(name, key, scope, bool(disabled), at) for name, key, scope, disabled, at in rows]

    def disable(self, name: str, *, by: str = "system") -> Account:
        """Refuse the account's sign-ins from now on and end the sessions it has open."""
        account = self._existing(name)
        with self.state.transaction() as connection:
            connection.execute("update accounts set disabled = 1 where name = ?", [account.name])
            connection.execute("delete from sessions where name = ?", [account.name])
        self.audit.record(by, "user_disabled", {"name": account.name})
        return self._existing(account.name)

    def set_password(self, name: str, password: str, *, by: str = "system") -> Account:
        """Replace the password, end the account's sessions and lift any lockout."""
        account = self._existing(name)
        _check_password(account.name, password)
        with self.state.transaction() as connection:
            connection.execute(
                "update accounts set password_hash = ?, failed_count = 0, failing_since = null,"
                " locked_until = null where name = ?",
                [self._hasher.hash(password), account.name],
            )
            connection.execute("delete from sessions where name = ?", [account.name])
        self.audit.record(by, "password_set", {"name": account.name})
        return account

    def sign_in(self, name: str, password: str) -> Session:
        """A new session for the right name and password; else :class:`SignInError`, and audited."""
        now = self._now()
        with self.state.transaction() as connection:
            row = connection.execute(
                "select name, role, scope_id, disabled, password_hash, locked_until from accounts"
                " where name = ?",
                [name],
            ).fetchone()
        if row is None:
            self._refuse_unknown(name, password, now)
        stored_name, key, scope_id, disabled, password_hash, locked_until = row
        if locked_until is not None and locked_until > self._iso(now):
            self._verify(password_hash, password)  # as slow as every other answer
            self._refuse(stored_name, "locked", self._locked_message(locked_until, now))
        if not self._verify(password_hash, password):
            self._count_failure(stored_name, now)
            self._refuse(stored_name, "wrong_password", WRONG_NAME_OR_PASSWORD)
        if disabled:
            self._refuse(stored_name, "disabled", "account disabled")
        token = secrets.token_urlsafe(32)
        principal = Principal(stored_name, key, scope_id)
        expires_at = now + self.session_length
        # Hashed before the transaction, so the slow hash never holds the store's write lock.
        if self._hasher.check_needs_rehash(password_hash):
            password_hash = self._hasher.hash(password)
        with self.state.transaction() as connection:
            connection.execute(
                "update accounts set password_hash = ?, failed_count = 0, failing_since = null,"
                " locked_until = null where name = ?",
                [password_hash, stored_name],
            )
            connection.execute(
                "delete from sessions where expires_at <= ? or last_seen_at <= ?",
                [self._iso(now), self._iso(now - self.idle_length)],
            )
            connection.execute(
                "insert into sessions (token_sha256, name, created_at, expires_at, last_seen_at)"
                " values (?, ?, ?, ?, ?)",
                [_digest(token), stored_name, self._iso(now), self._iso(expires_at), self._iso(now)],
            )
        self.audit.record(stored_name, "sign_in", {"expires_at": self._iso(expires_at)})
        return Session(token, principal, expires_at)

    def principal(self, token: str) -> Principal | None:
        """Who holds ``token``, or None when it is unknown, expired, idle too long or disabled."""
        if not token:
            return None
        now = self._now()
        digest = _digest(token)
        with self.state.transaction() as connection:
            row = connection.execute(
                "select a.name, a.role, a.scope_id, a.disabled, s.expires_at, s.last_seen_at"
                " from sessions as s join accounts as a on a.name = s.name where s.token_sha256 = ?",
                [digest],
            ).fetchone()
            if row is None:
                return None
            name, key, scope_id, disabled, expires_at, last_seen_at = row
            if disabled or expires_at <= self._iso(now) or last_seen_at <= self._iso(now - self.idle_length):
                connection.execute("delete from sessions where token_sha256 = ?", [digest])
                return None
            connection.execute(
                "update sessions set last_seen_at = ? where token_sha256 = ?", [self._iso(now), digest]
            )
        return Principal(name, key, scope_id)

    def sign_out(self, token: str) -> None:
        """End the session (a no-op for an unknown token, so a double click is harmless)."""
        digest = _digest(token or "")
        with self.state.transaction() as connection:
            row = connection.execute("select name from sessions where token_sha256 = ?", [digest]).fetchone()
            connection.execute("delete from sessions where token_sha256 = ?", [digest])
        if row is not None:
            self.audit.record(row[0], "sign_out")

    def _existing(self, name: str) -> Account:
        account = self.get(name)
        if account is None:
            raise AccountError(f"no account named {name!r}")
        return account

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _refuse_unknown(self, name: str, password: str, now: datetime) -> NoReturn:
        """Refuse a name no account has exactly as a real account would be refused: the same slow
        hash, the same failure count and lockout (kept by a hash of the name, in
        ``sign_in_failures``), the same messages; so neither the words nor the time of an answer tell
        whether an account exists. Only the audit log says ``unknown_name``."""
        key = _name_key(name)
        window_start = self._iso(now - self.lockout_length)
        with self.state.transaction() as connection:
            row = connection.execute(
                "select locked_until from sign_in_failures where name_key = ?", [key]
            ).fetchone()
        locked_until = row[0] if row is not None else None
        self._verify(self._dummy_hash, password)
        actor = (name or "").strip()[:64] or "?"
        if locked_until is not None and locked_until > self._iso(now):
            self._refuse(actor, "unknown_name", self._locked_message(locked_until, now))
        with self.state.transaction() as connection:
            # Rows whose streak and lock are both over say nothing any more: the table stays small
            # however many names are tried.
            connection.execute(
                "delete from sign_in_failures where (locked_until is null or locked_until <= ?)"
                " and (failing_since is null or failing_since <= ?)",
                [self._iso(now), window_start],
            )
            (count,) = connection.execute(
                "insert into sign_in_failures (name_key, failed_count, failing_since) values (?, 1, ?)"
                " on conflict (name_key) do update set"
                " failed_count = case when failing_since is null or failing_since <= ? then 1"
                " else failed_count + 1 end,"
                " failing_since = case when failing_since is null or failing_since <= ?"
                " then excluded.failing_since else failing_since end"
                " returning failed_count",
                [key, self._iso(now), window_start, window_start],
            ).fetchone()
            if count >= self.max_failures:
                connection.execute(
                    "update sign_in_failures set failed_count = 0, failing_since = null, locked_until = ?"
                    " where name_key = ?",
                    [self._iso(now + self.lockout_length), key],
                )
        self._refuse(actor, "unknown_name", WRONG_NAME_OR_PASSWORD)

    @staticmethod
    def _locked_message(locked_until: str, now: datetime) -> str:
        wait = datetime.fromisoformat(locked_until) - now
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return f"locked, try again in {minutes} minutes"

    def _count_failure(self, name: str, now: datetime) -> None:
        """Count a failure in the current streak; the ``max_failures``-th within the window locks."""
        window_start = self._iso(now - self.lockout_length)
        locked_until: str | None = None
        with self.state.transaction() as connection:
            # One UPDATE reads and writes the counter, so two concurrent failures both count.
            (count,) = connection.execute(
                "update accounts set"
                " failed_count = case when failing_since is null or failing_since <= ? then 1"
                " else failed_count + 1 end,"
                " failing_since = case when failing_since is null or failing_since <= ? then ?"
                " else failing_since end"
                " where name = ? returning failed_count",
                [window_start, window_start, self._iso(now), name],
            ).fetchone()
            if count >= self.max_failures:
                locked_until = self._iso(now + self.lockout_length)
                connection.execute(
                    "update accounts set failed_count = 0, failing_since = null, locked_until = ?"
                    " where name = ?",
                    [locked_until, name],
                )
        if locked_until is not None:
            self.audit.record(name, "locked", {"failures": count, "until": locked_until})

    def _refuse(self, actor: str, reason: str, message: str) -> NoReturn:
        self.audit.record(actor, "sign_in_failed", {"reason": reason})
        raise SignInError(message)

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @staticmethod
    def _iso(moment: datetime) -> str:
        """One text form for every stored time, so SQL compares them in time order."""
        return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _name_key(name: str) -> str:
    """What ``sign_in_failures`` keeps of a name no account has: a sha256 (a name typed by mistake
    may be someone's password or e-mail address), of the name with ASCII letters lowered, as the
    accounts table's ``collate nocase`` compares names."""
    lowered = (name or "").translate(_ASCII_LOWER)
    return hashlib.sha256(lowered.encode("utf-8")).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.fullmatch(name):
        raise AccountError("a name is 1 to 64 characters without spaces")
    return name


def _checked_scope(key: str, scope_id: str | None) -> str | None:
    """The scope id the role needs (a region or store id), refusing a missing or a needless one."""
    try:
        kind = role(key).scope_kind
    except UnknownRole as error:
        raise AccountError(str(error)) from error
    scope_id = (scope_id or "").strip() or None
    if kind != "all" and scope_id is None:
        raise AccountError(f"role {key} needs a scope id (a {kind} id)")
    if kind == "all" and scope_id is not None:
        raise AccountError(f"role {key} sees everything; it takes no scope id (got {scope_id!r})")
    return scope_id


def _check_password(name: str, password: str) -> None:
    if not password or not password.strip() or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip().casefold() == name.casefold():
        raise AccountError("a password cannot be the account's name")
