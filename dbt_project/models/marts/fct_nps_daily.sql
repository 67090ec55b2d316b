{#- One row per response day x store x channel x member tier x suspect mark: NPS counts and CES
    sums of countable responses, with NPS and its adjusted-Wald interval. Every filter of the
    explorer (dates, region, store, channel, the leaderboard's "without suspect responses") and
    every split of a change (channel, store, member tier) is a sum over these rows: roll up by
    summing the counts and applying nps_from_counts again, never by averaging nps. -#}
with responses as (
    select * from {{ ref('int_surveys__countable_responses') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

counts as (
    select
        responses.response_date as date_day,
        responses.store_id,
        responses.region_id,
        responses.channel,
        coalesce(customers.member_tier, '{{ var("non_member_tier", "non_member") }}') as member_tier,
        responses.is_suspect,
        cast(sum(case when responses.nps_category = 'promoter' then 1 else 0 end) as {{ dbt.type_bigint() }}) as promoters,
        cast(sum(case when responses.nps_category = 'passive' then 1 else 0 end) as {{ dbt.type_bigint() }}) as passives,
        cast(sum(case when responses.nps_category = 'detractor' then 1 else 0 end) as {{ dbt.type_bigint() }}) as detractors,
        count({{ in_scale('responses.ces_score', 'ces') }}) as count_ces,
        sum({{ in_scale('responses.ces_score', 'ces') }}) as sum_ces,
        sum({{ in_scale('responses.ces_score', 'ces') }} * {{ in_scale('responses.ces_score', 'ces') }}) as sum_squares_ces
    from responses
    left join transactions
        on responses.transaction_id = transactions.transaction_id
    left join customers
        on transactions.customer_id = customers.customer_id
    group by 1, 2, 3, 4, 5, 6
),

final as (
    select
        date_day,
        store_id,
        region_id,
        channel,
        member_tier,
        is_suspect,
        promoters,
        passives,
        detractors,
        promoters + passives + detractors as count_responses,
        {{ nps_from_counts('promoters', 'passives', 'detractors') }} as nps,
        {{ nps_ci_low('promoters', 'passives', 'detractors') }} as nps_ci_low,
        {{ nps_ci_high('promoters', 'passives', 'detractors') }} as nps_ci_high,
        {{ is_reportable('promoters + passives + detractors') }} as is_reportable,
        count_ces,
        round(sum_ces / nullif(count_ces, 0), 6) as avg_ces,
        sum_ces,
        sum_squares_ces
    from counts
)

select * from final
