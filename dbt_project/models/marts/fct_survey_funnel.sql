{#- One row per store x channel x invitation day: invitations sent and how many were answered by
    a countable response, so response_rate is a share of the invitations of that day. -#}
with invitations as (
    select * from {{ ref('stg_survey_invitations__invitations') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

latest_invitations as (
    select
        *,
        row_number() over (partition by invitation_id order by delivered_on desc) as delivery_rank
    from invitations
),

answered_transactions as (
    select distinct transaction_id
    from responses
    where is_countable and transaction_id is not null
),

invitation_outcomes as (
    select
        cast(latest_invitations.invited_at as date) as date_day,
        latest_invitations.store_id,
        transactions.channel,
        case when answered_transactions.transaction_id is null then 0 else 1 end as is_answered
    from latest_invitations
    left join transactions
        on latest_invitations.transaction_id = transactions.transaction_id
    left join answered_transactions
        on latest_invitations.transaction_id = answered_transactions.transaction_id
    where latest_invitations.delivery_rank = 1
),

counts as (
    select
        date_day,
        store_id,
        channel,
        count(*) as count_invitations,
        cast(sum(is_answered) as {{ dbt.type_bigint() }}) as count_responses
    from invitation_outcomes
    group by date_day, store_id, channel
),

final as (
    select
        counts.date_day,
        counts.store_id,
        stores.region_id,
        counts.channel,
        counts.count_invitations,
        counts.count_responses,
        {{ response_rate('counts.count_responses', 'counts.count_invitations') }} as response_rate
    from counts
    left join stores
        on counts.store_id = stores.store_id
)

select * from final
