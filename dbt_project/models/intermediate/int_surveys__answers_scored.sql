{{ config(
    materialized='incremental',
    unique_key='response_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('int_surveys__responses_unioned') }} as r where r.response_key = {{ this }}.response_key and r.delivered_on = {{ this }}.delivered_on)",
) }}
{#- Each answer of the latest delivery of each response, with the role the survey mapping
    gives its question (nps, csat, ces, comment, store_id, transaction_id, channel) and, for
    scored roles, the score: the mapped value of the answer text, else the answer as a number.
    Incremental: a run re-processes the responses delivered in its days and those whose latest
    delivery or survey mapping differs from the one their rows were written with; rows of a
    delivery that is no longer the response's latest are deleted (post-hook). -#}
with all_responses as (
    select * from {{ ref('int_surveys__responses_unioned') }}
),

qualtrics_answers as (
    select * from {{ ref('stg_qualtrics__answers') }}
),

wjx_answers as (
    select * from {{ ref('stg_wjx__answers') }}
),

survey_file_answers as (
    select * from {{ ref('stg_surveys__answers') }}
),

survey_api_answers as (
    select * from {{ ref('stg_survey_api__answers') }}
),

questions as (
    select * from {{ ref('stg_configuration__survey_questions') }}
),

answer_scores as (
    select * from {{ ref('stg_configuration__survey_answer_scores') }}
),

survey_mapping as (
    {{ survey_mapping_checksum() }}
),

stamped_responses as (
    select
        all_responses.*,
        survey_mapping.survey_mapping_checksum
    from all_responses
    cross join survey_mapping
),

{{ survey_ctes_in_run('stamped_responses', {'responses': 'stamped_responses'}) }}

answers as (
    select * from qualtrics_answers
    union all
    select * from wjx_answers
    union all
    select * from survey_file_answers
    union all
    select * from survey_api_answers
),

latest_delivery_answers as (
    select
        responses.response_key,
        answers.survey_id,
        answers.response_id,
        answers.question_id,
        answers.question_text,
        answers.answer,
        responses.delivered_on,
        responses.survey_mapping_checksum
    from answers
    inner join responses
        on answers.survey_id = responses.survey_id
        and answers.response_id = responses.response_id
        and answers.delivered_on = responses.delivered_on
),

scored as (
    select
        latest_delivery_answers.response_key,
        latest_delivery_answers.survey_id,
        latest_delivery_answers.response_id,
        latest_delivery_answers.question_id,
        latest_delivery_answers.question_text,
        latest_delivery_answers.answer,
        questions.question_role,
        questions.touchpoint_id,
        case
            when questions.question_role in ('nps', 'csat', 'ces')
                then coalesce(
                    answer_scores.score,
                    {{ dbt.safe_cast("trim(latest_delivery_answers.answer)", dbt.type_int()) }}
                )
        end as score,
        latest_delivery_answers.delivered_on,
        latest_delivery_answers.survey_mapping_checksum
    from latest_delivery_answers
    left join questions
        on latest_delivery_answers.survey_id = questions.survey_id
        and latest_delivery_answers.question_id = questions.question_id
    left join answer_scores
        on latest_delivery_answers.survey_id = answer_scores.survey_id
        and questions.question_role = answer_scores.question_role
        and trim(latest_delivery_answers.answer) = answer_scores.answer_text
)

select * from scored
