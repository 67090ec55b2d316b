{#- One row per touchpoint x store x channel x day: CSAT counts and sums of countable responses
    (by response day) beside the operations of that day's orders in the channel, for the channels
    where the touchpoint exists (all of them when the journey map lists none; by order day).
    Every column is a count or a sum, so any selection of days, stores, regions and channels is a
    sum of rows: a mean is sum_<x> / count_<x>, a share of a flag is sum_<flag> / count_<flag>,
    a standard deviation comes from sum_squares_<x>. No median is kept: medians of days do not
    roll up, and the explorer shows means (over the orders) instead.
    Incremental by day: a run recomputes the order days of the transactions delivered in its days
    and every day whose rating counts differ from the written ones (a late survey, a response
    whose countable verdict changed) or whose rows name a store's former region; a changed
    journey map, or a table written in an older layout, recomputes every day. -#}
{{ config(
    materialized='incremental',
    unique_key='date_day',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
) }}
{#- The operational measures every touchpoint carries (fct_transactions columns): quantities get a
    count, sum and sum of squares, flags a count and the number of true ones. -#}
{%- set quantities = operational_metric_columns() -%}
{%- set flags = operational_flag_columns() %}
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
        channel,
        response_date as date_day,
        count({{ in_scale('csat_score', 'csat') }}) as count_ratings,
        cast(sum(case when is_top_box then 1 else 0 end) as {{ dbt.type_bigint() }}) as count_top_box,
        sum({{ in_scale('csat_score', 'csat') }}) as sum_csat,
        sum({{ in_scale('csat_score', 'csat') }} * {{ in_scale('csat_score', 'csat') }}) as sum_squares_csat
    from all_ratings
    where is_countable
    group by touchpoint_id, store_id, channel, response_date
),

{% if is_incremental() %}
{%- set written_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
{#- A table written before rows carried the checksum reads as another journey map; one written
    before the channel grain and the sums (the older layout) is recomputed on every day. -#}
{%- set older_layout = 'sum_squares_csat' not in written_columns %}
{#- A table written before a measure joined the contract lacks its sums on every day. -#}
{%- set missing_measures = [] %}
{%- for measure in quantities + flags if ('sum_' ~ measure) not in written_columns %}
{%- do missing_measures.append(measure) %}
{%- endfor %}
written as (
    select
        *
        {%- if 'journey_map_checksum' not in written_columns %},
        cast(null as {{ dbt.type_string() }}) as journey_map_checksum
        {%- endif %}
        {%- if 'is_reportable' not in written_columns %},
        cast(null as boolean) as is_reportable
        {%- endif %}
        {%- if older_layout %},
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_bigint() }}) as sum_csat,
        cast(null as {{ dbt.type_bigint() }}) as sum_squares_csat
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
        and fresh.channel is not distinct from written.channel
        and fresh.date_day = written.date_day
    where fresh.count_ratings is distinct from written.count_ratings
        or fresh.count_top_box is distinct from written.count_top_box
        or fresh.sum_csat is distinct from written.sum_csat
        or fresh.sum_squares_csat is distinct from written.sum_squares_csat
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
    {%- if older_layout or missing_measures %}
    union
    select transaction_date as date_day from all_transactions
    union
    select date_day from all_rating_counts
    union
    select date_day from written
    {%- endif %}
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

-- A touchpoint's operations are the orders of the channels where it exists. Sums of fractional
-- values are rounded to 6 decimals: a sum of doubles in another order differs in its last bits, and
-- an incremental run must write the rows a full refresh writes.
touchpoint_orders as (
    select
        touchpoints.touchpoint_id,
        touchpoints.operational_metric,
        {{ operational_metric_value('touchpoints.operational_metric', 'transactions') }} as metric_value,
        transactions.*
    from transactions
    inner join touchpoints
        on touchpoints.channels is null
        or {{ channel_in_list('transactions.channel', 'touchpoints.channels') }}
),

operations as (
    select
        touchpoint_id,
        store_id,
        channel,
        transaction_date as date_day,
        count(*) as count_orders,
        count(metric_value) as operational_n,
        round(sum(metric_value), 6) as operational_sum,
        round(sum(metric_value * metric_value), 6) as operational_sum_squares
        {%- for quantity in quantities %},
        count({{ quantity }}) as count_{{ quantity }},
        round(sum({{ quantity }}), 6) as sum_{{ quantity }},
        round(sum({{ quantity }} * {{ quantity }}), 6) as sum_squares_{{ quantity }}
        {%- endfor %}
        {%- for flag in flags %},
        count({{ flag }}) as count_{{ flag }},
        cast(sum(case when {{ flag }} then 1 else 0 end) as {{ dbt.type_bigint() }}) as sum_{{ flag }}
        {%- endfor %}
    from touchpoint_orders
    group by touchpoint_id, store_id, channel, transaction_date
),

combined as (
    select
        coalesce(rating_counts.touchpoint_id, operations.touchpoint_id) as touchpoint_id,
        coalesce(rating_counts.store_id, operations.store_id) as store_id,
        coalesce(rating_counts.channel, operations.channel) as channel,
        coalesce(rating_counts.date_day, operations.date_day) as date_day,
        coalesce(rating_counts.count_ratings, 0) as count_ratings,
        coalesce(rating_counts.count_top_box, 0) as count_top_box,
        rating_counts.sum_csat,
        rating_counts.sum_squares_csat,
        coalesce(operations.count_orders, 0) as count_orders,
        coalesce(operations.operational_n, 0) as operational_n,
        operations.operational_sum,
        operations.operational_sum_squares
        {%- for quantity in quantities %},
        coalesce(operations.count_{{ quantity }}, 0) as count_{{ quantity }},
        operations.sum_{{ quantity }},
        operations.sum_squares_{{ quantity }}
        {%- endfor %}
        {%- for flag in flags %},
        coalesce(operations.count_{{ flag }}, 0) as count_{{ flag }},
        operations.sum_{{ flag }}
        {%- endfor %}
    from rating_counts
    full outer join operations
        on rating_counts.touchpoint_id = operations.touchpoint_id
        and rating_counts.store_id = operations.store_id
        and rating_counts.channel is not distinct from operations.channel
        and rating_counts.date_day = operations.date_day
),

final as (
    select
        combined.touchpoint_id,
        combined.store_id,
        stores.region_id,
        combined.channel,
        combined.date_day,
        combined.count_ratings,
        combined.count_top_box,
        {{ share_of('combined.count_top_box', 'combined.count_ratings') }} as csat_top2_share,
        round(combined.sum_csat / nullif(combined.count_ratings, 0), 6) as avg_csat,
        {{ is_reportable('combined.count_ratings') }} as is_reportable,
        combined.sum_csat,
        combined.sum_squares_csat,
        combined.count_orders,
        touchpoints.operational_metric,
        combined.operational_n,
        combined.operational_sum,
        combined.operational_sum_squares
        {%- for quantity in quantities %},
        combined.count_{{ quantity }},
        combined.sum_{{ quantity }},
        combined.sum_squares_{{ quantity }}
        {%- endfor %}
        {%- for flag in flags %},
        combined.count_{{ flag }},
        combined.sum_{{ flag }}
        {%- endfor %},
        journey_map.journey_map_checksum
    from combined
    inner join touchpoints
        on combined.touchpoint_id = touchpoints.touchpoint_id
    left join stores
        on combined.store_id = stores.store_id
    cross join journey_map
)

select * from final
