{#- One row per countable response of a member whose whole window lies inside the data: what the
    member bought in the window_days days after the response day. Shared by
    marts.mart_experience_value (per scope and NPS category) and the money asset (assets/money.py:
    bootstrap intervals of the money per scope, the revenue effect of a touchpoint's CSAT), so the
    window and its counting rules live in one place.

    Why the whole window must fit: a window cut short by the last day would read as "did not come
    back" and bias the repeat rate down. The window fits the data: var experience_value_window_days
    (default 90) at most, and at most half the days the transactions span, so the responses of the
    first half of any history count (a 30-day demo: 14 days, a 10-day one: 4). -#}
{%- set max_window_days = var('experience_value_window_days', 90) | int -%}

with responses as (
    select * from {{ ref('fct_survey_responses') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

{#- The window: the configured days, shrunk to half the days between the first and the last
    transaction day (at least 1). -#}
data_end as (
    select
        max(transaction_date) as last_transaction_date,
        cast(greatest(1, least(
            {{ max_window_days }},
            floor({{ dbt.datediff('min(transaction_date)', 'max(transaction_date)', 'day') }} / 2)
        )) as integer) as window_days
    from transactions
),

{#- Countable responses with an NPS answer, of a member (the customer behind the response's
    transaction), whose whole window ends on or before the last transaction day. -#}
member_responses as (
    select
        responses.response_key,
        transactions.customer_id,
        responses.store_id,
        responses.region_id,
        responses.nps_category,
        responses.responded_at,
        responses.response_date,
        data_end.window_days,
        data_end.last_transaction_date
    from responses
    inner join transactions
        on responses.transaction_id = transactions.transaction_id
    cross join data_end
    where responses.is_countable
        and responses.nps_category is not null
        and transactions.customer_id is not null
        and {{ dbt.dateadd('day', 'data_end.window_days', 'responses.response_date') }} <= data_end.last_transaction_date
),

{#- The member's purchases on the days after the response day, up to the window's last day (the
    purchase the response was about, on the response day, is not a return). -#}
final as (
    select
        member_responses.response_key,
        member_responses.customer_id,
        member_responses.store_id,
        member_responses.region_id,
        member_responses.nps_category,
        member_responses.responded_at,
        member_responses.response_date,
        member_responses.window_days,
        member_responses.last_transaction_date,
        count(later.transaction_id) as count_visits,
        coalesce(sum(later.amount), 0) as spend
    from member_responses
    left join transactions as later
        on member_responses.customer_id = later.customer_id
        and later.transaction_date > member_responses.response_date
        and later.transaction_date <= {{ dbt.dateadd('day', 'member_responses.window_days', 'member_responses.response_date') }}
    group by
        member_responses.response_key,
        member_responses.customer_id,
        member_responses.store_id,
        member_responses.region_id,
        member_responses.nps_category,
        member_responses.responded_at,
        member_responses.response_date,
        member_responses.window_days,
        member_responses.last_transaction_date
)

select * from final
