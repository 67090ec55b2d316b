"""The text-scoring assets on a small real warehouse: only new or changed texts are scored, and
what is stored per text depends on that text alone, so the tables do not depend on load order."""

from __future__ import annotations

import duckdb
import pytest
from dagster import materialize

from assets.text import comment_scores, review_scores
from cxlake.pipeline.resources import Warehouse
from cxlake.text.scoring import rules_version, score_texts
from cxlake.text.sentiment import load_model

# (review_key, content, delivered_on): review 2 is fetched twice, its later delivery is edited.
REVIEWS = [
    ("dianping:1", "咖啡很好喝，店员很热情", "2026-03-02"),
    ("dianping:2", "等了四十分钟，太慢了", "2026-03-02"),
    ("dianping:2", "等了四十分钟，太慢了，拿铁还是凉的", "2026-03-03"),
    ("meituan:3", "", "2026-03-03"),  # a star rating without text still gets a row
]
# (response_key, comment): only written comments are scored.
COMMENTS = [
    ("SV_app:R_1", "环境干净，座位舒服"),
    ("SV_app:R_2", None),
    ("SV_app:R_3", "  "),
    ("wjx_instore:9", "价格太贵了"),
]


def _seed(warehouse) -> None:
    """The two relations dbt builds before the assets run, as plain tables with their columns."""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema staging")
        connection.execute("create schema intermediate")
        connection.execute(
            "create table staging.stg_reviews__reviews"
            " (review_key varchar, content varchar, posted_at timestamp, delivered_on date)"
        )
        connection.executemany(
            "insert into staging.stg_reviews__reviews values (?, ?, timestamp '2026-03-02 10:00', ?)",
            REVIEWS,
        )
        connection.execute(
            "create table intermediate.int_surveys__responses_pivoted (response_key varchar, comment varchar)"
        )
        connection.executemany(
            "insert into intermediate.int_surveys__responses_pivoted values (?, ?)", COMMENTS
        )


def _run(warehouse) -> dict[str, dict]:
    """Materialize both assets; each enrich table's metadata (scored / skipped / removed) by table."""
    result = materialize(
        [review_scores, comment_scores], resources={"warehouse": Warehouse(path=str(warehouse))}
    )
    assert result.success
    return {
        event.asset_key.path[-1]: {name: value.value for name, value in event.metadata.items()}
        for node in ("enrich__review_scores", "enrich__comment_scores")
        for event in result.asset_materializations_for_node(node)
    }


def _rows(warehouse, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, list(params)).fetchall()


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    _seed(path)
    return path


def test_the_first_run_scores_every_current_text_once(warehouse):
    meta = _run(warehouse)
    assert (meta["review_scores"]["rows_scored"], meta["review_scores"]["rows_skipped"]) == (3, 0)
    assert (meta["comment_scores"]["rows_scored"], meta["comment_scores"]["rows_skipped"]) == (2, 0)
    reviews = dict(_rows(warehouse, "select review_key, sentiment_label from enrich.review_scores"))
    assert reviews == {"dianping:1": "positive", "dianping:2": "negative", "meituan:3": None}
    edited = _rows(
        warehouse,
        "select content_sha256 = sha256(?) from enrich.review_scores where review_key = 'dianping:2'",
        [REVIEWS[2][1]],
    )
    assert edited == [(True,)]  # the later delivery's text was scored
    comments = _rows(warehouse, "select response_key, model_version from enrich.comment_scores order by 1")
    assert comments == [("SV_app:R_1", load_model().version), ("wjx_instore:9", load_model().version)]


def test_a_second_run_over_the_same_data_scores_nothing(warehouse):
    _run(warehouse)
    before = _rows(warehouse, "select * from enrich.review_scores order by review_key")
    meta = _run(warehouse)
    assert (meta["review_scores"]["rows_scored"], meta["review_scores"]["rows_skipped"]) == (0, 3)
    assert (meta["comment_scores"]["rows_scored"], meta["comment_scores"]["rows_skipped"]) == (0, 2)
    assert _rows(warehouse, "select * from enrich.review_scores order by review_key") == before


