"""Which transactions get a survey invitation: contact-frequency rules against survey fatigue.

A chain that invites after every order asks its loyal customers again and again (in a 30-day
demo before these rules, 608 of 3,803 invited members were invited twice or more, 295 of them
within 7 days). :func:`select_invitations` decides once per transaction and day, from the rules in
``cxlake/config/invitations.yaml``, who is invited and, for everyone else, which rule suppressed
them; the daily invitation asset and the demo generator's survey tool both call it, so the demo
invites exactly what cxlake would. :func:`write_outbox` writes the day's invitations as the file
each survey tool imports.

Pure and core: pandas in, pandas out, no warehouse, no clock, no global random state.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

CONFIG_FILE = "cxlake/config/invitations.yaml"
INVITED, SUPPRESSED = "invited", "suppressed"
# The suppression rules in the order they are tried: a row carries the first that applies.
RULES = ("guest", "no_contact", "open_case", "recently_invited", "quarter_cap", "same_day", "quota")
TRANSACTION_COLUMNS = ("transaction_id", "store_id", "channel", "customer_id")
HISTORY_COLUMNS = ("customer_id", "invited_on")
DECISION_COLUMNS = (
    "survey_id",
    "is_eligible",
    "is_first_time",
    "days_since_last_invitation",
    "quota",
    "decision",
    "rule",
)
TOOLS = ("qualtrics", "wjx")
CONTACT_FIELDS = ("email", "phone")

# Qualtrics contact-list import: the built-in fields, then embedded data. The embedded-data names
# are the fields survey SV_cxlakeApp reads back from its response export
# (cxlake/surveys/mappings/SV_cxlakeApp.yaml), so each response joins its order and store.
QUALTRICS_COLUMNS = (
    "FirstName",
    "LastName",
    "Email",
    "PhoneNumber",
    "ExternalDataReference",
    "Language",
    "transaction_id",
    "store_id",
    "channel",
)
# 问卷星 SMS sender list (our choice of columns; the sender sends each row the survey's link):
# 手机号码 the 11-digit mobile number the link goes to; 姓名 for the greeting; sojumpparm the
# transaction id, 问卷星's custom link parameter, returned with the answer so it joins its order;
# 门店编号 the store, prefilled into the store question.
WJX_COLUMNS = ("手机号码", "姓名", "sojumpparm", "门店编号")
_COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟")
    + ("公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯")
)


@dataclass(frozen=True)
class SurveyRule:
    """One survey: the channels whose transactions it invites and the contacts it can use."""

    survey_id: str
    tool: str
    channels: tuple[str, ...]
    contact: tuple[str, ...]
    language: str | None = None


@dataclass(frozen=True)
class InvitationRules:
    min_days_between_invitations: int
    max_invitations_per_quarter: int
    quarter_window_days: int
    suppress_while_case_open: bool
    quota_share: float
    quota_floor: int
    seed: int
    surveys: tuple[SurveyRule, ...]

    def survey_of_channel(self) -> dict[str, str]:
        return {channel: s.survey_id for s in self.surveys for channel in s.channels}

    @property
    def history_days(self) -> int:
        """How far back an invitation can still suppress one today (older ones only say "not first")."""
        return max(self.min_days_between_invitations, self.quarter_window_days)


def _field(raw: dict, name: str, kind, where: str):
    if name not in raw:
        raise ValueError(f"{where}: missing field {name!r}")
    value = raw[name]
    if kind is bool and not isinstance(value, bool):
        raise ValueError(f"{where}: {name} must be true or false, not {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {name} {value!r} is not a {kind.__name__}") from error


def parse_rules(raw: dict, where: str = CONFIG_FILE) -> InvitationRules:
    """Check and type the YAML mapping; errors name the file and the field."""
    quota = raw.get("quota") or {}
    surveys = []
    channels_seen: dict[str, str] = {}
    for survey_id, spec in (raw.get("surveys") or {}).items():
        at = f"{where}: surveys.{survey_id}"
        tool = _field(spec, "tool", str, at)
        if tool not in TOOLS:
            raise ValueError(f"{at}: tool {tool!r} is not one of {', '.join(TOOLS)}")
        channels = tuple(_field(spec, "channels", list, at))
        contact = tuple(_field(spec, "contact", list, at))
        if not contact or set(contact) - set(CONTACT_FIELDS):
            raise ValueError(f"{at}: contact {list(contact)} must name some of {', '.join(CONTACT_FIELDS)}")
        for channel in channels:
            if channel in channels_seen:
                raise ValueError(f"{at}: channel {channel!r} is already invited by {channels_seen[channel]}")
            channels_seen[channel] = survey_id
        surveys.append(SurveyRule(str(survey_id), tool, channels, contact, spec.get("language")))
    if not surveys:
        raise ValueError(f"{where}: no surveys")
    rules = InvitationRules(
        min_days_between_invitations=_field(raw, "min_days_between_invitations", int, where),
        max_invitations_per_quarter=_field(raw, "max_invitations_per_quarter", int, where),
        quarter_window_days=_field(raw, "quarter_window_days", int, where),
        suppress_while_case_open=_field(raw, "suppress_while_case_open", bool, where),
        quota_share=_field(quota, "share", float, f"{where}: quota"),
        quota_floor=_field(quota, "floor", int, f"{where}: quota"),
        seed=_field(raw, "seed", int, where),
        surveys=tuple(surveys),
    )
    if not 0 <= rules.quota_share <= 1:
        raise ValueError(f"{where}: quota.share {rules.quota_share} is not between 0 and 1")
    if min(rules.min_days_between_invitations, rules.quota_floor) < 0 or rules.quarter_window_days < 1:
        raise ValueError(f"{where}: day counts and the quota floor cannot be negative")
    return rules


def load_rules(path: str | Path | None = None) -> InvitationRules:
    """The rules in ``path``, else the packaged cxlake/config/invitations.yaml (read when called)."""
    if path is None:
        text = resources.files("cxlake.config").joinpath("invitations.yaml").read_text("utf-8")
        return parse_rules(yaml.safe_load(text) or {})
    return parse_rules(yaml.safe_load(Path(path).read_text("utf-8")) or {}, str(path))


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


def _seeded_order(transaction_ids: pd.Series, seed: int, day: date) -> np.ndarray:
    """A random but reproducible number per transaction: a hash of the seed, the day and the id, so
    the order inside a priority never depends on the input's row order or on a random state."""
    key = f"{seed:016d}"[-16:]
    labels = (day.isoformat() + ":" + transaction_ids.astype(str)).reset_index(drop=True)
    return pd.util.hash_pandas_object(labels, index=False, hash_key=key).to_numpy()


