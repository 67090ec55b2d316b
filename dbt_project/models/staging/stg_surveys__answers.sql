with source as (
    select * from {{ source('surveys', 'survey_answers') }}
),

responses as (
    select * from {{ source('surveys', 'survey_responses') }}
),

renamed as (
    select
        -- ids
        source.survey_id,
        source.response_id,
        source.question_id,
        -- text
        split_part(responses.layout, '-', 1) as source_system,
        source.question_text,
        source.answer,
        source._partition_date as delivered_on
    from source
    inner join responses
        on source.survey_id = responses.survey_id
        and source.response_id = responses.response_id
        and source._partition_date = responses._partition_date
        and source._source_file = responses._source_file
)

select * from renamed
