with source as (
    select * from {{ source('app_events', 'app_events') }}
),

renamed as (
    select
        -- ids
        event_id,
        device_id,
        member_id as customer_id,
        session_hint,
        item as product_id,
        order_id as transaction_id,
        store_id,
        -- text
        event_type,
        page,
        error_code,
        app_version,
        -- numerics
        cast(price as decimal(12, 2)) as price,
        cast(cast(dwell_ms as double) as bigint) as dwell_ms,
        -- timestamps (business time): the device's clock and the collector's
        {{ to_local_timestamp('occurred_at') }} as occurred_at,
        {{ to_local_timestamp('received_at') }} as received_at,
        _partition_date as received_on
    from source
)

select * from renamed
