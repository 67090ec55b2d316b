"""Score review and survey-comment texts between the two halves of the dbt build.

Each asset reads the texts from a relation dbt built (reviews in their latest delivery, survey
comments) and scores only rows that are new, whose text changed, or that another model or other
word lists and aspect rules (:func:`cxlake.text.scoring.rules_version`) scored: a daily run
scores that day's deliveries, and a new model or an edited stopword list rescores everything.
Scores go to ``enrich.*``, which dbt reads as sources for the voice-of-customer marts.

Everything stored per text depends on that text alone (and the model and rules), never on the
rest of the corpus, so the tables hold the same rows however the days were loaded. That is why
no keyword ranking is stored: a TF-IDF ranking depends on every other text (the IDF), and a
ranking stored at scoring time would keep the IDF of the day it was scored. Reviews keep their
keyword term counts instead (``enrich.review_terms``), from the same segmentation that sentiment
uses, and dbt ranks them over the whole current corpus on every build
(``intermediate.int_reviews__keywords``). For the same reason no central words are stored: each
review keeps TextRank's edge counts (``enrich.review_cooccurrences``, from
:func:`cxlake.text.keywords.review_cooccurrences`), and the Voice page ranks the sum over the
reviews it shows (marts.fct_review_cooccurrences).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pandas as pd
from dagster import AssetKey, AssetSpec, MaterializeResult, asset, multi_asset

from cxlake.pipeline.resources import Warehouse
from cxlake.text.keywords import review_cooccurrences
from cxlake.text.scoring import rules_version, score_texts
from cxlake.text.sentiment import load_model

GROUP = "enrich"


@dataclass(frozen=True)
class ScoredTable:
    """One enrich table: its key column and the query giving (key, text) for every current row;
    ``terms_table`` also keeps each text's keyword term counts, for a corpus-wide keyword ranking,
    and ``cooccurrences_table`` its TextRank edge counts, for central words of any group of texts."""

    table: str
    key: str
    texts_sql: str
    terms_table: str | None = None
    cooccurrences_table: str | None = None


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
    terms_table="review_terms",
    cooccurrences_table="review_cooccurrences",
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


def _create_table(connection: duckdb.DuckDBPyConnection, spec: ScoredTable) -> bool:
    """Create the spec's tables that are missing; True when its co-occurrence table was among them
    (then every current text needs its counts, not only the new ones)."""
    connection.execute("create schema if not exists enrich")
    connection.execute(
        f"""
        create table if not exists enrich.{spec.table} (
            {spec.key} varchar primary key,
            content_sha256 varchar not null,
            sentiment_score double,
            sentiment_label varchar,
            aspects varchar,
            model_version varchar not null,
            scored_at timestamptz not null,
            rules_version varchar
        )
        """
    )
    # tables built before rules versions: every row is scored once more (its rules are unknown)
    connection.execute(f"alter table enrich.{spec.table} add column if not exists rules_version varchar")
    columns = {
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = 'enrich' and table_name = ?",
            [spec.table],
        ).fetchall()
    }
    if columns & {"keywords", "keyword_terms"}:
        # tables that stored keywords ranked at scoring time: those go, and every row is scored once
        # more so that its terms are kept
        connection.execute(f"alter table enrich.{spec.table} drop column if exists keywords")
        connection.execute(f"alter table enrich.{spec.table} drop column if exists keyword_terms")
        connection.execute(f"update enrich.{spec.table} set rules_version = null")
    if spec.terms_table:
        connection.execute(
            f"""
            create table if not exists enrich.{spec.terms_table} (
                {spec.key} varchar not null,
                term varchar not null,
                term_count integer not null,
                first_position integer not null,
                primary key ({spec.key}, term)
            )
            """
        )
    if not spec.cooccurrences_table:
        return False
    (missing,) = connection.execute(
        "select count(*) = 0 from information_schema.tables"
        " where table_catalog = current_database() and table_schema = 'enrich' and table_name = ?",
        [spec.cooccurrences_table],
    ).fetchone()
    connection.execute(
        f"""
        create table if not exists enrich.{spec.cooccurrences_table} (
            {spec.key} varchar not null,
            keyword varchar not null,
            other_keyword varchar not null,
            pair_count integer not null,
            primary key ({spec.key}, keyword, other_keyword)
        )
        """
    )
    return bool(missing)


def cooccurrence_rows(keys: pd.Series, texts: pd.Series) -> pd.DataFrame:
    """One row per text and (keyword, following keyword) pair: key, keyword, other_keyword,
    pair_count (:func:`cxlake.text.keywords.review_cooccurrences`)."""
    rows = [
        (key, keyword, other, count)
        for key, text in zip(keys, texts, strict=True)
        for (keyword, other), count in review_cooccurrences(text).items()
    ]
    frame = pd.DataFrame(rows, columns=["key", "keyword", "other_keyword", "pair_count"])
    return frame.astype(
        {"key": "string", "keyword": "string", "other_keyword": "string", "pair_count": "int32"}
    )


def term_rows(keys: pd.Series, keyword_terms: pd.Series) -> pd.DataFrame:
    """One row per text and keyword: key, term, term_count (uses in the text) and first_position
    (1 = the text's first keyword), from :func:`cxlake.text.scoring.score_texts`' ``keyword_terms``
    (each keyword as often as used, in first-seen order; <NA> for a blank text, which has none)."""
    rows = [
        (key, term, count, position)
        for key, terms in zip(keys, keyword_terms, strict=True)
        if isinstance(terms, str)
        for position, (term, count) in enumerate(Counter(terms.split()).items(), start=1)
    ]
    frame = pd.DataFrame(rows, columns=["key", "term", "term_count", "first_position"])
    return frame.astype({"key": "string", "term": "string", "term_count": "int32", "first_position": "int32"})


def score_new_rows(connection: duckdb.DuckDBPyConnection, spec: ScoredTable) -> ScoringCounts:
    """Score the rows whose (key, text hash, model version, rules version) is not in the table yet,
    delete+insert them (and their terms), and drop rows whose key left the source, in one transaction.

    Identifiers in the SQL are this module's constants; values are bound parameters.
    """
    all_cooccurrences_missing = _create_table(connection, spec)
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
            ) as is_current
        from texts
        left join enrich.{spec.table} as scores on texts.key = scores.{spec.key}
        order by texts.key
        """,
        [model.version, rules],
    ).df()
    pending = candidates[~candidates["is_current"].astype(bool)].reset_index(drop=True)
    scores = score_texts(pending["text"].tolist(), model=model, with_terms=spec.terms_table is not None)
    rows = pd.concat(
        [pd.DataFrame({"key": pending["key"], "content_sha256": pending["content_sha256"]}), scores], axis=1
    )
    cooccurrences = None
    if spec.cooccurrences_table:  # counted before the transaction: segmenting takes a while
        counted = candidates if all_cooccurrences_missing else pending
        cooccurrences = cooccurrence_rows(counted["key"], counted["text"])
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
            aspects,
            ? as model_version,
            current_timestamp as scored_at,
            ? as rules_version
        from pending_scores
        """,
        [model.version, rules],
    )
    (removed,) = connection.execute(
        f"delete from enrich.{spec.table} where {spec.key} not in (select key from ({spec.texts_sql}))"
    ).fetchone()
    if spec.terms_table:
        connection.register("pending_terms", term_rows(rows["key"], rows["keyword_terms"]))
        connection.execute(
            f"""
            delete from enrich.{spec.terms_table}
            where {spec.key} in (select key from pending_scores)
                or {spec.key} not in (select {spec.key} from enrich.{spec.table})
            """
        )
        connection.execute(
            f"""
            insert into enrich.{spec.terms_table} by name
            select key as {spec.key}, term, term_count, first_position from pending_terms
            """
        )
        connection.unregister("pending_terms")
    if cooccurrences is not None:
        connection.register("pending_cooccurrences", cooccurrences)
        connection.execute(
            f"""
            delete from enrich.{spec.cooccurrences_table}
            where {spec.key} in (select key from pending_cooccurrences)
                or {spec.key} in (select key from pending_scores)
                or {spec.key} not in (select {spec.key} from enrich.{spec.table})
            """
        )
        connection.execute(
            f"""
            insert into enrich.{spec.cooccurrences_table} by name
            select key as {spec.key}, keyword, other_keyword, pair_count from pending_cooccurrences
            """
        )
        connection.unregister("pending_cooccurrences")
    connection.unregister("pending_scores")
    connection.commit()
    return ScoringCounts(len(pending), len(candidates) - len(pending), removed, model.version, rules)


def _materialize(warehouse: Warehouse, spec: ScoredTable) -> tuple[dict[str, object], dict[str, int]]:
    """Score the spec's new rows: the scores' materialization metadata, and the row count of each
    of its other tables (terms, co-occurrences)."""
    started = time.perf_counter()
    with warehouse.connect() as connection:
        counts = score_new_rows(connection, spec)
        rows = {
            table: connection.execute(f"select count(*) from enrich.{table}").fetchone()[0]
            for table in (spec.terms_table, spec.cooccurrences_table)
            if table
        }
    metadata = {
        "rows_scored": counts.scored,
        "rows_skipped": counts.skipped,
        "rows_removed": counts.removed,
        "model_version": counts.model_version,
        "rules_version": counts.rules_version,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return metadata, rows


REVIEWS_KEY = AssetKey(["staging", "stg_reviews__reviews"])


@multi_asset(
    name="enrich__review_scores",
    specs=[
        AssetSpec(
            ["enrich", REVIEW_SCORES.table],
            group_name=GROUP,
            deps=[REVIEWS_KEY],
            kinds={"duckdb", "scikit-learn"},
            description="Sentiment and journey aspects of each review (latest delivery); new texts only.",
        ),
        AssetSpec(
            ["enrich", "review_terms"],
            group_name=GROUP,
            deps=[REVIEWS_KEY],
            kinds={"duckdb"},
            description="Each review's keywords and how often it uses them (no ranking: dbt ranks them "
            "over the whole corpus); written with the review's scores.",
        ),
        AssetSpec(
            ["enrich", "review_cooccurrences"],
            group_name=GROUP,
            deps=[REVIEWS_KEY],
            kinds={"duckdb"},
            description="Each review's TextRank edges: how often a keyword follows another within the "
            "window (no ranking: the Voice page ranks the sum over the reviews it shows); written with "
            "the review's scores.",
        ),
    ],
)
def review_scores(warehouse: Warehouse) -> Iterator[MaterializeResult]:
    metadata, rows = _materialize(warehouse, REVIEW_SCORES)
    yield MaterializeResult(asset_key=["enrich", REVIEW_SCORES.table], metadata=metadata)
    for table, count in rows.items():
        yield MaterializeResult(asset_key=["enrich", table], metadata={"rows": count})


@asset(
    key=["enrich", COMMENT_SCORES.table],
    group_name=GROUP,
    deps=[AssetKey(["intermediate", "int_surveys__responses_pivoted"])],
    kinds={"duckdb", "scikit-learn"},
    description="Sentiment and journey aspects of each survey comment; new texts only.",
)
def comment_scores(warehouse: Warehouse) -> MaterializeResult:
    metadata, _ = _materialize(warehouse, COMMENT_SCORES)
    return MaterializeResult(metadata=metadata)


text_assets = [review_scores, comment_scores]
