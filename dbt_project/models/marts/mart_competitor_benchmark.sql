{#- One row per platform x city x brand x aspect: 'overall' over every review, and each
    touchpoint over the reviews that name it. Shares are of the reviews with a scored text
    (count_scored); for a touchpoint, the rest of them are neutral about it. -#}

with reviews as (
    select * from {{ ref('fct_reviews') }}
),

aspects as (
    select * from {{ ref('fct_review_aspects') }}
),

overall as (
    select
        platform,
        city,
        region_id,
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
        aspects.platform,
        aspects.city,
        aspects.region_id,
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
        platform,
        city,
        region_id,
        brand,
        is_competitor,
        aspect,
        count(*) as count_reviews,
        sum(is_scored) as count_scored,
        sum(is_positive) as count_positive,
        sum(is_negative) as count_negative,
        avg(rating) as avg_rating
    from mentions
    group by platform, city, region_id, brand, is_competitor, aspect
),

final as (
    select
        platform,
        city,
        region_id,
        brand,
        is_competitor,
        aspect,
        count_reviews,
        count_scored,
        count_positive,
        count_negative,
        round(avg_rating, 6) as avg_rating,
        {{ share_of('count_positive', 'count_scored') }} as positive_share,
        {{ share_of('count_negative', 'count_scored') }} as negative_share,
        {{ is_reportable('count_scored') }} as is_reportable
    from counted
)

select * from final
