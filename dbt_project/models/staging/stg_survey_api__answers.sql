{#- The answers of each survey API response's current version, in the file exports' staging
    shape: the answers of an edited response's earlier versions stay in raw, not in the marts. -#}
with source as (
    select * from {{ source('survey_api', 'survey_api_answers') }}
),

versions as (
    select * from {{ ref('stg_survey_api__response_versions') }}
),

answers as (
    select
        survey_id,
        response_id,
        question_id,
        question_text,
        answer,
        {{ to_local_timestamp('modified_at') }} as modified_at,
        _partition_date as delivered_on
    from source
),

current_answers as (
    select
        -- ids
        answers.survey_id,
        answers.response_id,
        answers.question_id,
        -- text
        'survey_api' as source_system,
        answers.question_text,
        answers.answer,
        answers.delivered_on
    from answers
    inner join versions
        on answers.survey_id = versions.survey_id
        and answers.response_id = versions.response_id
        and answers.modified_at = versions.modified_at
        and answers.delivered_on = versions.delivered_on
    where versions.is_current
)

select * from current_answers
