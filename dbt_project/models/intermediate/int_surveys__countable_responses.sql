{#- One row per countable response (fct_survey_responses.is_countable) with its suspect mark: what
    every daily semantic-layer mart counts (fct_nps_daily, fct_csat_daily), defined once. A response
    the integrity asset has not judged yet (is_suspect NULL) is not suspect. -#}
with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

final as (
    select
        response_key,
        transaction_id,
        response_date,
        store_id,
        region_id,
        channel,
        nps_category,
        ces_score,
        coalesce(is_suspect, false) as is_suspect
    from responses
    where is_countable
)

select * from final
