{#- One row per posted day x store x keyword over our stores' reviews: the Voice page's keyword
    cloud and trending keywords are sums over these rows for any picked days, region or store
    (a week grain could not serve a day-level date filter). A review's keywords are
    space-separated (at most max_keywords; tests/pipeline reconciles the counts). -#}
{%- set max_keywords = 10 -%}

with reviews as (
    select * from {{ ref('fct_reviews') }}
),

positions as (
    {%- for position in range(1, max_keywords + 1) %}
    select {{ position }} as keyword_position
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

review_keywords as (
    select distinct
        reviews.review_key,
        reviews.store_id,
        reviews.region_id,
        reviews.posted_date,
        reviews.sentiment_label,
        reviews.sentiment_score,
        {{ dbt.split_part('reviews.keywords', "' '", 'positions.keyword_position') }} as keyword
    from reviews
    cross join positions
    where not reviews.is_competitor and reviews.keywords <> ''
),

final as (
    select
        posted_date,
        store_id,
        region_id,
        keyword,
        count(*) as count_reviews,
        sum(case when sentiment_label = 'positive' then 1 else 0 end) as count_positive,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as count_negative,
        round(avg(sentiment_score), 6) as avg_sentiment
    from review_keywords
    where keyword <> ''
    group by posted_date, store_id, region_id, keyword
)

select * from final
