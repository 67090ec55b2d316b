{{ config(
    materialized='incremental',
    unique_key='response_key',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('int_surveys__responses_flagged') }} as f where f.response_key = {{ this }}.response_key)",
) }}
{#- The countable rule (docs.md, is_countable) reads its settings from vars that the pipeline
    fills from cxlake/config/metrics.yaml `countable:`.
    Incremental: a response's row depends on other responses (its survey's median pace for
    speeding, its earlier copies for duplicates), its store's region, its comment's scores, the
    integrity verdict (enrich.suspect_responses, judged over the whole history) and the rule's vars, so a run computes every row and writes only the ones that differ from the written
    table (a new or redelivered response, a flag another response flipped, a moved store, a new
    rule); a response a redelivery took back is deleted (post-hook). -#}
{%- set statuses = countable_statuses() -%}
{%- set straight_liners = countable_straight_liners() -%}
{%- set exclude_duplicates = 'true' if bool_var('countable_exclude_duplicates') else 'false' -%}
{%- set exclude_speeders = 'true' if bool_var('countable_exclude_speeders') else 'false' -%}
{%- set straight_liners_always = 'true' if straight_liners == 'always' else 'false' -%}
{%- set straight_liners_with_speeding = 'true' if straight_liners == 'with_speeding' else 'false' -%}

with responses as (
    select * from {{ ref('int_surveys__responses_flagged') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

comment_scores as (
    select * from {{ ref('stg_enrich__comment_scores') }}
),

suspects as (
    select * from {{ ref('stg_enrich__suspect_responses') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

-- Each reason the rule finds, as ",<code>" or "", in a fixed order: status, duplicate, pace.
reasons as (
    select
        responses.*,
        case
            when responses.status in (
                {%- for status in statuses %}'{{ status }}'{{ ", " if not loop.last }}{% endfor -%}
            ) then ''
            else {{ dbt.concat(["',status:'", "coalesce(responses.status, 'missing')"]) }}
        end as status_reason,
        case
            when {{ exclude_duplicates }} and responses.is_duplicate then ',duplicate'
            else ''
        end as duplicate_reason,
        case
            when responses.is_straight_liner and (
                {{ straight_liners_always }} or ({{ straight_liners_with_speeding }} and responses.is_speeder)
            )
                then case when responses.is_speeder then ',speeder+straight_liner' else ',straight_liner' end
            when {{ exclude_speeders }} and responses.is_speeder then ',speeder'
            else ''
        end as pace_reason
    from responses
),

exclusions as (
    select
        *,
        {{ dbt.concat(["status_reason", "duplicate_reason", "pace_reason"]) }} as reason_list
    from reasons
),

final as (
    select
        exclusions.response_key,
        exclusions.survey_id,
        exclusions.response_id,
        exclusions.source_system,
        exclusions.submitted_at as responded_at,
        cast(exclusions.submitted_at as date) as response_date,
        exclusions.store_id,
        stores.region_id,
        exclusions.channel,
        exclusions.transaction_id,
        exclusions.nps_score,
        {{ nps_category('exclusions.nps_score') }} as nps_category,
        exclusions.ces_score,
        exclusions.comment,
        comment_scores.sentiment_score as comment_sentiment_score,
        comment_scores.sentiment_label as comment_sentiment_label,
        comment_scores.aspects as comment_aspects,
        exclusions.status,
        exclusions.duration_in_seconds,
        exclusions.is_preview_or_test,
        exclusions.is_speeder,
        exclusions.is_straight_liner,
        exclusions.is_duplicate,
        exclusions.duplicate_of_response_key,
        case
            when exclusions.reason_list <> ''
                then {{ dbt.right('exclusions.reason_list', dbt.length('exclusions.reason_list') ~ ' - 1') }}
        end as exclusion_reason,
        exclusions.reason_list = '' as is_countable,
        {{ dbt.datediff('transactions.ordered_at', 'exclusions.submitted_at', 'second') }} / 60.0
            as minutes_after_sale,
        suspects.response_key is not null as is_suspect,
        suspects.suspect_reason
    from exclusions
    left join stores
        on exclusions.store_id = stores.store_id
    left join comment_scores
        on exclusions.response_key = comment_scores.response_key
    left join suspects
        on exclusions.response_key = suspects.response_key
    left join transactions
        on exclusions.transaction_id = transactions.transaction_id
),

{% if is_incremental() %}
changed as (
    select * from final
    except
    select * from {{ this }}
)
{% else %}
changed as (
    select * from final
)
{% endif %}

select * from changed
