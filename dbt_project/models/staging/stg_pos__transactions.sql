with source as (
    select * from {{ source('pos', 'pos_transactions') }}
),

renamed as (
    select
        -- ids
        transaction_id,
        store_id,
        staff_id,
        nullif(customer_id, '') as customer_id,
        -- text
        channel,
        -- numerics
        cast(amount as decimal(12, 2)) as amount,
        cast(coalesce(nullif(refund_amount, ''), '0') as decimal(12, 2)) as refund_amount,
        cast(is_remake as integer) = 1 as is_remake,
        -- timestamps (business time)
        {{ to_local_timestamp('ordered_at') }} as ordered_at,
        {{ to_local_timestamp('nullif(ready_at, \'\')') }} as ready_at,
        _partition_date as delivered_on
    from source
)

select * from renamed