def test_a_changed_text_is_rescored_and_a_vanished_one_removed(warehouse):
    _run(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update staging.stg_reviews__reviews set content = '难喝，失望' where review_key = 'dianping:1'"
        )
        connection.execute(
            "delete from intermediate.int_surveys__responses_pivoted where response_key = 'SV_app:R_1'"
        )
    meta = _run(warehouse)
    assert (meta["review_scores"]["rows_scored"], meta["review_scores"]["rows_skipped"]) == (1, 2)
    assert meta["comment_scores"]["rows_removed"] == 1
    assert _rows(
        warehouse, "select sentiment_label from enrich.review_scores where review_key = 'dianping:1'"
    ) == [("negative",)]
    assert _rows(warehouse, "select response_key from enrich.comment_scores") == [("wjx_instore:9",)]


def test_a_new_model_version_rescores_what_the_old_one_scored(warehouse):
    _run(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("update enrich.review_scores set model_version = 'sentiment-old'")
    meta = _run(warehouse)
    assert (meta["review_scores"]["rows_scored"], meta["review_scores"]["rows_skipped"]) == (3, 0)
    assert _rows(warehouse, "select distinct model_version from enrich.review_scores") == [
        (load_model().version,)
    ]


TERMS_SQL = "select review_key, term, term_count, first_position from enrich.review_terms order by all"


def test_each_review_keeps_its_keyword_counts_in_first_seen_order(warehouse):
    meta = _run(warehouse)
    assert _rows(warehouse, TERMS_SQL) == [
        ("dianping:1", "咖啡", 1, 1), ("dianping:1", "好喝", 1, 2), ("dianping:1", "店员", 1, 3),
        ("dianping:1", "热情", 1, 4),
        ("dianping:2", "四十分钟", 1, 1), ("dianping:2", "太慢", 1, 2), ("dianping:2", "拿铁", 1, 3),
    ]  # fmt: skip
    assert meta["review_terms"]["rows"] == 7  # the blank review meituan:3 has none
    columns = [
        name for (name,) in _rows(warehouse, "select column_name from (describe enrich.review_scores)")
    ]
    assert "keywords" not in columns  # a ranking depends on the corpus: dbt ranks, the asset does not


def test_a_word_used_twice_counts_twice_and_keeps_its_first_place(warehouse):
    edited = "拿铁很好喝，拿铁很香，拿铁"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update staging.stg_reviews__reviews set content = ? where review_key = 'dianping:1'", [edited]
        )
    _run(warehouse)
    terms = _rows(
        warehouse, TERMS_SQL.replace("order by all", "where review_key = 'dianping:1' order by all")
    )
    assert terms == [("dianping:1", "好喝", 1, 2), ("dianping:1", "拿铁", 3, 1)]


def test_the_stored_terms_do_not_depend_on_the_order_the_reviews_came_in(tmp_path):
    # regression: keywords were ranked against the corpus of the day a text was scored, so a
    # build of days 1-10 then 1-14 kept other keywords than a build of days 1-14 at once
    day_by_day, at_once = tmp_path / "day_by_day.duckdb", tmp_path / "at_once.duckdb"
    _seed(at_once)
    _run(at_once)
    _seed(day_by_day)
    with duckdb.connect(str(day_by_day)) as connection:
        connection.execute("delete from staging.stg_reviews__reviews where delivered_on > '2026-03-02'")
    _run(day_by_day)
    with duckdb.connect(str(day_by_day)) as connection:
        connection.executemany(
            "insert into staging.stg_reviews__reviews values (?, ?, timestamp '2026-03-02 10:00', ?)",
            [row for row in REVIEWS if row[2] > "2026-03-02"],
        )
    _run(day_by_day)
    stored = (
        "select review_key, content_sha256, sentiment_score, aspects from enrich.review_scores order by all"
    )
    assert _rows(day_by_day, TERMS_SQL) == _rows(at_once, TERMS_SQL)
    assert _rows(day_by_day, stored) == _rows(at_once, stored)
    # and a text scored alone keeps the counts it has among the others
    alone = score_texts([REVIEWS[2][1]], workers=1, with_terms=True).loc[0, "keyword_terms"]
    assert alone == "四十分钟 太慢 拿铁"


def test_a_changed_or_vanished_review_takes_its_terms_along(warehouse):
    _run(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update staging.stg_reviews__reviews set content = '难喝，失望' where review_key = 'dianping:1'"
        )
        connection.execute("delete from staging.stg_reviews__reviews where review_key = 'dianping:2'")
    _run(warehouse)
    assert _rows(warehouse, TERMS_SQL) == [("dianping:1", "失望", 1, 2), ("dianping:1", "难喝", 1, 1)]


