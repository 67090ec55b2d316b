{#- One row per review x journey touchpoint its text names, with the feeling about it. The
    touchpoints come from the journey map (dim_touchpoint), so a new touchpoint needs no edit. -#}
{%- set feelings = ['positive', 'negative', 'neutral'] -%}

with reviews as (
    select * from {{ ref('fct_reviews') }}
),

touchpoints as (
    select * from {{ ref('dim_touchpoint') }}
),

-- aspects wrapped in separators, so ";taste:negative;" matches one whole entry
wrapped as (
    select
        *,
        {{ dbt.concat(["';'", "aspects", "';'"]) }} as aspect_list
    from reviews
    where aspects <> ''
),

named as (
    select
        wrapped.*,
        touchpoints.touchpoint_id,
        case
            {%- for feeling in feelings %}
            when {{ dbt.position(
                dbt.concat(["';'", "touchpoints.touchpoint_id", "':" ~ feeling ~ ";'"]), 'wrapped.aspect_list'
            ) }} > 0 then '{{ feeling }}'
            {%- endfor %}
        end as aspect_sentiment
    from wrapped
    cross join touchpoints
),

final as (
    select
        review_key,
        touchpoint_id,
        aspect_sentiment,
        platform,
        brand,
        is_competitor,
        store_id,
        region_id,
        city,
        posted_date,
        rating,
        sentiment_score
    from named
    where aspect_sentiment is not null
)

select * from final
