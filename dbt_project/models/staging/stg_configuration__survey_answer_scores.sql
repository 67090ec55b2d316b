with source as (
    select * from {{ source('configuration', 'survey_answer_scores') }}
),

renamed as (
    select
        survey_id,
        role as question_role,
        answer_text,
        cast(score as integer) as score
    from source
)

select * from renamed
