with source as (
    select * from {{ source('kano', 'kano_answers') }}
),

renamed as (
    select
        -- ids
        survey_id,
        response_id,
        question_id,
        -- text
        'wjx' as source_system,
        question_text,
        answer,
        _partition_date as delivered_on
    from source
)

select * from renamed
