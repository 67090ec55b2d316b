{{ config(
    materialized='incremental',
    unique_key='response_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('fct_survey_responses') }} as r where r.response_key = {{ this }}.response_key) or not exists (select 1 from {{ ref('int_surveys__answers_scored') }} as a where a.response_key = {{ this }}.response_key and a.touchpoint_id is not distinct from {{ this }}.touchpoint_id and a.question_role = 'csat' and a.score is not null)",
) }}
{#- One row per response x rated touchpoint. Incremental as fct_survey_responses: a run computes
    every row and rewrites the responses with any row that differs from the written ones (a new,
    rescored or redelivered answer, a response whose verdict, store or region changed); a rating
    whose response or CSAT answer is gone is deleted (post-hook). -#}
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
),

{% if is_incremental() %}
changed_responses as (
    select response_key from (select * from final except select * from {{ this }}) as fresh_rows
    union
    select response_key from (select * from {{ this }} except select * from final) as stale_rows
),

changed as (
    select final.*
    from final
    inner join changed_responses
        on final.response_key = changed_responses.response_key
)
{% else %}
changed as (
    select * from final
)
{% endif %}

select * from changed
