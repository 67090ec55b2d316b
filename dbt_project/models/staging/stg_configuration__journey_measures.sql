with source as (
    select * from {{ source('configuration', 'journey_measures') }}
),

renamed as (
    select
        -- ids
        touchpoint_id,
        -- text
        measure_kind,
        measure_name,
        -- numerics
        cast(measure_order as integer) as measure_order
    from source
)

select * from renamed
