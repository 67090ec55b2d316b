{{ config(
    materialized='incremental',
    unique_key='response_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('int_surveys__responses_pivoted') }} as p where p.response_key = {{ this }}.response_key)",
) }}
{#- What each response's answers look like, for the quality flags: how many CSAT items it
    answered and how many different scores it gave them (straight-lining), and one signature of
    every scored answer (NPS, CES, each CSAT item in question order) so two submissions with the
    same answers compare equal as one string (duplicates).
    Incremental: a run re-processes the responses delivered in its days and those whose
    int_surveys__responses_pivoted stamp (delivery, survey mapping) differs from the written one;
    a response gone from it is deleted (post-hook). -#}
with all_responses as (
    select * from {{ ref('int_surveys__responses_pivoted') }}
),

all_answers as (
    select * from {{ ref('int_surveys__answers_scored') }}
),

{{ survey_ctes_in_run('all_responses', {'responses': 'all_responses', 'answers': 'all_answers'}) }}

csat_items as (
    select
        response_key,
        question_id,
        max(score) as score
    from answers
    where question_role = 'csat' and score is not null
    group by response_key, question_id
),

csat_patterns as (
    select
        response_key,
        count(*) as count_csat_answers,
        count(distinct score) as count_distinct_csat_scores,
        {{ dbt.listagg(
            dbt.concat(["question_id", "':'", "cast(score as " ~ dbt.type_string() ~ ")"]),
            "','",
            "order by question_id"
        ) }} as csat_signature
    from csat_items
    group by response_key
),

patterns as (
    select
        responses.response_key,
        coalesce(csat_patterns.count_csat_answers, 0) as count_csat_answers,
        coalesce(csat_patterns.count_distinct_csat_scores, 0) as count_distinct_csat_scores,
        {{ dbt.concat([
            "'nps='", "coalesce(cast(responses.nps_score as " ~ dbt.type_string() ~ "), '')",
            "';ces='", "coalesce(cast(responses.ces_score as " ~ dbt.type_string() ~ "), '')",
            "';csat='", "coalesce(csat_patterns.csat_signature, '')"
        ]) }} as answer_signature,
        responses.delivered_on,
        responses.survey_mapping_checksum
    from responses
    left join csat_patterns
        on responses.response_key = csat_patterns.response_key
)

select * from patterns
