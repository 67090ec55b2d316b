with source as (
    select * from {{ source('kano', 'kano_responses') }}
),

renamed as (
    select
        -- ids
        survey_id,
        response_id,
        -- text
        'wjx' as source_system,
        layout as export_layout,
        status,
        ip_address,
        metadata as metadata_json,
        -- numerics
        cast(nullif(duration_seconds, '') as double) as duration_in_seconds,
        -- timestamps (business time)
        {{ to_local_timestamp('submitted_at') }} as submitted_at,
        {{ to_local_timestamp("nullif(started_at, '')") }} as started_at,
        _partition_date as delivered_on,
        _source_file as source_file,
        _source_row as source_row
    from source
)

select * from renamed
