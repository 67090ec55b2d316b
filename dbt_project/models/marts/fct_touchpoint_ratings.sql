with answers as (
    select * from {{ ref('int_surveys__answers_scored') }}
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

ratings as (
    select
        response_key,
        touchpoint_id,
        max(score) as csat_score
    from answers
    where question_role = 'csat' and score is not null
    group by response_key, touchpoint_id
),

final as (
    select
        ratings.response_key,
        responses.survey_id,
        responses.response_id,
        ratings.touchpoint_id,
        ratings.csat_score,
        {{ is_csat_top_box('ratings.csat_score') }} as is_top_box,
        responses.store_id,
        responses.region_id,
        responses.channel,
        responses.response_date,
        responses.is_countable
    from ratings
    inner join responses
        on ratings.response_key = responses.response_key
)

select * from final
