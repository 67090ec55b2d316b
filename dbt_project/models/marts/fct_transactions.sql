with transactions as (
    select * from {{ ref('stg_pos__transactions') }}
),

lines as (
    select * from {{ ref('stg_pos__transaction_lines') }}
),

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
