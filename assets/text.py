"""Score review and survey-comment texts between the two halves of the dbt build.

Each asset reads the texts from a relation dbt built (reviews in their latest delivery, survey
comments) and scores only rows that are new, whose text changed, or that another model or other
word lists and aspect rules (:func:`cxlake.text.scoring.rules_version`) scored: a daily run
scores that day's deliveries, and a new model or an edited stopword list rescores everything.
Scores go to ``enrich.*``, which dbt reads as sources for the voice-of-customer marts. Keywords
are ranked against the IDF of every current text of the relation, not of the day's batch alone;
each row keeps its distinct keywords (``keyword_terms``) so that IDF is counted without
segmenting the stored texts again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
import pandas as pd
from dagster import AssetKey, MaterializeResult, asset

from cxlake.text.keywords import document_frequency
from cxlake.text.scoring import rules_version, score_texts
from cxlake.text.sentiment import load_model
from orchestration.resources import Warehouse

GROUP = "enrich"


@dataclass(frozen=True)
class ScoredTable:
    """One enrich table: its key column and the query giving (key, text) for every current row."""

    table: str
    key: str
    texts_sql: str


# Each review once, in its latest delivery (the rule marts.fct_reviews applies).
REVIEW_SCORES = ScoredTable(
    table="review_scores",
    key="review_key",
    texts_sql="""
        select review_key as key, coalesce(content, '') as text
        from staging.stg_reviews__reviews
        qualify row_number() over (
            partition by review_key order by delivered_on desc, posted_at desc, content
        ) = 1
    """,
)

# One row per response with a written comment.
COMMENT_SCORES = ScoredTable(
    table="comment_scores",
    key="response_key",
    texts_sql="""
        select response_key as key, comment as text
        from intermediate.int_surveys__responses_pivoted
        where trim(coalesce(comment, '')) <> ''
    """,
)


@dataclass(frozen=True)
class ScoringCounts:
    scored: int
    skipped: int
    removed: int
    model_version: str
    rules_version: str


def _create_table(connection: duckdb.DuckDBPyConnection, spec: ScoredTable) -> None:
    connection.execute("create schema if not exists enrich")
    connection.execute(
        f"""
        create table if not exists enrich.{spec.table} (
            {spec.key} varchar primary key,
            content_sha256 varchar not null,
            sentiment_score double,
            sentiment_label varchar,
            keywords varchar,
            aspects varchar,
            model_version varchar not null,
            scored_at timestamptz not null
        )
        """
    )
    # added after the first release: tables built before score every row once more (rules unknown)
    connection.execute(f"alter table enrich.{spec.table} add column if not exists rules_version varchar")
    connection.execute(f"alter table enrich.{spec.table} add column if not exists keyword_terms varchar")


def score_new_rows(connection: duckdb.DuckDBPyConnection, spec: ScoredTable) -> ScoringCounts:
    """Score the rows whose (key, text hash, model version, rules version) is not in the table yet,
    delete+insert them, and drop rows whose key left the source, in one transaction.

    Identifiers in the SQL are this module's constants; values are bound parameters.
    """
    _create_table(connection, spec)
    model = load_model()
    rules = rules_version()
    candidates = connection.execute(
        f"""
        with texts as ({spec.texts_sql})
        select
            texts.key,
            texts.text,
            sha256(texts.text) as content_sha256,
            coalesce(
                scores.content_sha256 = sha256(texts.text)
                and scores.model_version = ?
                and scores.rules_version = ?,
                false
            ) as is_current,
            scores.keyword_terms
        from texts
        left join enrich.{spec.table} as scores on texts.key = scores.{spec.key}
        order by texts.key
        """,
        [model.version, rules],
    ).df()
    is_current = candidates["is_current"].astype(bool)
    pending = candidates[~is_current].reset_index(drop=True)
    kept_terms = candidates.loc[is_current, "keyword_terms"].dropna()
    background = document_frequency(terms.split() for terms in kept_terms)
    scores = score_texts(pending["text"].tolist(), model=model, background=background, with_terms=True)
    rows = pd.concat(
        [pd.DataFrame({"key": pending["key"], "content_sha256": pending["content_sha256"]}), scores], axis=1
    )
    connection.begin()
    connection.register("pending_scores", rows)
    connection.execute(
        f"delete from enrich.{spec.table} where {spec.key} in (select key from pending_scores)"
    )
    connection.execute(
        f"""
        insert into enrich.{spec.table} by name
        select
            key as {spec.key},
            content_sha256,
            cast(nullif(sentiment_score, '') as double) as sentiment_score,
            nullif(sentiment_label, '') as sentiment_label,
            keywords,
            aspects,
            ? as model_version,
            current_timestamp as scored_at,
            ? as rules_version,
            keyword_terms
        from pending_scores
        """,
        [model.version, rules],
    )
    connection.unregister("pending_scores")
    (removed,) = connection.execute(
        f"delete from enrich.{spec.table} where {spec.key} not in (select key from ({spec.texts_sql}))"
    ).fetchone()
    connection.commit()
    return ScoringCounts(len(pending), len(candidates) - len(pending), removed, model.version, rules)


def _materialize(warehouse: Warehouse, spec: ScoredTable) -> MaterializeResult:
    started = time.perf_counter()
    with warehouse.connect() as connection:
        counts = score_new_rows(connection, spec)
    return MaterializeResult(
        metadata={
            "rows_scored": counts.scored,
            "rows_skipped": counts.skipped,
            "rows_removed": counts.removed,
            "model_version": counts.model_version,
            "rules_version": counts.rules_version,
            "seconds": round(time.perf_counter() - started, 2),
        }
    )


@asset(
    key=["enrich", REVIEW_SCORES.table],
    group_name=GROUP,
    deps=[AssetKey(["staging", "stg_reviews__reviews"])],
    kinds={"duckdb", "scikit-learn"},
    description="Sentiment, keywords and journey aspects of each review (latest delivery); new texts only.",
)
def review_scores(warehouse: Warehouse) -> MaterializeResult:
    return _materialize(warehouse, REVIEW_SCORES)


@asset(
    key=["enrich", COMMENT_SCORES.table],
    group_name=GROUP,
    deps=[AssetKey(["intermediate", "int_surveys__responses_pivoted"])],
    kinds={"duckdb", "scikit-learn"},
    description="Sentiment, keywords and journey aspects of each survey comment; new texts only.",
)
def comment_scores(warehouse: Warehouse) -> MaterializeResult:
    return _materialize(warehouse, COMMENT_SCORES)


text_assets = [review_scores, comment_scores]
