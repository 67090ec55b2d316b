with source as (
    select * from {{ source('reference', 'reference_stores') }}
),

renamed as (
    select
        -- ids
        store_id,
        region_id,
        -- text
        store_name,
        region_name,
        city,
        -- dates
        cast(opened_on as date) as opened_on,
        _partition_date as delivered_on,
        _loaded_at as loaded_at
    from source
)

select * from renamed