def test_other_word_lists_or_aspect_rules_rescore_what_they_scored(warehouse):
    # an edited stopword list or journey-map aspect keyword changes keywords and aspects: the rows
    # scored under the old rules are scored again, as for a new model
    _run(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update enrich.review_scores set rules_version = 'rules-old' where review_key = 'dianping:1'"
        )
    meta = _run(warehouse)
    assert (meta["review_scores"]["rows_scored"], meta["review_scores"]["rows_skipped"]) == (1, 2)
    assert meta["review_scores"]["rules_version"] == rules_version()
    assert _rows(warehouse, "select distinct rules_version from enrich.review_scores") == [(rules_version(),)]


def test_a_table_from_before_rules_versions_upgrades_in_place_and_is_rescored(warehouse):
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema enrich")
        connection.execute(
            """create table enrich.comment_scores (
                response_key varchar primary key, content_sha256 varchar not null,
                sentiment_score double, sentiment_label varchar, keywords varchar, aspects varchar,
                model_version varchar not null, scored_at timestamptz not null)"""
        )
        connection.execute(
            "insert into enrich.comment_scores values"
            " ('wjx_instore:9', sha256('价格太贵了'), 0.1, 'negative', '价格', '', ?, now())",
            [load_model().version],
        )
    meta = _run(warehouse)
    assert (meta["comment_scores"]["rows_scored"], meta["comment_scores"]["rows_skipped"]) == (2, 0)
    assert _rows(
        warehouse, "select rules_version from enrich.comment_scores where response_key = 'wjx_instore:9'"
    ) == [(rules_version(),)]


def test_a_table_that_stored_ranked_keywords_drops_them_and_is_rescored_with_its_terms(warehouse):
    # the layout before keywords were ranked in dbt: keywords and keyword_terms, rules current
    _run(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop table enrich.review_terms")
        connection.execute("alter table enrich.review_scores add column keywords varchar")
        connection.execute("alter table enrich.review_scores add column keyword_terms varchar")
    meta = _run(warehouse)
    assert (meta["review_scores"]["rows_scored"], meta["review_scores"]["rows_skipped"]) == (3, 0)
    columns = [
        name for (name,) in _rows(warehouse, "select column_name from (describe enrich.review_scores)")
    ]
    assert not {"keywords", "keyword_terms"} & set(columns)
    assert len(_rows(warehouse, TERMS_SQL)) == 7
    assert _run(warehouse)["review_scores"]["rows_scored"] == 0  # upgraded once, not on every run


PAIRS_SQL = (
    "select review_key, keyword, other_keyword, pair_count from enrich.review_cooccurrences order by all"
)


def test_each_review_keeps_its_textrank_edges(warehouse):
    # 咖啡很好喝，店员很热情: tokens 咖啡 很 好喝 店员 很 热情 (很 holds its place, is no node);
    # a keyword links to the keywords among the next four tokens
    meta = _run(warehouse)
    assert _rows(warehouse, PAIRS_SQL) == [
        ("dianping:1", "咖啡", "好喝", 1), ("dianping:1", "咖啡", "店员", 1),
        ("dianping:1", "好喝", "店员", 1), ("dianping:1", "好喝", "热情", 1),
        ("dianping:1", "店员", "热情", 1),
        ("dianping:2", "四十分钟", "太慢", 1), ("dianping:2", "四十分钟", "拿铁", 1),
        ("dianping:2", "太慢", "拿铁", 1),
    ]  # fmt: skip
    assert meta["review_cooccurrences"]["rows"] == 8  # the blank review meituan:3 has none


def test_a_changed_or_vanished_review_takes_its_edges_along(warehouse):
    _run(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update staging.stg_reviews__reviews set content = '难喝，失望' where review_key = 'dianping:1'"
        )
        connection.execute("delete from staging.stg_reviews__reviews where review_key = 'dianping:2'")
    _run(warehouse)
    assert _rows(warehouse, PAIRS_SQL) == [("dianping:1", "难喝", "失望", 1)]


def test_a_warehouse_scored_before_edges_were_stored_gets_every_reviews_edges_without_rescoring(warehouse):
    _run(warehouse)
    expected = _rows(warehouse, PAIRS_SQL)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop table enrich.review_cooccurrences")
    meta = _run(warehouse)
    assert meta["review_scores"]["rows_scored"] == 0  # the scores stay as they are
    assert _rows(warehouse, PAIRS_SQL) == expected
    _run(warehouse)
    assert _rows(warehouse, PAIRS_SQL) == expected  # filled once, then kept
