{#- One row per review in its latest delivery, with the text's scores. A competitor's shop has
    no store: its city is the chain's city its shop name names ("山野茶铺(上海陆家嘴店)"), and its
    region that city's region, so regional views can benchmark against the shops near them. -#}

with reviews as (
    select * from {{ ref('stg_reviews__reviews') }}
),

scores as (
    select * from {{ ref('stg_enrich__review_scores') }}
),

keywords as (
    select * from {{ ref('int_reviews__keywords') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

-- Each review in its latest delivery (the rule assets/text.py scores by).
latest_reviews as (
    select
        *,
        row_number() over (
            partition by review_key order by delivered_on desc, posted_at desc, content
        ) as delivery_rank
    from reviews
),

cities as (
    select
        city,
        min(region_id) as region_id
    from stores
    group by city
),

-- The longest chain city that a competitor's shop name opens with, after "<brand>(".
competitor_cities as (
    select
        latest_reviews.review_key,
        cities.city,
        cities.region_id,
        row_number() over (
            partition by latest_reviews.review_key order by {{ dbt.length('cities.city') }} desc
        ) as city_rank
    from latest_reviews
    inner join cities
        on {{ dbt.position(
            dbt.concat(['latest_reviews.brand', "'('", 'cities.city']),
            'latest_reviews.shop_name'
        ) }} = 1
    where latest_reviews.delivery_rank = 1 and latest_reviews.store_id is null
),

final as (
    select
        latest_reviews.review_key,
        latest_reviews.platform,
        latest_reviews.review_id,
        latest_reviews.shop_id,
        latest_reviews.shop_name,
        latest_reviews.brand,
        latest_reviews.store_id is null as is_competitor,
        latest_reviews.store_id,
        coalesce(stores.region_id, competitor_cities.region_id) as region_id,
        coalesce(stores.city, competitor_cities.city) as city,
        latest_reviews.transaction_id,
        latest_reviews.posted_at,
        cast(latest_reviews.posted_at as date) as posted_date,
        latest_reviews.rating,
        latest_reviews.content,
        scores.sentiment_score,
        scores.sentiment_label,
        scores.aspects,
        -- '' for a scored text without keywords (or a blank one); NULL for a review not scored yet
        case when scores.review_key is not null then coalesce(keywords.keywords, '') end as keywords,
        case
            when latest_reviews.rating >= 4 then scores.sentiment_label = 'negative'
            when latest_reviews.rating <= 2 then scores.sentiment_label = 'positive'
        end as rating_disagrees,
        scores.model_version,
        latest_reviews.delivered_on
    from latest_reviews
    left join scores
        on latest_reviews.review_key = scores.review_key
    left join keywords
        on latest_reviews.review_key = keywords.review_key
    left join stores
        on latest_reviews.store_id = stores.store_id
    left join competitor_cities
        on latest_reviews.review_key = competitor_cities.review_key
        and competitor_cities.city_rank = 1
    where latest_reviews.delivery_rank = 1
)

select * from final
