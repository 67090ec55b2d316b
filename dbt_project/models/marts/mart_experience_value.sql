{#- One row per scope (chain, region, store) x NPS category: what the members who gave that answer
    spent and how often they came back in the window after their response, with intervals, and
    the money of moving a detractor to a promoter. Only responses whose whole window lies inside
    the data count: a window cut short by the last day would read as "did not come back" and bias
    the repeat rate down. The window is var experience_value_window_days (default 90; a short demo
    needs a shorter one). -#}
{%- set window_days = var('experience_value_window_days', 90) | int -%}
{%- set z = var('nps_confidence_z') -%}

with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

data_end as (
    select max(transaction_date) as last_transaction_date from transactions
),

{#- Countable responses with an NPS answer, of a member (the customer behind the response's
    transaction), whose whole window ends on or before the last transaction day. -#}
member_responses as (
    select
        responses.response_key,
        responses.responded_at,
        responses.response_date,
        responses.store_id,
        responses.region_id,
        responses.nps_category,
        transactions.customer_id
    from responses
    inner join transactions
        on responses.transaction_id = transactions.transaction_id
    cross join data_end
    where responses.is_countable
        and responses.nps_category is not null
        and transactions.customer_id is not null
        and {{ dbt.dateadd('day', window_days, 'responses.response_date') }} <= data_end.last_transaction_date
),

{#- The member's purchases on the days after the response day, up to the window's last day (the
    purchase the response was about, on the response day, is not a return). -#}
response_outcomes as (
    select
        member_responses.response_key,
        count(later.transaction_id) as count_visits,
        coalesce(sum(later.amount), 0) as spend
    from member_responses
    left join transactions as later
        on member_responses.customer_id = later.customer_id
        and later.transaction_date > member_responses.response_date
        and later.transaction_date <= {{ dbt.dateadd('day', window_days, 'member_responses.response_date') }}
    group by member_responses.response_key
),

scoped_responses as (
    select 'chain' as scope_level, 'chain' as scope_id, * from member_responses
    union all
    select 'region' as scope_level, region_id as scope_id, * from member_responses
    union all
    select 'store' as scope_level, store_id as scope_id, * from member_responses
),

{#- A member counts once per scope and category, with their earliest eligible response there, so
    the member-level variance is over independent members, not over one regular's many answers. -#}
ranked_responses as (
    select
        scoped_responses.scope_level,
        scoped_responses.scope_id,
        scoped_responses.nps_category,
        scoped_responses.customer_id,
        response_outcomes.count_visits,
        response_outcomes.spend,
        row_number() over (
            partition by scoped_responses.scope_level, scoped_responses.scope_id,
                scoped_responses.nps_category, scoped_responses.customer_id
            order by scoped_responses.responded_at, scoped_responses.response_key
        ) as member_response_rank
    from scoped_responses
    inner join response_outcomes
        on scoped_responses.response_key = response_outcomes.response_key
    where scoped_responses.scope_id is not null
),

category_members as (
    select
        scope_level,
        scope_id,
        nps_category,
        count(*) as count_members,
        sum(spend) as total_spend,
        avg(1.0 * spend) as avg_spend,
        stddev_samp(spend) as stddev_spend,
        avg(1.0 * count_visits) as avg_visits,
        cast(sum(case when count_visits > 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as count_repeat_members
    from ranked_responses
    where member_response_rank = 1
    group by scope_level, scope_id, nps_category
),

{#- Promoter minus detractor mean spend per scope, with the normal-approximation interval of a
    difference of two independent means (Welch's standard error); NULL unless both groups have
    at least two members (a variance needs two). -#}
scope_gaps as (
    select
        scope_level,
        scope_id,
        max(case when nps_category = 'promoter' then avg_spend end)
            - max(case when nps_category = 'detractor' then avg_spend end) as spend_gap,
        sqrt(
            max(case when nps_category = 'promoter' and count_members > 1
                then stddev_spend * stddev_spend / count_members end)
            + max(case when nps_category = 'detractor' and count_members > 1
                then stddev_spend * stddev_spend / count_members end)
        ) as spend_gap_standard_error,
        coalesce(max(case when nps_category = 'detractor' then count_members end), 0) as count_detractor_members
    from category_members
    group by scope_level, scope_id
),

final as (
    select
        category_members.scope_level,
        category_members.scope_id,
        category_members.nps_category,
        {{ window_days }} as window_days,
        data_end.last_transaction_date,
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
        round(scope_gaps.spend_gap, 6) as detractor_to_promoter_value,
        round(scope_gaps.spend_gap - {{ z }} * scope_gaps.spend_gap_standard_error, 6) as detractor_to_promoter_value_ci_low,
        round(scope_gaps.spend_gap + {{ z }} * scope_gaps.spend_gap_standard_error, 6) as detractor_to_promoter_value_ci_high,
        scope_gaps.count_detractor_members,
        round(scope_gaps.count_detractor_members * scope_gaps.spend_gap, 6) as detractor_revenue_at_risk,
        round(scope_gaps.count_detractor_members
            * (scope_gaps.spend_gap - {{ z }} * scope_gaps.spend_gap_standard_error), 6) as detractor_revenue_at_risk_ci_low,
        round(scope_gaps.count_detractor_members
            * (scope_gaps.spend_gap + {{ z }} * scope_gaps.spend_gap_standard_error), 6) as detractor_revenue_at_risk_ci_high
    from category_members
    cross join data_end
    inner join scope_gaps
        on category_members.scope_level = scope_gaps.scope_level
        and category_members.scope_id = scope_gaps.scope_id
)

select * from final
