{#- One row per review with a written text: its top keywords by TF-IDF over every current review.
    Ranked here on each build, not stored per text when the text is scored: a word's IDF changes
    whenever the corpus does, so a ranking stored at scoring time would depend on the day the text
    was scored, and a build of days 1-10 then 1-14 would differ from one of days 1-14 at once.

    The ranking is cxlake.text.keywords.rank_keywords with build_idf_from_tokens' IDF (jieba.analyse's
    TF-IDF): count x (ln((1 + documents) / (1 + documents with the word)) + 1), first-seen first on
    ties; documents are the reviews whose text was scored (blank texts are no document). -#}
{%- set top_keywords = 5 -%}  {#- cxlake.text.scoring.TOP_KEYWORDS; tests/pipeline checks they agree -#}

with scores as (
    select * from {{ ref('stg_enrich__review_scores') }}
),

terms as (
    select * from {{ ref('stg_enrich__review_terms') }}
),

documents as (
    select
        review_key
    from scores
    where sentiment_score is not null
),

corpus as (
    select
        count(*) as count_documents
    from documents
),

document_terms as (
    select
        terms.*
    from terms
    inner join documents
        on terms.review_key = documents.review_key
),

document_frequency as (
    select
        term,
        count(*) as count_documents_with_term
    from document_terms
    group by term
),

weighted as (
    select
        document_terms.review_key,
        document_terms.term,
        document_terms.first_position,
        document_terms.term_count * (
            ln(
                cast(1 + corpus.count_documents as double)
                / cast(1 + document_frequency.count_documents_with_term as double)
            ) + 1
        ) as tfidf
    from document_terms
    inner join document_frequency
        on document_terms.term = document_frequency.term
    cross join corpus
),

ranked as (
    select
        review_key,
        term,
        row_number() over (
            partition by review_key order by tfidf desc, first_position
        ) as keyword_rank
    from weighted
),

top_keywords as (
    select
        review_key,
        {{ dbt.listagg('term', "' '", 'order by keyword_rank') }} as keywords
    from ranked
    where keyword_rank <= {{ top_keywords }}
    group by review_key
),

final as (
    select
        documents.review_key,
        coalesce(top_keywords.keywords, '') as keywords
    from documents
    left join top_keywords
        on documents.review_key = top_keywords.review_key
)

select * from final
