{{ config(
    materialized='incremental',
    unique_key='response_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('int_surveys__responses_unioned') }} as r where r.response_key = {{ this }}.response_key)",
) }}
{#- One row per response with its mapped roles as columns. A role no question carries takes
    the survey's constant (the in-store QR survey has no channel question: it is in_store).
    Incremental as int_surveys__answers_scored: the responses delivered in the run's days or
    whose latest delivery or survey mapping changed; a response a redelivery took back is
    deleted (post-hook). -#}
with all_responses as (
    select * from {{ ref('int_surveys__responses_unioned') }}
),

all_answers as (
    select * from {{ ref('int_surveys__answers_scored') }}
),

constants as (
    select * from {{ ref('stg_configuration__survey_constants') }}
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

{{ survey_ctes_in_run('stamped_responses', {'responses': 'stamped_responses', 'answers': 'all_answers'}) }}

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
        responses.ip_pseudonym,
        responses.duration_in_seconds,
        responses.submitted_at,
        responses.started_at,
        responses.delivered_on,
        coalesce(roles.store_id, store_constant.constant_value) as store_id,
        roles.transaction_id,
        coalesce(roles.channel, channel_constant.constant_value) as channel,
        roles.nps_score,
        roles.ces_score,
        roles.comment,
        responses.survey_mapping_checksum
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