def _days(values: pd.Series) -> pd.Series:
    """Days as datetime64 midnights (dates, ISO strings or timestamps in): fast to group and compare."""
    return pd.to_datetime(pd.Series(values).astype("string"), format="ISO8601").dt.normalize()


def _history_by_customer(history: pd.DataFrame, rules: InvitationRules, day: date) -> pd.DataFrame:
    """Per customer invited before ``day``: the last invitation day and the invitations in the
    rolling quarter window (the day and the ``quarter_window_days - 1`` days before it)."""
    missing = set(HISTORY_COLUMNS) - set(history.columns)
    if missing:
        raise ValueError(f"history: missing column(s) {', '.join(sorted(missing))}")
    invited_on = _days(history["invited_on"])
    window_start = pd.Timestamp(day - timedelta(days=rules.quarter_window_days - 1))
    before = pd.DataFrame(
        {
            "customer_id": history["customer_id"].astype("string"),
            "invited_on": invited_on,
            "in_quarter": (invited_on >= window_start).astype(int),
        }
    )[(invited_on < pd.Timestamp(day)).to_numpy()]
    return before.groupby("customer_id").agg(
        last_invited_on=("invited_on", "max"), in_quarter=("in_quarter", "sum")
    )


def select_invitations(
    transactions: pd.DataFrame,
    history: pd.DataFrame,
    open_case_customers: set[str],
    rules: InvitationRules,
    day: date,
) -> pd.DataFrame:
    """Decide, for the transactions of ``day``, who gets a survey invitation.

    ``transactions``: one row per transaction with ``transaction_id, store_id, channel,
    customer_id`` (blank or missing for a guest) and the contact columns the surveys use (``email``,
    ``phone``; blank = none). ``history``: one row per earlier invitation with ``customer_id,
    invited_on``; rows on or after ``day`` are ignored, so re-deciding an old day gives its first
    answer. ``open_case_customers``: customers with an open case.

    Returns one row per transaction in a surveyed channel (other channels are not surveyed and get
    no row), with the input columns plus :data:`DECISION_COLUMNS`: ``decision`` 'invited' or
    'suppressed' and ``rule`` the first suppression rule of :data:`RULES` that applied (None when
    invited). A customer is invited at most once a day. Sorted by transaction id.
    """
    missing = set(TRANSACTION_COLUMNS) - set(transactions.columns)
    if missing:
        raise ValueError(f"transactions: missing column(s) {', '.join(sorted(missing))}")
    by_channel = rules.survey_of_channel()
    frame = transactions[transactions["channel"].isin(list(by_channel))].copy()
    duplicated = frame["transaction_id"][frame["transaction_id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"transactions: transaction_id {duplicated.iloc[0]!r} appears twice")
    frame = frame.sort_values("transaction_id", kind="stable").reset_index(drop=True)
    frame["customer_id"] = frame["customer_id"].astype("string").str.strip().replace("", pd.NA)
    frame["survey_id"] = frame["channel"].map(by_channel)

    is_guest = frame["customer_id"].isna().to_numpy()
    has_contact = np.zeros(len(frame), dtype=bool)
    for survey in rules.surveys:
        mine = (frame["survey_id"] == survey.survey_id).to_numpy()
        for field in survey.contact:
            if field not in frame.columns:
                raise ValueError(
                    f"transactions: missing contact column {field!r} (survey {survey.survey_id})"
                )
            has_contact |= mine & ~_blank(frame[field]).to_numpy()
    frame["is_eligible"] = ~is_guest & has_contact

    past = _history_by_customer(history, rules, day)
    mine = past.reindex(frame["customer_id"].to_numpy())
    known = pd.Series(mine["last_invited_on"].to_numpy(), dtype="datetime64[ns]")
    in_quarter = mine["in_quarter"].fillna(0).astype(int).to_numpy()
    days_since = pd.Series((pd.Timestamp(day) - known).dt.days.to_numpy(), dtype="Int64")
    frame["is_first_time"] = pd.Series(known.isna().to_numpy(), dtype="boolean").mask(is_guest)
    frame["days_since_last_invitation"] = days_since
    open_case = (
        frame["customer_id"].isin(list(open_case_customers)).to_numpy()
        if rules.suppress_while_case_open
        else False
    )
    recent = days_since.fillna(10**9).to_numpy() < rules.min_days_between_invitations
    capped = in_quarter >= rules.max_invitations_per_quarter
    rule = np.select(
        [is_guest, ~has_contact, open_case, recent, capped],
        list(RULES[:5]),
        default="",
    ).astype(object)

    order = _seeded_order(frame["transaction_id"], rules.seed, day)
    candidate = rule == ""
    # same_day: one transaction per customer is considered (the first in the seeded order)
    ranked = pd.DataFrame({"customer_id": frame["customer_id"], "order": order})[candidate]
    first_of_customer = ranked.sort_values("order", kind="stable").drop_duplicates("customer_id").index
    same_day = candidate.copy()
    same_day[first_of_customer] = False
    rule[same_day] = "same_day"
    candidate &= ~same_day

    eligible = frame.groupby(["store_id", "channel"])["is_eligible"].transform("sum").to_numpy()
    quota = np.maximum(rules.quota_floor, np.ceil(np.round(rules.quota_share * eligible, 9))).astype(int)
    frame["quota"] = pd.Series(quota, dtype="Int64")
    # priority: first-time first, then the longest not invited, then the seeded order
    queue = pd.DataFrame(
        {
            "store_id": frame["store_id"],
            "channel": frame["channel"],
            "returning": ~frame["is_first_time"].fillna(True).to_numpy(),
            "since": -days_since.fillna(0).to_numpy(dtype=np.int64),
            "order": order,
        }
    )[candidate]
    queue = queue.sort_values(["store_id", "channel", "returning", "since", "order"], kind="stable")
    place = queue.groupby(["store_id", "channel"]).cumcount()
    over = place.index[place.to_numpy() >= quota[place.index]]
    rule[over] = "quota"
    frame["decision"] = np.where(rule == "", INVITED, SUPPRESSED)
    frame["rule"] = pd.Series(rule, dtype="string").replace("", pd.NA)
    return frame


def compact_history(history: pd.DataFrame, rules: InvitationRules, day: date) -> pd.DataFrame:
    """The rows of ``history`` that can still matter from ``day`` on: invitations inside the
    longest window of the rules, plus each customer's last invitation (it alone says a customer
    is no longer first-time). Deciding with the compact history equals deciding with all of it;
    a long-running caller (the generator) keeps its memory flat with it."""
    invited_on = _days(history["invited_on"])
    recent = (invited_on >= pd.Timestamp(day - timedelta(days=rules.history_days))).to_numpy()
    latest = invited_on.groupby(history["customer_id"].to_numpy()).transform("max") == invited_on
    return history[recent | latest.to_numpy()].drop_duplicates(subset=["customer_id", "invited_on"])


def split_name(name: object) -> tuple[str, str]:
    """(FirstName, LastName) of a Chinese full name: the surname is the first character, or two
    for the common compound surnames; a name in Latin letters splits at its last space."""
    text = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name).strip()
    if not text:
        return "", ""
    if " " in text:
        first, _, last = text.rpartition(" ")
        return first, last
    surname = 2 if text[:2] in _COMPOUND_SURNAMES else 1
    return text[surname:], text[:surname]


def international_phone(phone: object, country_code: str = "86") -> str:
    """A mainland mobile number in the +86 form SMS distribution expects; other forms pass as given."""
    text = "" if phone is None or pd.isna(phone) else str(phone).strip()
    if len(text) == 11 and text.isdigit() and text.startswith("1"):
        return f"+{country_code}{text}"
    return text


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def outbox_rows(decisions: pd.DataFrame, survey: SurveyRule) -> tuple[tuple[str, ...], list[list[str]]]:
    """Header and rows of one survey's import file: its invited rows (with ``name``, ``email`` and
    ``phone`` columns joined by the caller) in transaction order."""
    invited = decisions[(decisions["survey_id"] == survey.survey_id) & (decisions["decision"] == INVITED)]
    invited = invited.sort_values("transaction_id", kind="stable")
    rows = []
    for record in invited.to_dict("records"):
        first, last = split_name(record.get("name"))
        if survey.tool == "qualtrics":
            rows.append(
                [
                    first,
                    last,
                    _text(record.get("email")),
                    international_phone(record.get("phone")),
                    _text(record["customer_id"]),
                    survey.language or "",
                    _text(record["transaction_id"]),
                    _text(record["store_id"]),
                    _text(record["channel"]),
                ]
            )
        else:
            rows.append(
                [
                    _text(record.get("phone")),
                    _text(record.get("name")),
                    _text(record["transaction_id"]),
                    _text(record["store_id"]),
                ]
            )
    return (QUALTRICS_COLUMNS if survey.tool == "qualtrics" else WJX_COLUMNS), rows


def write_outbox(decisions: pd.DataFrame, rules: InvitationRules, outbox: Path, day: date) -> dict[str, Path]:
    """Write ``<outbox>/<day>/<survey_id>.csv`` for every configured survey (a header-only file on a
    day without invitations, so the tool's import never waits for a missing file).

    Each file is written to a temp name in the same folder and renamed into place: the sender sees
    the old file or the new one, never half of one; a re-run writes the same bytes."""
    folder = Path(outbox) / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for survey in rules.surveys:
        header, rows = outbox_rows(decisions, survey)
        target = folder / f"{survey.survey_id}.csv"
        temp = folder / f".{survey.survey_id}.csv.{os.getpid()}.tmp"
        with temp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(temp, target)
        written[survey.survey_id] = target
    return written
