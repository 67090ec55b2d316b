{#- One row per decision day x store x channel: the invitation funnel from the transactions
    considered to the invitations sent (and why the others were not) to the countable responses. -#}
with decisions as (
    select * from {{ ref('stg_enrich__invitation_decisions') }}
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

answered_transactions as (
    select distinct transaction_id
    from responses
    where is_countable and transaction_id is not null
),

outcomes as (
    select
        decisions.decided_on as date_day,
        decisions.store_id,
        decisions.channel,
        decisions.is_eligible,
        decisions.is_invited,
        decisions.suppressed_by,
        decisions.is_invited and answered_transactions.transaction_id is not null as is_answered
    from decisions
    left join answered_transactions
        on decisions.transaction_id = answered_transactions.transaction_id
),

counts as (
    select
        date_day,
        store_id,
        channel,
        count(*) as count_transactions,
        count(case when is_eligible then 1 end) as count_eligible,
        count(case when is_invited then 1 end) as count_invited,
        count(case when not is_invited then 1 end) as count_suppressed,
        count(case when suppressed_by = 'guest' then 1 end) as count_suppressed_guest,
        count(case when suppressed_by = 'no_contact' then 1 end) as count_suppressed_no_contact,
        count(case when suppressed_by = 'open_case' then 1 end) as count_suppressed_open_case,
        count(case when suppressed_by = 'recently_invited' then 1 end) as count_suppressed_recently_invited,
        count(case when suppressed_by = 'quarter_cap' then 1 end) as count_suppressed_quarter_cap,
        count(case when suppressed_by = 'same_day' then 1 end) as count_suppressed_same_day,
        count(case when suppressed_by = 'quota' then 1 end) as count_suppressed_quota,
        count(case when is_answered then 1 end) as count_responses
    from outcomes
    group by date_day, store_id, channel
),

final as (
    select
        counts.date_day,
        counts.store_id,
        stores.region_id,
        counts.channel,
        counts.count_transactions,
        counts.count_eligible,
        counts.count_invited,
        counts.count_suppressed,
        counts.count_suppressed_guest,
        counts.count_suppressed_no_contact,
        counts.count_suppressed_open_case,
        counts.count_suppressed_recently_invited,
        counts.count_suppressed_quarter_cap,
        counts.count_suppressed_same_day,
        counts.count_suppressed_quota,
        counts.count_responses,
        {{ response_rate('counts.count_responses', 'counts.count_invited') }} as response_rate
    from counts
    left join stores
        on counts.store_id = stores.store_id
)

select * from final
