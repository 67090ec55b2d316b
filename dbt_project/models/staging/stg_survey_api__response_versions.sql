{#- Every version of every response pulled from the survey API, as a slowly changing history:
    a version is valid from its last-modified time until the next version's. Built from raw,
    which keeps each version a pull delivered, so the history survives a rebuild from landing/. -#}
with source as (
    select * from {{ source('survey_api', 'survey_api_responses') }}
),

renamed as (
    select
        -- ids
        survey_id,
        response_id,
        -- text
        'survey_api' as source_system,
        layout as export_layout,
        status,
        ip_address,
        metadata as metadata_json,
        -- numerics
        cast(nullif(duration_seconds, '') as double) as duration_in_seconds,
        -- timestamps (business time)
        {{ to_local_timestamp('submitted_at') }} as submitted_at,
        {{ to_local_timestamp("nullif(started_at, '')") }} as started_at,
        {{ to_local_timestamp('modified_at') }} as modified_at,
        _partition_date as delivered_on,
        _source_file as source_file,
        _source_row as source_row
    from source
),

versioned as (
    select
        *,
        row_number() over (
            partition by survey_id, response_id order by modified_at
        ) as version_number,
        modified_at as valid_from,
        lead(modified_at) over (
            partition by survey_id, response_id order by modified_at
        ) as valid_to
    from renamed
),

flagged as (
    select
        *,
        valid_to is null as is_current
    from versioned
)

select * from flagged
