with source as (
    select * from {{ source('configuration', 'journey_touchpoints') }}
),

renamed as (
    select
        -- ids
        touchpoint_id,
        stage_id,
        -- text
        touchpoint_name_zh,
        touchpoint_name_en,
        stage_name_zh,
        stage_name_en,
        channels,
        operational_metric,
        survey_measure,
        pos_events,
        review_aspect_keywords,
        -- numerics
        cast(stage_order as integer) as stage_order,
        cast(touchpoint_order as integer) as touchpoint_order
    from source
)

select * from renamed
