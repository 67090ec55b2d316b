{#- One row per response with its mapped roles as columns. A role no question carries takes
    the survey's constant (the in-store QR survey has no channel question: it is in_store). -#}
with responses as (
    select * from {{ ref('int_surveys__responses_unioned') }}
),

answers as (
    select * from {{ ref('int_surveys__answers_scored') }}
),

constants as (
    select * from {{ ref('stg_configuration__survey_constants') }}
),

roles as (
    select
        response_key,
        max(case when question_role = 'nps' then score end) as nps_score,
        max(case when question_role = 'ces' then score end) as ces_score,
        max(case when question_role = 'comment' then answer end) as comment,
        max(case when question_role = 'store_id' then trim(answer) end) as store_id,
        max(case when question_role = 'transaction_id' then trim(answer) end) as transaction_id,
        max(case when question_role = 'channel' then trim(answer) end) as channel
    from answers
    group by response_key
),

pivoted as (
    select
        responses.response_key,
        responses.survey_id,
        responses.response_id,
        responses.source_system,
        responses.status,
        responses.ip_address,
        responses.duration_in_seconds,
        responses.submitted_at,
        responses.started_at,
        responses.delivered_on,
        coalesce(roles.store_id, store_constant.constant_value) as store_id,
        roles.transaction_id,
        coalesce(roles.channel, channel_constant.constant_value) as channel,
        roles.nps_score,
        roles.ces_score,
        roles.comment
    from responses
    left join roles
        on responses.response_key = roles.response_key
    left join constants as channel_constant
        on responses.survey_id = channel_constant.survey_id
        and channel_constant.question_role = 'channel'
    left join constants as store_constant
        on responses.survey_id = store_constant.survey_id
        and store_constant.question_role = 'store_id'
)

select * from pivoted
