{#- One row per posted day x platform x city x store (ours; none for a competitor's shop) x brand
    x aspect: 'overall' over every review, and each touchpoint over the reviews that name it. Every
    count and sum adds up, so the Voice page's benchmark for any period, region, store and the
    competitors of their cities is a sum of rows. Shares are of the reviews with a scored text
    (count_scored); for a touchpoint, the rest of them are neutral about it. -#}

with reviews as (
    select * from {{ ref('fct_reviews') }}
),

aspects as (
    select * from {{ ref('fct_review_aspects') }}
),

overall as (
    select
        posted_date,
        platform,
        city,
        region_id,
        store_id,
        brand,
        is_competitor,
        'overall' as aspect,
        rating,
        case when sentiment_label is not null then 1 else 0 end as is_scored,
        case when sentiment_label = 'positive' then 1 else 0 end as is_positive,
        case when sentiment_label = 'negative' then 1 else 0 end as is_negative
    from reviews
),

by_touchpoint as (
    select
        aspects.posted_date,
        aspects.platform,
        aspects.city,
        aspects.region_id,
        aspects.store_id,
        aspects.brand,
        aspects.is_competitor,
        aspects.touchpoint_id as aspect,
        aspects.rating,
        1 as is_scored,
        case when aspects.aspect_sentiment = 'positive' then 1 else 0 end as is_positive,
        case when aspects.aspect_sentiment = 'negative' then 1 else 0 end as is_negative
    from aspects
),

mentions as (
    select * from overall
    union all
    select * from by_touchpoint
),

counted as (
    select
        posted_date,
        platform,
        city,
        region_id,
        store_id,
        brand,
        is_competitor,
        aspect,
        count(*) as count_reviews,
        sum(is_scored) as count_scored,
        sum(is_positive) as count_positive,
        sum(is_negative) as count_negative,
        count(rating) as count_rated,
        sum(rating) as sum_rating
    from mentions
    group by posted_date, platform, city, region_id, store_id, brand, is_competitor, aspect
),

final as (
    select
        posted_date,
        platform,
        city,
        region_id,
        store_id,
        brand,
        is_competitor,
        aspect,
        count_reviews,
        count_scored,
        count_positive,
        count_negative,
        count_rated,
        sum_rating,
        round(1.0 * sum_rating / nullif(count_rated, 0), 6) as avg_rating,
        {{ share_of('count_positive', 'count_scored') }} as positive_share,
        {{ share_of('count_negative', 'count_scored') }} as negative_share,
        {{ is_reportable('count_scored') }} as is_reportable
    from counted
)

select * from final
