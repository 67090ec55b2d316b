{#- Each answer of the latest delivery of each response, with the role the survey mapping
    gives its question (nps, csat, ces, comment, store_id, transaction_id, channel) and, for
    scored roles, the score: the mapped value of the answer text, else the answer as a number. -#}
with responses as (
    select * from {{ ref('int_surveys__responses_unioned') }}
),

qualtrics_answers as (
    select * from {{ ref('stg_qualtrics__answers') }}
),

wjx_answers as (
    select * from {{ ref('stg_wjx__answers') }}
),

questions as (
    select * from {{ ref('stg_configuration__survey_questions') }}
),

answer_scores as (
    select * from {{ ref('stg_configuration__survey_answer_scores') }}
),

answers as (
    select * from qualtrics_answers
    union all
    select * from wjx_answers
),

latest_delivery_answers as (
    select
        responses.response_key,
        answers.survey_id,
        answers.response_id,
        answers.question_id,
        answers.question_text,
        answers.answer
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
        end as score
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
