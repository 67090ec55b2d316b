with source as (
    select * from {{ source('reference', 'reference_staff') }}
),

renamed as (
    select
        -- ids
        staff_id,
        store_id,
        -- text
        staff_name,
        role as staff_role,
        -- dates
        cast(hired_on as date) as hired_on,
        _partition_date as delivered_on
    from source
)

select * from renamed
