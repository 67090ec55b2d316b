"""Retention (issue 19): `cxlake retention` on a copy of the demo build empties what a policy no
longer allows in every table that holds it, keeps what it still allows, leaves counts and scores as
they were, deletes old quarantined rows by their decision, records every pass, and the pipeline runs
it on a schedule and before each publish.

The demo holds ten days from 2026-03-02. Judged as of 2026-06-05 with the test policy below, IP
addresses delivered before 03-07 (90 days), survey comments before 03-05 (92 days), review texts
and nicknames before 03-04 (93 and 92 days... the shorter wins where a table mixes them) are past
their periods. Every text column of every table of the warehouse and the serving copy is then
searched for the purged values.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from cxlake_command import cxlake

from cxlake.app_state import AppState
from cxlake.privacy.purge import raw_columns
from cxlake.privacy.retention import RetentionError, load_retention, parse_period

AS_OF = "2026-06-05"
IP_CUTOFF, COMMENT_CUTOFF, REVIEW_CUTOFF = date(2026, 3, 7), date(2026, 3, 5), date(2026, 3, 4)
POLICY = """\
fields:
  comments: 92 days
  ip_addresses: 90 days
  respondent_metadata: forever
  reviewer_nicknames: 13 weeks
sources:
  reviews:
    comments: 93 days
quarantine:
  after_decision: 30 days
  undecided: 3 months
