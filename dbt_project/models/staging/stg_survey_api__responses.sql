{#- The current version of each survey API response, in the file exports' staging shape, so the
    survey marts count an edited response once, as it now reads. -#}
with versions as (
    select * from {{ ref('stg_survey_api__response_versions') }}
),

current_versions as (
    select
        -- ids
        survey_id,
        response_id,
        -- text
        source_system,
        export_layout,
        status,
        ip_address,
        metadata_json,
        -- numerics
        duration_in_seconds,
        -- timestamps (business time)
        submitted_at,
        started_at,
        delivered_on,
        source_file,
        source_row
    from versions
    where is_current
)

select * from current_versions
