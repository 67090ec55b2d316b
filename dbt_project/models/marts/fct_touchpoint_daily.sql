{#- One row per touchpoint x store x day: CSAT of countable responses (by response day) beside
    the touchpoint's operational metric (journey map `measures.operational`, by order day, over
    the orders of the touchpoint's channels).
    Incremental by day: a run recomputes the order days of the transactions delivered in its days
    and every day whose rating counts differ from the written ones (a late survey, a response
    whose countable verdict changed) or whose rows name a store's former region; a changed
    journey map recomputes every day. -#}
{{ config(
    materialized='incremental',
    unique_key='date_day',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
) }}
-- depends_on: {{ ref('stg_pos__transactions') }}
-- depends_on: {{ ref('stg_pos__transaction_lines') }}
with all_ratings as (
    select * from {{ ref('fct_touchpoint_ratings') }}
),

all_transactions as (
    select * from {{ ref('fct_transactions') }}
),

touchpoints as (
    select * from {{ ref('dim_touchpoint') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

journey_map as (
    select {{ journey_map_checksum('touchpoints') }} as journey_map_checksum
    from touchpoints
),

all_rating_counts as (
    select
        touchpoint_id,
        store_id,
        response_date as date_day,
        count({{ in_scale('csat_score', 'csat') }}) as count_ratings,
        cast(sum(case when is_top_box then 1 else 0 end) as {{ dbt.type_bigint() }}) as count_top_box,
        round(avg({{ in_scale('csat_score', 'csat') }}), 6) as avg_csat
    from all_ratings
    where is_countable
    group by touchpoint_id, store_id, response_date
),

{% if is_incremental() %}
{#- A table written before rows carried the checksum reads as another journey map. -#}
{%- set written_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
written as (
    select
        *
        {%- if 'journey_map_checksum' not in written_columns %},
        cast(null as {{ dbt.type_string() }}) as journey_map_checksum
        {%- endif %}
        {%- if 'is_reportable' not in written_columns %},
        cast(null as boolean) as is_reportable
        {%- endif %}
    from {{ this }}
),

changed_days as (
    {{ changed_transaction_days() }}
    union
    select coalesce(fresh.date_day, written.date_day) as date_day
    from all_rating_counts as fresh
    full outer join (select * from written where count_ratings > 0) as written
        on fresh.touchpoint_id = written.touchpoint_id
        and fresh.store_id = written.store_id
        and fresh.date_day = written.date_day
    where fresh.count_ratings is distinct from written.count_ratings
        or fresh.count_top_box is distinct from written.count_top_box
        or fresh.avg_csat is distinct from written.avg_csat
    union
    select written.date_day
    from written
    cross join journey_map
    where written.journey_map_checksum is distinct from journey_map.journey_map_checksum
    union
    {#- Rows written before is_reportable existed, or under another min_responses. #}
    select date_day
    from written
    where is_reportable is distinct from {{ is_reportable('count_ratings') }}
    union
    select written.date_day
    from written
    inner join stores
        on written.store_id = stores.store_id
    where written.region_id is distinct from stores.region_id
    union
    select all_transactions.transaction_date as date_day
    from all_transactions
    cross join journey_map
    where not exists (
        select 1 from written where written.journey_map_checksum = journey_map.journey_map_checksum
    )
),

rating_counts as (
    select all_rating_counts.*
    from all_rating_counts
    inner join changed_days
        on all_rating_counts.date_day = changed_days.date_day
),

transactions as (
    select all_transactions.*
    from all_transactions
    inner join changed_days
        on all_transactions.transaction_date = changed_days.date_day
),
{% else %}
rating_counts as (
    select * from all_rating_counts
),

transactions as (
    select * from all_transactions
),
{% endif %}

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
        combined.avg_csat,
        {{ is_reportable('combined.count_ratings') }} as is_reportable,
        touchpoints.operational_metric,
        coalesce(combined.operational_n, 0) as operational_n,
        combined.operational_median,
        combined.operational_p90,
        journey_map.journey_map_checksum
    from combined
    inner join touchpoints
        on combined.touchpoint_id = touchpoints.touchpoint_id
    left join stores
        on combined.store_id = stores.store_id
    cross join journey_map
)

select * from final
