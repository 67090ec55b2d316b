with source as (
    select * from {{ source('configuration', 'survey_questions') }}
),

renamed as (
    select
        survey_id,
        question_id,
        role as question_role,
        nullif(touchpoint_id, '') as touchpoint_id
    from source
)

select * from renamed
