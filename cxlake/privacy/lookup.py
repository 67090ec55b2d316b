"""Finding everything that identifies the person a request names, from the warehouse.

A request names one detail. The CRM rows (loaded or quarantined) that hold it give the person's
customer ids, and the CRM rows of those ids every phone, e-mail and name they were delivered with
(one hop only: a phone two members share makes neither member the other). Their transactions (and
invitations) and the survey responses that cite those transactions, or their id, phone or e-mail,
are the keys of records that are theirs without naming them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from cxlake.privacy.identity import IdentityError, Person, national_phone, normal_email
from cxlake.privacy.records import Keys

_CRM_TABLES = ("raw.crm_customers", "quarantine.crm_customers")
# A key shorter than this could be any short value ("17"): never a link on its own.
_MIN_KEY_CHARS = 6
_TRANSACTION_TABLES = ("raw.pos_transactions", "raw.survey_invitations", "quarantine.pos_transactions")


@dataclass(frozen=True)
class Request:
    """What the caller named: exactly one of a customer id, a phone, an e-mail."""

    customer_id: str | None = None
    phone: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.customer_id, self.phone, self.email) if v is not None and v.strip()]
        if len(given) != 1:
            raise IdentityError("name exactly one of a customer id, a phone or an e-mail")

    @property
    def kind(self) -> str:
        return "customer" if self.customer_id else "phone" if self.phone else "email"

    @property
    def normalised(self) -> str:
        """The named detail as compared (what the erasure record hashes)."""
        if self.customer_id:
            return self.customer_id.strip()
        if self.phone:
            return national_phone(self.phone)
        return normal_email(self.email or "")


def _existing(connection: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _crm_rows(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for table in _CRM_TABLES:
        if _existing(connection, table):
            rows += connection.execute(
                f"select customer_id, phone, email, name from {table} where customer_id is not null"
            ).fetchall()
    return rows


def _phone_or_none(value: object) -> str | None:
    try:
        return national_phone(str(value)) if value else None
    except IdentityError:
        return None


def _email_or_none(value: object) -> str | None:
    try:
        return normal_email(str(value)) if value else None
    except IdentityError:
        return None


def find_person(connection: duckdb.DuckDBPyConnection | None, request: Request) -> Person:
    """The person the request names, with every detail the CRM holds of them (the request's own
    detail even when the CRM holds nothing: it is erased wherever else it appears)."""
    wanted = request.normalised
    rows = _crm_rows(connection) if connection is not None else []
    if request.kind == "customer":
        ids = {wanted}
    elif request.kind == "phone":
        ids = {r[0] for r in rows if _phone_or_none(r[1]) == wanted}
    else:
        ids = {r[0] for r in rows if _email_or_none(r[2]) == wanted}
    theirs = [r for r in rows if r[0] in ids]
    return Person.of(
        customer_ids=ids,
        phones=[p for r in theirs if (p := _phone_or_none(r[1]))]
        + ([wanted] if request.kind == "phone" else []),
        emails=[e for r in theirs if (e := _email_or_none(r[2]))]
        + ([wanted] if request.kind == "email" else []),
        names=[r[3] for r in theirs if r[3]],
    )


def _token_pattern(values: list[str]) -> str:
    return r"(^|[^A-Za-z0-9])(" + "|".join(re.escape(v) for v in values) + r")([^A-Za-z0-9]|$)"


def linked_keys(connection: duckdb.DuckDBPyConnection | None, person: Person) -> frozenset[str]:
    """The person's transaction ids and the ids of the survey responses that cite them (or the
    person's id, phone or e-mail)."""
    if connection is None or not person.customer_ids and not person.emails:
        return frozenset()
    ids = list(person.customer_ids)
    transactions: set[str] = set()
    for table in _TRANSACTION_TABLES:
        if ids and _existing(connection, table):
            transactions |= {
                row[0]
                for row in connection.execute(
                    f"select distinct transaction_id from {table}"
                    " where list_contains(?, customer_id) and transaction_id is not null",
                    [ids],
                ).fetchall()
            }
    tokens = sorted(transactions | set(ids))
    responses: set[tuple[str, str]] = set()
    tables = connection.execute(
        """
        select c.table_schema || '.' || c.table_name,
            list(c2.column_name order by c2.ordinal_position)
        from information_schema.columns as c
        join information_schema.columns as c2
            on c2.table_schema = c.table_schema and c2.table_name = c.table_name and c2.data_type = 'VARCHAR'
        join information_schema.tables as t
            on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
        where c.column_name = 'response_id' and c.table_schema in ('raw', 'quarantine')
            and exists (
                select 1 from information_schema.columns as s
                where s.table_schema = c.table_schema and s.table_name = c.table_name
                    and s.column_name = 'survey_id'
            )
        group by 1
        """
    ).fetchall()
    for table, columns in tables:
        terms, params = [], []
        for column in columns:
            quoted = '"' + column.replace('"', '""') + '"'
            if tokens:
                terms.append(f"regexp_matches({quoted}, ?)")
                params.append(_token_pattern(tokens))
            for email in person.emails:
                terms.append(f"strpos(lower({quoted}), ?) > 0")
                params.append(email)
        if not terms:
            continue
        schema, name = table.split(".")
        responses |= {
            (row[0], row[1])
            for row in connection.execute(
                f'select distinct survey_id, response_id from "{schema}"."{name}"'
                f" where response_id is not null and ({' or '.join(terms)})",
                params,
            ).fetchall()
        }
    return frozenset(
        {t for t in transactions if len(t) >= _MIN_KEY_CHARS} | {f"{s}:{r}" for s, r in responses}
    )


def keys_for(connection: duckdb.DuckDBPyConnection | None, request: Request) -> Keys:
    """The person the request names and the keys of their records."""
    person = find_person(connection, request)
    return Keys(person, linked_keys(connection, person))
