{#- One row per review of our stores and pair of keywords TextRank links in its text: the Voice
    page's central words are the TextRank of the sum over the reviews it shows, so a central word
    is never stored (it depends on the group). Review grain, as the page takes the newest reviews
    of its filters; the review's store, region and dates come along for the door and the filters. -#}

with pairs as (
    select * from {{ ref('stg_enrich__review_cooccurrences') }}
),

reviews as (
    select * from {{ ref('fct_reviews') }}
),

final as (
    select
        pairs.review_key,
        reviews.store_id,
        reviews.region_id,
        reviews.posted_date,
        reviews.posted_at,
        pairs.keyword,
        pairs.other_keyword,
        pairs.pair_count
    from pairs
    inner join reviews on pairs.review_key = reviews.review_key
    where not reviews.is_competitor
)

select * from final
