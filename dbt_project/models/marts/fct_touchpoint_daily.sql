{#- One row per touchpoint x store x day: CSAT of countable responses (by response day) beside
    the touchpoint's operational metric (journey map `measures.operational`, by order day, over
    the orders of the touchpoint's channels). -#}
with ratings as (
    select * from {{ ref('fct_touchpoint_ratings') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

touchpoints as (
    select * from {{ ref('dim_touchpoint') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

rating_counts as (
    select
        touchpoint_id,
        store_id,
        response_date as date_day,
        count({{ in_scale('csat_score', 'csat') }}) as count_ratings,
        cast(sum(case when is_top_box then 1 else 0 end) as {{ dbt.type_bigint() }}) as count_top_box,
        avg({{ in_scale('csat_score', 'csat') }}) as avg_csat
    from ratings
    where is_countable
    group by touchpoint_id, store_id, response_date
),

operational_values as (
    select
        touchpoints.touchpoint_id,
        touchpoints.operational_metric,
        transactions.store_id,
        transactions.transaction_date as date_day,
        {{ operational_metric_value('touchpoints.operational_metric', 'transactions') }} as metric_value
    from transactions
    inner join touchpoints
        on {{ channel_in_list('transactions.channel', 'touchpoints.channels') }}
    where touchpoints.operational_metric is not null
),

operational_stats as (
    select
        touchpoint_id,
        operational_metric,
        store_id,
        date_day,
        count(metric_value) as operational_n,
        {{ median_of('metric_value') }} as operational_median,
        {{ percentile_of('metric_value', 0.9) }} as operational_p90
    from operational_values
    group by touchpoint_id, operational_metric, store_id, date_day
),

combined as (
    select
        coalesce(rating_counts.touchpoint_id, operational_stats.touchpoint_id) as touchpoint_id,
        coalesce(rating_counts.store_id, operational_stats.store_id) as store_id,
        coalesce(rating_counts.date_day, operational_stats.date_day) as date_day,
        coalesce(rating_counts.count_ratings, 0) as count_ratings,
        coalesce(rating_counts.count_top_box, 0) as count_top_box,
        rating_counts.avg_csat,
        operational_stats.operational_n,
        operational_stats.operational_median,
        operational_stats.operational_p90
    from rating_counts
    full outer join operational_stats
        on rating_counts.touchpoint_id = operational_stats.touchpoint_id
        and rating_counts.store_id = operational_stats.store_id
        and rating_counts.date_day = operational_stats.date_day
),

final as (
    select
        combined.touchpoint_id,
        combined.store_id,
        stores.region_id,
        combined.date_day,
        combined.count_ratings,
        combined.count_top_box,
        {{ share_of('combined.count_top_box', 'combined.count_ratings') }} as csat_top2_share,
        round(combined.avg_csat, 6) as avg_csat,
        touchpoints.operational_metric,
        coalesce(combined.operational_n, 0) as operational_n,
        combined.operational_median,
        combined.operational_p90
    from combined
    inner join touchpoints
        on combined.touchpoint_id = touchpoints.touchpoint_id
    left join stores
        on combined.store_id = stores.store_id
)

select * from final
