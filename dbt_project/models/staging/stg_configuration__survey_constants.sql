with source as (
    select * from {{ source('configuration', 'survey_constants') }}
),

renamed as (
    select
        survey_id,
        role as question_role,
        value as constant_value
    from source
)

select * from renamed
