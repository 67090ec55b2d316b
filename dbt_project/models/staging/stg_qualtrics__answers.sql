with source as (
    select * from {{ source('qualtrics', 'qualtrics_answers') }}
),

renamed as (
    select
        -- ids
        survey_id,
        response_id,
        question_id,
        -- text
        'qualtrics' as source_system,
        question_text,
        answer,
        _partition_date as delivered_on
    from source
)

select * from renamed
