{#- Responses of survey exports dropped in landing/surveys/, any tool read-survey reads. The
    file's survey mapping chose the reader; the layout it recognised (surveymonkey-expanded,
    tencent-csv, qualtrics-current, wjx-text, ...) names the tool, so the source system is the
    tool, as for the Qualtrics and 问卷星 folders. -#}
with source as (
    select * from {{ source('surveys', 'survey_responses') }}
),

renamed as (
    select
        -- ids
        survey_id,
        response_id,
        -- text
        split_part(layout, '-', 1) as source_system,
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
