with touchpoints as (
    select * from {{ ref('stg_configuration__journey_touchpoints') }}
),

final as (
    select
        touchpoint_id,
        touchpoint_name_zh,
        touchpoint_name_en,
        stage_id,
        stage_name_zh,
        stage_name_en,
        stage_order,
        touchpoint_order,
        channels,
        operational_metric,
        survey_measure,
        pos_events,
        review_aspect_keywords
    from touchpoints
)

select * from final
