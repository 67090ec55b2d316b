{#- One row per response day x store x channel x touchpoint x suspect mark: CSAT counts and sums
    of countable responses' ratings (int_surveys__countable_responses, the responses fct_nps_daily
    counts). The headline CSAT tiles, their previous-period comparisons and
    every sidebar filter (dates, region, store, channel) are sums over these rows: a roll-up's
    mean is sum_csat / count_ratings and its variance comes from sum_squares_csat, never from
    averaging avg_csat. -#}
with ratings as (
    select * from {{ ref('fct_touchpoint_ratings') }}
),

responses as (
    select * from {{ ref('int_surveys__countable_responses') }}
),

counts as (
    select
        ratings.response_date as date_day,
        ratings.store_id,
        ratings.region_id,
        ratings.channel,
        ratings.touchpoint_id,
        responses.is_suspect,
        count({{ in_scale('ratings.csat_score', 'csat') }}) as count_ratings,
        count(case when ratings.is_top_box then {{ in_scale('ratings.csat_score', 'csat') }} end) as count_top_box,
        sum({{ in_scale('ratings.csat_score', 'csat') }}) as sum_csat,
        sum({{ in_scale('ratings.csat_score', 'csat') }} * {{ in_scale('ratings.csat_score', 'csat') }}) as sum_squares_csat
    from ratings
    inner join responses
        on ratings.response_key = responses.response_key
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        date_day,
        store_id,
        region_id,
        channel,
        touchpoint_id,
        is_suspect,
        count_ratings,
        count_top_box,
        {{ share_of('count_top_box', 'count_ratings') }} as csat_top2_share,
        round(sum_csat / nullif(count_ratings, 0), 6) as avg_csat,
        {{ is_reportable('count_ratings') }} as is_reportable,
        sum_csat,
        sum_squares_csat
    from counts
)

select * from final
