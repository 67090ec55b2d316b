"""Contact-frequency rules: which transactions get a survey invitation, and why the others do not."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxlake.invitations import (
    QUALTRICS_COLUMNS,
    WJX_COLUMNS,
    compact_history,
    load_rules,
    parse_rules,
    select_invitations,
    split_name,
    write_outbox,
)
from cxlake.surveys.mapping import load_mappings

DAY = date(2026, 3, 20)
RULES_YAML = {
    "min_days_between_invitations": 14,
    "max_invitations_per_quarter": 3,
    "quarter_window_days": 91,
    "suppress_while_case_open": True,
    "quota": {"share": 0.15, "floor": 2},
    "seed": 7,
    "surveys": {
        "SV_cxlakeApp": {
            "tool": "qualtrics",
            "channels": ["app", "delivery"],
            "contact": ["email", "phone"],
            "language": "ZH-S",
        },
        "wjx_instore": {"tool": "wjx", "channels": ["in_store"], "contact": ["phone"]},
    },
}
RULES = parse_rules(RULES_YAML)


def tx(transaction_id, customer_id="C1", store_id="S1", channel="app", phone="13800138000", email=""):
    return {
        "transaction_id": transaction_id,
        "store_id": store_id,
        "channel": channel,
        "customer_id": customer_id,
        "phone": phone,
        "email": email,
        "name": "王小明",
    }


def history(*rows: tuple[str, int]) -> pd.DataFrame:
    """(customer_id, days before DAY) per earlier invitation."""
    return pd.DataFrame(
        [{"customer_id": c, "invited_on": DAY - timedelta(days=ago)} for c, ago in rows],
        columns=["customer_id", "invited_on"],
    )


def decide(rows, past=None, open_cases=frozenset(), rules=RULES, day=DAY) -> pd.DataFrame:
    return select_invitations(
        pd.DataFrame(rows), history() if past is None else past, set(open_cases), rules, day
    )


def outcome(decisions: pd.DataFrame) -> dict[str, str]:
    """transaction_id -> 'invited' or the suppressing rule."""
    return {
        row.transaction_id: row.decision if row.decision == "invited" else row.rule
        for row in decisions.itertuples()
    }


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        (5, "recently_invited"),  # the brief's case: invited 5 days ago
        (13, "recently_invited"),  # one day short of the 14
        (14, "invited"),  # exactly 14 days later is allowed again
        (0, "invited"),  # an invitation on the day itself is not "before" the day: ignored (re-run)
    ],
)
def test_a_customer_invited_recently_is_suppressed(days_ago, expected):
    decisions = decide([tx("T1")], history(("C1", days_ago)))
    assert outcome(decisions) == {"T1": expected}
    if days_ago:
        assert decisions["days_since_last_invitation"].iloc[0] == days_ago


@pytest.mark.parametrize(
    ("invitations_days_ago", "expected"),
    [
        ((20, 40, 60), "quarter_cap"),  # three in the window: a fourth would exceed the cap
        ((20, 40, 90), "quarter_cap"),  # 90 days ago is inside the rolling 91-day window
        ((20, 40, 91), "invited"),  # 91 days ago has left the window
        ((20, 40), "invited"),  # two: one more is allowed
    ],
)
def test_the_quarter_cap_counts_invitations_in_a_rolling_91_day_window(invitations_days_ago, expected):
    past = history(*(("C1", ago) for ago in invitations_days_ago))
    assert outcome(decide([tx("T1")], past)) == {"T1": expected}


def test_a_calendar_quarter_start_does_not_reset_the_cap():
    """Rolling, not calendar: on 2 April a customer invited in February and March stays capped."""
    day = date(2026, 4, 2)
    past = pd.DataFrame({"customer_id": ["C1"] * 3, "invited_on": ["2026-02-01", "2026-02-20", "2026-03-10"]})
    assert outcome(decide([tx("T1")], past, day=day)) == {"T1": "quarter_cap"}


def test_a_customer_with_an_open_case_is_not_invited_unless_the_rule_is_off():
    rows = [tx("T1", "C1"), tx("T2", "C2")]
    assert outcome(decide(rows, open_cases={"C1"})) == {"T1": "open_case", "T2": "invited"}
    relaxed = parse_rules({**RULES_YAML, "suppress_while_case_open": False})
    assert outcome(decide(rows, open_cases={"C1"}, rules=relaxed)) == {"T1": "invited", "T2": "invited"}


def test_guests_and_members_without_the_surveys_contact_are_not_eligible():
    rows = [
        tx("T1", customer_id=""),  # guest
        tx("T2", "C2", channel="in_store", phone="", email="a@qq.com"),  # 问卷星 sends SMS: phone needed
        tx("T3", "C3", channel="app", phone="", email="a@qq.com"),  # Qualtrics: e-mail is enough
        tx("T4", "C4", channel="kiosk"),  # a channel no survey covers: not considered at all
    ]
    decisions = decide(rows)
    assert outcome(decisions) == {"T1": "guest", "T2": "no_contact", "T3": "invited"}
    assert decisions.set_index("transaction_id")["is_eligible"].to_dict() == {
        "T1": False,
        "T2": False,
        "T3": True,
    }


def test_a_customer_is_invited_once_a_day_whatever_the_channel():
    decisions = decide([tx("T1", "C1", channel="app"), tx("T2", "C1", channel="in_store")])
    assert sorted(outcome(decisions).values()) == ["invited", "same_day"]


def test_the_quota_floor_lets_a_small_store_invite_and_the_share_scales_a_big_one():
    small = [tx(f"A{i}", f"CA{i}", store_id="S_SMALL") for i in range(3)]
    big = [tx(f"B{i:02d}", f"CB{i}", store_id="S_BIG") for i in range(40)]
    decisions = decide(small + big)
    per_store = decisions.groupby("store_id").agg(
        quota=("quota", "max"), invited=("decision", lambda d: int((d == "invited").sum()))
    )
    # floor 2 beats ceil(0.15 x 3) = 1; ceil(0.15 x 40) = 6 beats the floor
    assert per_store.to_dict("index") == {
        "S_BIG": {"quota": 6, "invited": 6},
        "S_SMALL": {"quota": 2, "invited": 2},
    }
    assert set(decisions.loc[decisions["decision"] == "suppressed", "rule"]) == {"quota"}


def test_the_quota_goes_to_first_time_customers_then_the_longest_not_invited():
    rows = [tx("T1", "C_RECENTISH"), tx("T2", "C_NEW"), tx("T3", "C_LONG_AGO"), tx("T4", "C_MIDDLE")]
    past = history(("C_RECENTISH", 20), ("C_LONG_AGO", 80), ("C_MIDDLE", 50))
    decisions = decide(rows, past)  # 4 eligible: quota = floor 2
    assert outcome(decisions) == {"T1": "quota", "T2": "invited", "T3": "invited", "T4": "quota"}
    assert decisions.set_index("transaction_id")["is_first_time"].to_dict() == {
        "T1": False,
        "T2": True,
        "T3": False,
        "T4": False,
    }


def test_the_order_inside_a_priority_is_seeded_not_positional():
    rows = [tx(f"T{i:03d}", f"C{i}") for i in range(30)]  # 30 first-timers: quota ceil(4.5) = 5
    first = outcome(decide(rows))
    assert list(first.values()).count("invited") == 5
    assert outcome(decide(list(reversed(rows)))) == first  # row order does not matter
    assert outcome(decide(rows)) == first  # nor a second call
    reseeded = parse_rules({**RULES_YAML, "seed": 8})
    assert outcome(decide(rows, rules=reseeded)) != first  # the seed does
    assert outcome(decide(rows, day=DAY + timedelta(days=1))) != first  # and so does the day


def test_deciding_with_the_compacted_history_equals_deciding_with_all_of_it():
    rows = [
        tx(f"T{i}", f"C{i % 7}", store_id=f"S{i % 2}", channel=("app", "in_store")[i % 2]) for i in range(14)
    ]
    past = history(*((f"C{c}", ago) for c in range(7) for ago in (3 + c * 11, 120 + c, 200)))
    compact = compact_history(past, RULES, DAY)
    assert len(compact) < len(past)
    pd.testing.assert_frame_equal(decide(rows, past), decide(rows, compact))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"min_days_between_invitations": "two weeks"},
            "min_days_between_invitations 'two weeks' is not a int",
        ),
        ({"quota": {"share": 1.5, "floor": 2}}, "quota.share 1.5 is not between 0 and 1"),
        ({"suppress_while_case_open": "yes"}, "suppress_while_case_open must be true or false"),
        ({"seed": None}, "seed None is not a int"),
    ],
)
def test_a_broken_rule_file_names_the_field(change, message):
    with pytest.raises(ValueError, match="invitations.yaml") as error:
        parse_rules({**RULES_YAML, **change})
    assert message in str(error.value)


def test_the_shipped_rules_load():
    rules = load_rules()
    assert rules.survey_of_channel() == {
        "app": "SV_cxlakeApp",
        "delivery": "SV_cxlakeApp",
        "in_store": "wjx_instore",
    }
    assert rules.min_days_between_invitations >= 7 and rules.quarter_window_days == 91


def test_qualtrics_embedded_data_carries_the_fields_the_survey_reads_back():
    """Responses join their order through the embedded data the contact list sets."""
    app = next(m for m in load_mappings() if m.survey_id == "SV_cxlakeApp")
    assert {app.fields["transaction_id"], app.fields["store_id"]} <= set(QUALTRICS_COLUMNS)


@pytest.mark.parametrize(
    ("name", "first_last"),
    [("王小明", ("小明", "王")), ("欧阳娜娜", ("娜娜", "欧阳")), ("Amy Li", ("Amy", "Li")), ("", ("", ""))],
)
def test_a_chinese_name_splits_after_the_surname(name, first_last):
    assert split_name(name) == first_last


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_the_outbox_holds_each_surveys_invitees_and_a_rewrite_is_identical(tmp_path):
    rows = [
        tx("T1", "C1", channel="app", email="mia@qq.com"),
        tx("T2", "C2", channel="in_store", phone="13900139000"),
        tx("T3", "", channel="in_store"),  # guest: not in any file
    ]
    decisions = decide(rows)
    files = write_outbox(decisions, RULES, tmp_path, DAY)
    qualtrics, wjx = _read(files["SV_cxlakeApp"]), _read(files["wjx_instore"])
    assert files["SV_cxlakeApp"] == tmp_path / "2026-03-20" / "SV_cxlakeApp.csv"
    assert qualtrics == [
        list(QUALTRICS_COLUMNS),
        ["小明", "王", "mia@qq.com", "+8613800138000", "C1", "ZH-S", "T1", "S1", "app"],
    ]
    assert wjx == [list(WJX_COLUMNS), ["13900139000", "王小明", "T2", "S1"]]
    before = {p.name: p.read_bytes() for p in files.values()}
    write_outbox(decisions, RULES, tmp_path, DAY)
    assert {p.name: p.read_bytes() for p in files.values()} == before
    assert sorted(p.name for p in (tmp_path / "2026-03-20").iterdir()) == [
        "SV_cxlakeApp.csv",
        "wjx_instore.csv",
    ]


# --- the daily asset on a small generated landing ----------------------------------------------

ASSET_DAYS = ("2026-03-02", "2026-03-03", "2026-03-04")


@pytest.fixture(scope="module")
def invitation_run(tmp_path_factory):
    """Three generated days (small scale) ingested and decided in one range run, then the last day
    re-run alone: returns the home, the landing and the outbox bytes after the first run."""
    from dagster import materialize

    from assets.ingestion.assets import build_ingestion_assets
    from assets.invitations import build_invitation_asset
    from cxlake.generator import generate
    from cxlake.pipeline.partitions import daily_partitions
    from cxlake.pipeline.resources import LandingZone, Warehouse

    home = tmp_path_factory.mktemp("invitations_home")
    landing = home / "landing"
    generate(landing, scale="small", seed=7, start=date.fromisoformat(ASSET_DAYS[0]), days=3, progress=False)
    partitions = daily_partitions(ASSET_DAYS[0])
    ingestion = [
        a
        for a in build_ingestion_assets(partitions)
        if a.node_def.name in {"ingest_reference", "ingest_crm", "ingest_pos", "ingest_survey_invitations"}
    ]
    resources = {
        "landing": LandingZone(root=str(landing)),
        "warehouse": Warehouse(path=str(home / "warehouse.duckdb")),
    }
    tags = {
        "dagster/asset_partition_range_start": ASSET_DAYS[0],
        "dagster/asset_partition_range_end": ASSET_DAYS[-1],
    }
    invitation_asset = build_invitation_asset(partitions)
    assert materialize([*ingestion, invitation_asset], tags=tags, resources=resources).success
    outbox = home / "outbox" / "invitations"
    first = {str(p.relative_to(outbox)): p.read_bytes() for p in sorted(outbox.rglob("*.csv"))}
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        first_table = connection.execute(
            "select * from enrich.invitation_decisions order by transaction_id"
        ).df()
    rerun = materialize([invitation_asset], partition_key=ASSET_DAYS[-1], resources=resources)
    assert rerun.success
    return home, landing, first, first_table


def _warehouse_frame(home: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as connection:
        return connection.execute(sql, params or []).df()


def test_the_asset_decides_every_transaction_and_invites_what_the_demo_tool_sent(invitation_run):
    home, landing, _, _ = invitation_run
    decisions = _warehouse_frame(home, "select * from enrich.invitation_decisions")
    for day in ASSET_DAYS:
        mine = decisions[decisions["decision_date"].astype(str) == day]
        delivered = pd.read_csv(landing / "pos" / day / "transactions.csv", dtype=str)
        assert sorted(mine["transaction_id"]) == sorted(
            delivered["transaction_id"]
        )  # every channel is surveyed
        sent = pd.read_csv(landing / "survey_invitations" / day / "invitations.csv", dtype=str)
        invited = mine[mine["decision"] == "invited"]
        # the generator's survey tool follows the same rules: cxlake re-derives exactly its invitations
        assert sorted(invited["transaction_id"]) == sorted(sent["transaction_id"])
        assert (
            invited["rule"].isna().all() and mine.loc[mine["decision"] == "suppressed", "rule"].notna().all()
        )
    assert {"guest", "quota", "same_day"} <= set(decisions["rule"].dropna())
    assert "phone" not in decisions.columns and "email" not in decisions.columns  # no contacts stored


def test_the_outbox_files_hold_the_invitations_in_the_tools_import_format(invitation_run):
    home, _, _, _ = invitation_run
    day = ASSET_DAYS[1]
    decisions = _warehouse_frame(
        home,
        "select * from enrich.invitation_decisions where decision_date = ? and decision = 'invited'",
        [day],
    )
    folder = home / "outbox" / "invitations" / day
    qualtrics = _read(folder / "SV_cxlakeApp.csv")
    wjx = _read(folder / "wjx_instore.csv")
    assert qualtrics[0] == list(QUALTRICS_COLUMNS) and wjx[0] == list(WJX_COLUMNS)
    app = decisions[decisions["survey_id"] == "SV_cxlakeApp"].sort_values("transaction_id")
    store = decisions[decisions["survey_id"] == "wjx_instore"].sort_values("transaction_id")
    assert [r[6] for r in qualtrics[1:]] == list(app["transaction_id"])
    assert [r[4] for r in qualtrics[1:]] == list(app["customer_id"])  # ExternalDataReference
    assert all(r[3].startswith("+861") and len(r[3]) == 14 and r[5] == "ZH-S" for r in qualtrics[1:])
    assert [r[2] for r in wjx[1:]] == list(store["transaction_id"])  # sojumpparm
    assert all(len(r[0]) == 11 and r[1] for r in wjx[1:])  # a mobile number and a name on every row
    crm = pd.concat(
        pd.read_csv(home / "landing" / "crm" / d / "customers.csv", dtype=str, keep_default_na=False)
        for d in ASSET_DAYS
    ).drop_duplicates("customer_id", keep="last")
    crm = crm.set_index("customer_id")
    first = qualtrics[1]
    assert first[3] == "+86" + crm.loc[first[4], "phone"] and first[2] == crm.loc[first[4], "email"]


def test_re_running_a_day_rewrites_the_same_rows_and_the_same_bytes(invitation_run):
    home, _, first, first_table = invitation_run
    outbox = home / "outbox" / "invitations"
    assert {str(p.relative_to(outbox)): p.read_bytes() for p in sorted(outbox.rglob("*.csv"))} == first
    assert len(first) == 2 * len(ASSET_DAYS) and not list(outbox.rglob("*.tmp"))
    again = _warehouse_frame(home, "select * from enrich.invitation_decisions order by transaction_id")
    pd.testing.assert_frame_equal(again, first_table)