"""
COMMENTS = (
    "select distinct answer from raw.{table} as a where answer is not null and length(answer) >= 6"
    " and (survey_id, question_id) in (select survey_id, question_id from raw.survey_questions"
    " where role = 'comment') and _partition_date {compare} ?"
)
SURVEY_ANSWERS = ("qualtrics_answers", "wjx_answers", "survey_answers", "kano_answers", "survey_api_answers")
SURVEY_RESPONSES = ("qualtrics_responses", "wjx_responses", "survey_responses", "kano_responses")


@dataclass(frozen=True)
class Purged:
    home: Path
    output: str
    old_comments: set[str]
    kept_comments: set[str]
    old_ips: set[str]
    kept_ips: set[str]
    old_reviews: set[str]
    counts_before: dict[str, int]
    nps_before: tuple
    quarantine_before: list[tuple]


def _tables(connection: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = ?"
            " and table_type = 'BASE TABLE' order by 1",
            [schema],
        ).fetchall()
    ]


def _values(connection, sql: str, parameters=()) -> set[str]:
    return {value for (value,) in connection.execute(sql, list(parameters)).fetchall()}


def _union(connection, tables, sql_for) -> set[str]:
    found: set[str] = set()
    for table in tables:
        if table in _tables(connection, "raw"):
            found |= _values(connection, *sql_for(table))
    return found


def _comments(connection, compare: str, day: date) -> set[str]:
    return _union(connection, SURVEY_ANSWERS, lambda t: (COMMENTS.format(table=t, compare=compare), [day]))


def _ips(connection, compare: str, day: date) -> set[str]:
    return _union(
        connection,
        SURVEY_RESPONSES,
        lambda t: (
            f"select distinct ip_address from raw.{t} where ip_address is not null"
            f" and _partition_date {compare} ?",
            [day],
        ),
    )


def _counts(connection) -> dict[str, int]:
    return {
        f"marts.{table}": connection.execute(f"select count(*) from marts.{table}").fetchone()[0]
        for table in _tables(connection, "marts")
    }


def _nps(connection) -> tuple:
    return connection.execute(
        "select count(*), sum(nps_score), count(comment_sentiment_label) from marts.fct_survey_responses"
    ).fetchone()


@pytest.fixture(scope="module")
def purged(demo_build, tmp_path_factory) -> Purged:
    home = tmp_path_factory.mktemp("retention_home")
    for name in ("warehouse.duckdb", "serving.duckdb", "app_state.sqlite"):
        if (demo_build.home / name).exists():
            shutil.copyfile(demo_build.home / name, home / name)
    (home / "retention.yaml").write_text(POLICY, encoding="utf-8")
    with duckdb.connect(str(home / "warehouse.duckdb")) as connection:
        # Three quarantined rows of an old day: one rejected long ago (deleted), one rejected lately
        # (kept: its decision is younger than 30 days), one undecided (deleted: its day is older than
        # three months); and one of a recent day nobody decided on (kept).
        template = connection.execute("select * from quarantine.pos_transactions limit 1").fetchone()
        assert template is not None, "the demo build quarantines POS rows"
        columns = [c for (c,) in connection.execute("select column_name from information_schema.columns"
                   " where table_schema = 'quarantine' and table_name = 'pos_transactions'"
                   " order by ordinal_position").fetchall()]  # fmt: skip
        planted = [("2026-03-02", "pos/2026-03-02/transactions.csv", line) for line in (901, 902, 903)]
        planted.append(("2026-03-10", "pos/2026-03-10/transactions.csv", 904))
        for day, file, line in planted:
            row = dict(zip(columns, template, strict=True))
            row.update(_partition_date=date.fromisoformat(day), _source_file=file, _source_row=line)
            connection.execute(
                f"insert into quarantine.pos_transactions values ({', '.join(['?'] * len(columns))})",
                list(row.values()),
            )
        old_comments = _comments(connection, "<", COMMENT_CUTOFF)
        kept_comments = _comments(connection, ">=", COMMENT_CUTOFF)
        old_ips = _ips(connection, "<", IP_CUTOFF) - _ips(connection, ">=", IP_CUTOFF)
        kept_ips = _ips(connection, ">=", IP_CUTOFF)
        kept_reviews = _values(
            connection, "select content from raw.reviews where _partition_date >= ?", [REVIEW_CUTOFF]
        )
        old_reviews = _values(
            connection,
            "select distinct content from raw.reviews where length(content) >= 6 and _partition_date < ?"
            " except select content from raw.reviews where _partition_date >= ?",
            [REVIEW_CUTOFF, REVIEW_CUTOFF],
        )
        counts_before, nps_before = _counts(connection), _nps(connection)
        quarantine_before = connection.execute(
            "select _source_file, _source_row from quarantine.pos_transactions order by 1, 2"
        ).fetchall()
    state = AppState(home / "app_state.sqlite")
    state.record_decision(
        "pos_transactions",
        "pos/2026-03-02/transactions.csv",
        901,
        "reject",
        "steward.li",
        reason="a test till",
    )
    _backdate_decisions(home / "app_state.sqlite", "2026-04-01T02:00:00+00:00")
    state.record_decision(
        "pos_transactions",
        "pos/2026-03-02/transactions.csv",
        902,
        "reject",
        "steward.li",
        reason="a test till",
    )
    _backdate_decisions(home / "app_state.sqlite", "2026-05-30T02:00:00+00:00", only_row=902)
    result = cxlake(
        "retention", "--home", str(home), "--as-of", AS_OF,
        env={"CXLAKE_RETENTION_YAML": str(home / "retention.yaml")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # a short comment may also be a review still in its period ("外卖送得很快！"): not a needle
    old_comments -= kept_comments | kept_reviews
    return Purged(
        home, result.stdout, old_comments, kept_comments, old_ips, kept_ips, old_reviews,
        counts_before, nps_before, quarantine_before,
    )  # fmt: skip


def _backdate_decisions(path: Path, decided_at: str, only_row: int | None = None) -> None:
    """Decisions are append-only by trigger; a test may move their clock back by dropping it."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("drop trigger if exists quarantine_decisions_no_update")
        connection.execute(
            "update quarantine_decisions set decided_at = ? where ? is null or source_row = ?",
            [decided_at, only_row, only_row],
        )


def _find(database: Path, needles: set[str]) -> list[str]:
    """Every text column of every table holding one of ``needles`` as its whole value."""
    hits = []
    with duckdb.connect(str(database), read_only=True) as connection:
        connection.execute("create temp table needles (value varchar)")
        connection.executemany("insert into needles values (?)", [[n] for n in needles])
        columns = connection.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c"
            " join information_schema.tables t using (table_catalog, table_schema, table_name)"
            " where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR'"
            " and c.table_catalog = current_database() and c.table_schema <> 'temp'"
        ).fetchall()
        for schema, table, column in columns:
            (count,) = connection.execute(
                f'select count(*) from "{schema}"."{table}" where "{column}" in (select value from needles)'
            ).fetchone()
            if count:
                hits.append(f"{schema}.{table}.{column}: {count}")
    return hits


