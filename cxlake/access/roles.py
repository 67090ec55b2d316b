"""Roles, the rows each one may see (its scope) and whether it sees customers' personal data.

A role is a product contract, not site configuration: the pages each role opens and whether it
needs PII for follow-up are fixed here, so the explorer, the SQL sandbox and the CLI agree. A user's
scope id (which region, which store) is data, kept with the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cxlake.access import pii

SCOPE_KINDS = ("all", "region", "store")
# The column of the marts that each narrow scope kind filters on.
SCOPE_COLUMNS = {"region": "region_id", "store": "store_id"}

# Pages of the explorer, by key; views/<key>.py renders each.
PAGES = (
    "overview",
    "leaderboard",
    "integrity",
    "feedback",
    "loop",
    "journey",
    "voice",
    "insights",
    "sql",
    "data_quality",
    "admin",
)


@dataclass(frozen=True)
class Role:
    """What a role may do: its scope kind, its pages and whether it sees PII unmasked."""

    key: str
    scope_kind: Literal["all", "region", "store"]
    pages: tuple[str, ...]
    sees_pii: bool


# Store and regional managers call unhappy customers back, so they see names and phone numbers of
# their own scope; everyone else sees them masked (the CX director and analysts work on aggregates).
ROLES: dict[str, Role] = {
    role.key: role
    for role in (
        Role("admin", "all", PAGES, sees_pii=False),
        Role(
            "cx_director",
            "all",
            tuple(page for page in PAGES if page != "admin"),
            sees_pii=False,
        ),
        Role(
            "regional_manager",
            "region",
            ("overview", "leaderboard", "feedback", "loop", "journey", "voice", "insights"),
            sees_pii=True,
        ),
        Role(
            "store_manager",
            "store",
            ("overview", "leaderboard", "feedback", "journey", "voice", "insights"),
            sees_pii=True,
        ),
        Role(
            "analyst",
            "all",
            ("overview", "leaderboard", "feedback", "journey", "voice", "insights", "sql"),
            sees_pii=False,
        ),
        Role("steward", "all", ("data_quality",), sees_pii=False),
    )
}
SQL_ROLES = tuple(key for key, role in ROLES.items() if "sql" in role.pages)


class UnknownRole(ValueError):
    """A role name that is not one of :data:`ROLES`."""


def role(key: str) -> Role:
    if key not in ROLES:
        raise UnknownRole(f"unknown role {key!r}; expected one of {', '.join(ROLES)}")
    return ROLES[key]


@dataclass(frozen=True)
class Scope:
    """The rows a user may see: everything, some regions or some stores.

    Unlike a filter, an empty ``ids`` for a region or store scope means *nothing*, so a half-built
    scope fails closed.
    """

    kind: Literal["all", "region", "store"]
    ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SCOPE_KINDS:
            raise ValueError(f"unknown scope kind {self.kind!r}; expected one of {SCOPE_KINDS}")
        if not isinstance(self.ids, tuple):
            raise TypeError("Scope.ids must be a tuple, so the scope stays hashable and immutable")

    @classmethod
    def everything(cls) -> Scope:
        return cls("all")


def scope_condition(scope: Scope, columns: frozenset[str] | None = None) -> tuple[str, list[object]]:
    """A SQL condition (with bound parameters) that keeps only the scope's rows.

    ``columns``, when given, are the relation's columns: a narrow scope over a relation without its
    scope column gives ``false`` (nothing), never everything.
    """
    if not isinstance(scope, Scope):
        raise TypeError(f"a Scope is required, got {type(scope).__name__}")
    if scope.kind == "all":
        return "true", []
    column = SCOPE_COLUMNS[scope.kind]
    if columns is not None and column not in columns:
        return "false", []
    return f"list_contains(?::varchar[], {column})", [list(scope.ids)]


@dataclass(frozen=True)
class Principal:
    """A signed-in (or CLI-named) user as the data layer sees them."""

    name: str
    role: str
    scope_id: str | None = None

    def __post_init__(self) -> None:
        definition = role(self.role)
        if definition.scope_kind != "all" and not self.scope_id:
            raise ValueError(f"role {self.role} needs a scope id ({definition.scope_kind})")

    @property
    def definition(self) -> Role:
        return role(self.role)

    @property
    def scope(self) -> Scope:
        kind = self.definition.scope_kind
        return Scope("all") if kind == "all" else Scope(kind, (str(self.scope_id),))

    @property
    def sees_pii(self) -> bool:
        return self.definition.sees_pii

    def may_open(self, page: str) -> bool:
        return page in self.definition.pages


# Columns of the marts that identify a person. Masking keeps enough to recognise a record on a
# call-back list (first character of a name, last four digits of a phone, the mail domain).
PII_COLUMNS = {"customer_name": "name", "phone": "phone", "email": "email"}
# A staff member's name is an employee's personal data: the store and regional managers who thank
# and coach them read it, the chain-wide roles the staff id and the masked name (marts.dim_staff,
# mart_frontline_staff, mart_integrity_staff, fct_feedback_items).
STAFF_PII_COLUMNS = {"staff_name": "name"}
# Text a customer wrote (or words cut from it): it may hold contact details ("call me on 138…"), so
# for users without PII rights those are masked inside the text (cxlake.access.pii), the rest kept.
FREE_TEXT_COLUMNS = {
    "comment": "free_text",  # fct_survey_responses: the survey's open answer
    "content": "free_text",  # fct_reviews: the review text
    "keywords": "free_text",  # fct_reviews: words cut from the review
    "keyword": "free_text",  # fct_review_keywords, fct_review_cooccurrences
    "other_keyword": "free_text",  # fct_review_cooccurrences
    "text": "free_text",  # fct_feedback_items: the comment or review behind a case
}
# Quarantined rows are columns as delivered, and a bad row may carry a phone in any of them: these
# columns are masked by their kind, every other text column as free text (lineage columns are ours).
QUARANTINE_PII_COLUMNS = {
    "name": "name",
    "customer_name": "name",
    "staff_name": "name",
    "user_nickname": "name",
    "phone": "phone",
    "email": "email",
    "ip_address": "ip",
}


def quarantine_kind(column: str) -> str:
    """How a delivered column of a quarantined row is masked for users without PII rights."""
    return QUARANTINE_PII_COLUMNS.get(column, "free_text")


def masked_sql(column: str, kind: str) -> str:
    """A SQL expression that masks ``column`` (an identifier from constant code, never user text).

    It calls the masking functions of :mod:`cxlake.access.pii`, so the connection must have been
    through ``pii.register``; one that was not fails with an unknown function, it never leaks.
    """
    return f"{pii.sql_function(kind)}({column})"


def mart_pii_kind(column: str) -> str | None:
    """How a mart's ``column`` is masked for users without PII rights (None: it is not masked)."""
    return PII_COLUMNS.get(column) or STAFF_PII_COLUMNS.get(column) or FREE_TEXT_COLUMNS.get(column)


def column_sql(column: str, sees_pii: bool) -> str:
    """``column`` as the user may read it: masked when it is PII (or free text that may hold some)
    and the user may not see PII."""
    kind = mart_pii_kind(column)
    if kind is None or sees_pii:
        return column
    return f"{masked_sql(column, kind)} as {column}"
