with responses as (
    select * from {{ ref('int_surveys__responses_pivoted') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

final as (
    select
        responses.response_key,
        responses.survey_id,
        responses.response_id,
        responses.source_system,
        responses.submitted_at as responded_at,
        cast(responses.submitted_at as date) as response_date,
        responses.store_id,
        stores.region_id,
        responses.channel,
        responses.transaction_id,
        responses.nps_score,
        {{ nps_category('responses.nps_score') }} as nps_category,
        responses.ces_score,
        responses.comment,
        responses.status,
        responses.duration_in_seconds,
        -- Countable = a real customer's response. The quality gate adds its flags to this rule.
        responses.status = 'ok' as is_countable
    from responses
    left join stores
        on responses.store_id = stores.store_id
)

select * from final