def test_the_demo_has_what_the_policy_purges(purged):
    assert len(purged.old_comments) >= 5 and len(purged.kept_comments) >= 5
    assert len(purged.old_ips) >= 20 and len(purged.kept_ips) >= 20
    assert len(purged.old_reviews) >= 5


@pytest.mark.parametrize("database", ["warehouse.duckdb", "serving.duckdb"])
def test_nothing_past_its_period_is_left_in_any_table(purged, database):
    path = purged.home / database
    assert _find(path, purged.old_comments) == []
    assert _find(path, purged.old_ips) == []
    assert _find(path, purged.old_reviews) == []


def test_what_is_still_in_its_period_stays(purged):
    with duckdb.connect(str(purged.home / "warehouse.duckdb"), read_only=True) as connection:
        assert _comments(connection, ">=", COMMENT_CUTOFF) == purged.kept_comments
        assert _ips(connection, ">=", IP_CUTOFF) == purged.kept_ips
        # respondent metadata is kept forever by this policy
        assert (
            connection.execute(
                "select count(*) from raw.qualtrics_responses"
                " where metadata is not null and _partition_date < ?",
                [IP_CUTOFF],
            ).fetchone()[0]
            > 0
        )
        kept_in_mart = _values(
            connection,
            "select comment from marts.fct_survey_responses where response_date >= ?",
            [COMMENT_CUTOFF],
        )
    assert kept_in_mart & purged.kept_comments


def test_rows_stay_so_aggregates_keep_their_counts(purged):
    with duckdb.connect(str(purged.home / "serving.duckdb"), read_only=True) as connection:
        assert _counts(connection) == purged.counts_before
        # responses, their NPS and their comments' sentiment still count
        assert _nps(connection) == purged.nps_before


def test_quarantined_rows_go_by_their_decision_and_age(purged):
    with duckdb.connect(str(purged.home / "serving.duckdb"), read_only=True) as connection:
        left = connection.execute(
            "select _source_file, _source_row from quarantine.pos_transactions order by 1, 2"
        ).fetchall()
    gone = set(purged.quarantine_before) - set(left)
    # rejected on 04-01 (more than 30 days before 06-05), and undecided from 03-02 (over 3 months)
    assert gone == {("pos/2026-03-02/transactions.csv", 901), ("pos/2026-03-02/transactions.csv", 903)}
    assert ("pos/2026-03-02/transactions.csv", 902) in left  # rejected on 05-30
    assert ("pos/2026-03-10/transactions.csv", 904) in left  # recent, undecided


def test_every_pass_is_recorded_without_values_and_printed(purged):
    with duckdb.connect(str(purged.home / "serving.duckdb"), read_only=True) as connection:
        records = connection.execute(
            "select field, relation, column_name, cutoff, rows_purged from dq.retention_purges"
        ).fetchall()
    by_place = {
        (field, relation, column): (cutoff, rows) for field, relation, column, cutoff, rows in records
    }
    assert by_place[("ip_addresses", "raw.qualtrics_responses", "ip_address")][0] == IP_CUTOFF
    assert by_place[("comments", "marts.fct_survey_responses", "comment")][0] == COMMENT_CUTOFF
    assert by_place[("comments", "marts.fct_reviews", "content")][0] == REVIEW_CUTOFF
    # a table mixing survey comments and reviews keeps text for the shorter period of the two
    assert by_place[("comments", "marts.fct_feedback_items", "text")][0] == COMMENT_CUTOFF
    assert by_place[("comments", "marts.fct_survey_responses", "comment")][1] > 0
    assert by_place[("quarantine_after_decision", "quarantine.pos_transactions", None)][1] == 1
    assert by_place[("quarantine_undecided", "quarantine.pos_transactions", None)][1] == 1
    # every pass names one of the policy's cutoffs (nicknames 13 weeks; quarantine 30 days, 3 months)
    assert {cutoff for cutoff, _ in by_place.values()} <= {
        IP_CUTOFF,
        COMMENT_CUTOFF,
        REVIEW_CUTOFF,
        date(2026, 5, 6),
        date(2026, 3, 6),
    }
    assert "comments" in purged.output and "rows in all" in purged.output
    total = sum(rows for _, rows in by_place.values())
    assert f"purged {total} rows in all" in purged.output


