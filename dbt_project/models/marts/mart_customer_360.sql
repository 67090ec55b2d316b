{#- One row per customer: who they are, how they buy and how they feel, as of the last day with
    data (as_of_date), so any piece of feedback can be read in its customer's context. -#}
with customers as (
    select * from {{ ref('dim_customer') }}
),

journeys as (
    select * from {{ ref('fct_journeys') }}
),

lines as (
    select * from {{ ref('stg_pos__transaction_lines') }}
),

as_of as (
    select max(journey_date) as as_of_date from journeys
),

customer_journeys as (
    select
        *,
        case when is_countable_response then nps_score end as countable_nps_score,
        {{ day_of_week('ordered_at') }} as order_day_of_week,
        extract(hour from ordered_at) as order_hour,
        row_number() over (
            partition by customer_id order by ordered_at desc, journey_id desc
        ) as recency_rank,
        row_number() over (
            partition by customer_id
            order by case when is_countable_response and nps_score is not null then 0 else 1 end,
                responded_at desc, journey_id desc
        ) as nps_recency_rank
    from journeys
    where customer_id is not null
),

visits as (
    select
        customer_id,
        count(*) as count_visits,
        sum(amount) as total_spend,
        avg(amount) as avg_spend,
        min(journey_date) as first_visit_on,
        max(journey_date) as last_visit_on,
        count(countable_nps_score) as count_nps_responses,
        avg(countable_nps_score) as avg_nps_score,
        max(case when nps_recency_rank = 1 then countable_nps_score end) as last_nps_score,
        count(review_key) as count_reviews,
        cast(sum(case when review_rating <= 2 then 1 else 0 end) as {{ dbt.type_bigint() }}) as count_negative_reviews
    from customer_journeys
    group by customer_id
),

{#- The most frequent value of a journey column per customer (ties: the smallest value). -#}
{%- set habits = ['store_id', 'staff_id', 'channel', 'order_day_of_week', 'order_hour'] %}
{%- for column in habits %}
habit_{{ column }} as (
    select customer_id, {{ column }}
    from (
        select
            customer_id,
            {{ column }},
            row_number() over (partition by customer_id order by count(*) desc, {{ column }}) as habit_rank
        from customer_journeys
        group by customer_id, {{ column }}
    ) as ranked
    where habit_rank = 1
),
{% endfor %}

latest_lines as (
    select
        *,
        row_number() over (partition by transaction_id, line_number order by delivered_on desc) as delivery_rank
    from lines
),

products as (
    select
        customer_journeys.customer_id,
        count(distinct latest_lines.product_id) as count_distinct_products
    from customer_journeys
    inner join latest_lines
        on customer_journeys.transaction_id = latest_lines.transaction_id
    where latest_lines.delivery_rank = 1
    group by customer_journeys.customer_id
),

final as (
    select
        customers.customer_id,
        customers.home_store_id,
        customers.member_tier,
        customers.city,
        customers.signed_up_on,
        as_of.as_of_date,
        {{ dbt.datediff('customers.signed_up_on', 'as_of.as_of_date', 'day') }} as tenure_days,
        coalesce(visits.count_visits, 0) as count_visits,
        coalesce(visits.total_spend, 0) as total_spend,
        round(visits.avg_spend, 6) as avg_spend,
        visits.first_visit_on,
        visits.last_visit_on,
        {{ dbt.datediff('visits.last_visit_on', 'as_of.as_of_date', 'day') }} as days_since_last_visit,
        {{ is_churned(dbt.datediff('visits.last_visit_on', 'as_of.as_of_date', 'day')) }} as is_churned,
        coalesce(visits.count_nps_responses, 0) as count_nps_responses,
        visits.last_nps_score,
        round(visits.avg_nps_score, 6) as avg_nps_score,
        coalesce(visits.count_reviews, 0) as count_reviews,
        {{ share_of('visits.count_negative_reviews', 'visits.count_reviews') }} as share_negative_reviews,
        coalesce(products.count_distinct_products, 0) as count_distinct_products,
        {%- for column in habits %}
        habit_{{ column }}.{{ column }} as usual_{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from customers
    cross join as_of
    left join visits
        on customers.customer_id = visits.customer_id
    left join products
        on customers.customer_id = products.customer_id
    {%- for column in habits %}
    left join habit_{{ column }}
        on customers.customer_id = habit_{{ column }}.customer_id
    {%- endfor %}
)

select * from final
