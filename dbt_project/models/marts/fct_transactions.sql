{{ config(
    materialized='incremental',
    unique_key='transaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('stg_pos__transactions') }} as s where s.transaction_id = {{ this }}.transaction_id)",
) }}
{#- One row per transaction, from its latest delivery. Incremental: a run re-processes only the
    transactions whose header or lines were delivered in the run's days, or whose store moved to
    another region since they were written; a transaction that a redelivery of its day no longer
    holds is deleted (post-hook), as a full refresh would. -#}
with delivered_transactions as (
    select * from {{ ref('stg_pos__transactions') }}
),

delivered_lines as (
    select * from {{ ref('stg_pos__transaction_lines') }}
),
{% if is_incremental() %}
changed_transactions as (
    select transaction_id from delivered_transactions where {{ in_run_window('delivered_on') }}
    union
    select transaction_id from delivered_lines where {{ in_run_window('delivered_on') }}
    union
    -- a store moved to another region: its rows follow, so a region's scope stays exact
    select written.transaction_id
    from {{ this }} as written
    inner join {{ ref('dim_store') }} as current_stores
        on written.store_id = current_stores.store_id
    where written.region_id is distinct from current_stores.region_id
),

transactions as (
    select delivered_transactions.*
    from delivered_transactions
    inner join changed_transactions
        on delivered_transactions.transaction_id = changed_transactions.transaction_id
),

lines as (
    select delivered_lines.*
    from delivered_lines
    inner join changed_transactions
        on delivered_lines.transaction_id = changed_transactions.transaction_id
),
{% else %}
transactions as (
    select * from delivered_transactions
),

lines as (
    select * from delivered_lines
),
{% endif %}

stores as (
    select * from {{ ref('dim_store') }}
),

latest_transactions as (
    select
        *,
        row_number() over (partition by transaction_id order by delivered_on desc) as delivery_rank
    from transactions
),

latest_lines as (
    select
        *,
        row_number() over (
            partition by transaction_id, line_number order by delivered_on desc
        ) as delivery_rank
    from lines
),

line_totals as (
    select
        transaction_id,
        count(*) as count_lines,
        sum(quantity) as count_items
    from latest_lines
    where delivery_rank = 1
    group by transaction_id
),

final as (
    select
        latest_transactions.transaction_id,
        latest_transactions.store_id,
        stores.region_id,
        latest_transactions.staff_id,
        latest_transactions.customer_id,
        latest_transactions.channel,
        latest_transactions.ordered_at,
        latest_transactions.ready_at,
        cast(latest_transactions.ordered_at as date) as transaction_date,
        {{ dbt.datediff('latest_transactions.ordered_at', 'latest_transactions.ready_at', 'second') }} / 60.0
            as wait_minutes,
        latest_transactions.amount,
        latest_transactions.refund_amount,
        latest_transactions.refund_amount > 0 as is_refunded,
        latest_transactions.is_remake,
        coalesce(line_totals.count_lines, 0) as count_lines,
        coalesce(line_totals.count_items, 0) as count_items
    from latest_transactions
    left join stores
        on latest_transactions.store_id = stores.store_id
    left join line_totals
        on latest_transactions.transaction_id = line_totals.transaction_id
    where latest_transactions.delivery_rank = 1
)

select * from final
