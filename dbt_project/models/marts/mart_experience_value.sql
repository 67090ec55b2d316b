{#- One row per scope (chain, region, store) x NPS category: what the members who gave that answer
    spent and how often they came back in the window after their response, with intervals. The
    responses counted and their window (fitted to the data's span) are
    int_experience__response_outcomes; the money per scope (a detractor made promoter, revenue at
    risk) is marts.mart_experience_money (assets/money.py), over the same window. -#}
{%- set z = var('nps_confidence_z') -%}

with outcomes as (
    select * from {{ ref('int_experience__response_outcomes') }}
),

scoped_responses as (
    select 'chain' as scope_level, 'chain' as scope_id, * from outcomes
    union all
    select 'region' as scope_level, region_id as scope_id, * from outcomes
    union all
    select 'store' as scope_level, store_id as scope_id, * from outcomes
),

{#- A member counts once per scope and category, with their earliest eligible response there, so
    the member-level variance is over independent members, not over one regular's many answers. -#}
ranked_responses as (
    select
        scoped_responses.scope_level,
        scoped_responses.scope_id,
        scoped_responses.nps_category,
        scoped_responses.customer_id,
        scoped_responses.window_days,
        scoped_responses.last_transaction_date,
        scoped_responses.count_visits,
        scoped_responses.spend,
        row_number() over (
            partition by scoped_responses.scope_level, scoped_responses.scope_id,
                scoped_responses.nps_category, scoped_responses.customer_id
            order by scoped_responses.responded_at, scoped_responses.response_key
        ) as member_response_rank
    from scoped_responses
    where scoped_responses.scope_id is not null
),

category_members as (
    select
        scope_level,
        scope_id,
        nps_category,
        max(window_days) as window_days,
        max(last_transaction_date) as last_transaction_date,
        count(*) as count_members,
        sum(spend) as total_spend,
        avg(1.0 * spend) as avg_spend,
        stddev_samp(spend) as stddev_spend,
        avg(1.0 * count_visits) as avg_visits,
        stddev_samp(count_visits) as stddev_visits,
        cast(sum(case when count_visits > 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as count_repeat_members
    from ranked_responses
    where member_response_rank = 1
    group by scope_level, scope_id, nps_category
),

final as (
    select
        category_members.scope_level,
        category_members.scope_id,
        category_members.nps_category,
        category_members.window_days,
        category_members.last_transaction_date,
        category_members.count_members,
        {{ is_reportable('category_members.count_members') }} as is_reportable,
        category_members.total_spend,
        round(category_members.avg_spend, 6) as avg_spend,
        round(category_members.avg_spend
            - {{ z }} * category_members.stddev_spend / sqrt(category_members.count_members), 6) as avg_spend_ci_low,
        round(category_members.avg_spend
            + {{ z }} * category_members.stddev_spend / sqrt(category_members.count_members), 6) as avg_spend_ci_high,
        round(category_members.stddev_spend, 6) as stddev_spend,
        round(category_members.avg_visits, 6) as avg_visits,
        category_members.count_repeat_members,
        {{ share_of('category_members.count_repeat_members', 'category_members.count_members') }} as repeat_rate,
        {#- Wilson score interval of the repeat rate: stays inside 0..1 and is not 0 wide at 0 % or 100 %. -#}
        {%- for bound, side in [('low', -1), ('high', 1)] %}
        round(
            (
                1.0 * category_members.count_repeat_members / category_members.count_members
                + {{ z }} * {{ z }} / (2.0 * category_members.count_members)
                + ({{ side }}) * {{ z }} * sqrt(
                    (1.0 * category_members.count_repeat_members / category_members.count_members)
                    * (1 - 1.0 * category_members.count_repeat_members / category_members.count_members)
                    / category_members.count_members
                    + {{ z }} * {{ z }} / (4.0 * category_members.count_members * category_members.count_members)
                )
            ) / (1 + {{ z }} * {{ z }} / category_members.count_members),
            6
        ) as repeat_rate_ci_{{ bound }},
        {%- endfor %}
        {#- Visits per member: the normal approximation, as for spend. -#}
        round(category_members.avg_visits
            - {{ z }} * category_members.stddev_visits / sqrt(category_members.count_members), 6) as avg_visits_ci_low,
        round(category_members.avg_visits
            + {{ z }} * category_members.stddev_visits / sqrt(category_members.count_members), 6) as avg_visits_ci_high
    from category_members
)

select * from final