def test_a_second_pass_finds_nothing_and_a_dry_run_changes_nothing(purged, tmp_path):
    home = tmp_path / "again"
    home.mkdir()
    for name in ("warehouse.duckdb", "app_state.sqlite"):
        shutil.copyfile(purged.home / name, home / name)
    env = {"CXLAKE_RETENTION_YAML": str(purged.home / "retention.yaml")}
    dry = cxlake("retention", "--home", str(home), "--as-of", "2026-06-20", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would purge" in dry.stdout and "would purge 0 rows in all" not in dry.stdout
    assert not (home / "serving.duckdb").exists()  # a dry run publishes nothing
    again = cxlake("retention", "--home", str(home), "--as-of", AS_OF, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines() == ["purged 0 rows in all"]


def test_the_purged_file_holds_no_purged_bytes(purged):
    """An UPDATE leaves old values in freed blocks; the command rewrites the file afterwards."""
    data = (purged.home / "warehouse.duckdb").read_bytes()
    long_comments = sorted((c for c in purged.old_comments if len(c.encode()) >= 24), key=len)[-5:]
    assert long_comments
    assert [c for c in long_comments if c.encode() in data] == []


def test_the_shipped_policy_reads_and_a_wrong_one_names_the_key(tmp_path):
    policy = load_retention(environ={})
    assert policy.fields["comments"] == 3 * 365 and policy.fields["ip_addresses"] == 90
    assert policy.period("comments", ["reviews"]) == 2 * 365
    assert policy.quarantine_after_decision == 30
    assert parse_period("6 Months", "x") == 180 and parse_period("forever", "x") is None
    bad = tmp_path / "retention.yaml"
    for text, message in [
        ("fields: {comments: 3 yrs}", "fields.comments: '3 yrs' is not a period"),
        ("fields: {comment: 3 years}", "fields: unknown key 'comment'"),
        ("fields: {comments: 90}", "fields.comments: 90 is not a period"),
        ("fields: {comments: -5 days}", "fields.comments: '-5 days' is not a period"),
        ("fields: {comments: 99999 years}", "fields.comments: '99999 years' is longer than any record"),
        ("fields: {comments: 3 years}", "no period for ip_addresses"),
        ("fields: {comments: forever}\nquarantine: {after: 3 days}", "quarantine: unknown key 'after'"),
    ]:
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(RetentionError, match=message):
            load_retention(bad)
    bad.write_text("fields: {comments: 3 yrs}", encoding="utf-8")
    result = cxlake("retention", "--home", str(tmp_path), env={"CXLAKE_RETENTION_YAML": str(bad)})
    assert result.returncode == 1


def test_every_raw_table_with_comments_or_addresses_is_covered():
    covered = {(t.relation, t.column) for t in raw_columns()}
    for table in SURVEY_ANSWERS:
        assert (f"raw.{table}", "answer") in covered and (f"quarantine.{table}", "answer") in covered
    for table in (*SURVEY_RESPONSES, "survey_api_responses"):
        assert (f"raw.{table}", "ip_address") in covered
    assert ("raw.reviews", "content") in covered and ("raw.reviews", "user_nickname") in covered


def test_the_pipeline_purges_before_publishing_and_nightly():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    publish = next(key for key in graph.get_all_asset_keys() if key.path == ["serving", "published_copy"])
    purge = next(key for key in graph.get_all_asset_keys() if key.path == ["dq", "retention_purges"])
    assert purge in graph.get(publish).parent_keys
    assert "daily_pipeline_job" in {job.name for job in defs.resolve_all_job_defs()}
    daily = defs.resolve_job_def("daily_pipeline_job")
    assert purge in daily.asset_layer.selected_asset_keys
    schedules = {s.job_name: s for s in defs.schedules}
    nightly = schedules["retention_job"]
    assert nightly.cron_schedule == "30 3 * * *" and nightly.execution_timezone == "Asia/Shanghai"
    assert nightly.default_status.value == "RUNNING"
