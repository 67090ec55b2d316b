{#- One row per piece of feedback someone may have to act on: every survey response that is not a
    preview, test or duplicate, and every review of one of our stores, with what the person who
    calls the customer back needs beside it (the customer's tier, tenure, visits and spend in the
    90 days before, their earlier scores, the order, the staff member). The alert rules
    (cxlake/config/alerts.yaml) read this table; the case workbench shows it. -#}
with responses as (
    select * from {{ ref('fct_survey_responses') }}
    where not is_preview_or_test and not is_duplicate
),

ratings as (
    select * from {{ ref('fct_touchpoint_ratings') }}
),

reviews as (
    select * from {{ ref('fct_reviews') }}
    where not is_competitor and store_id is not null
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

staff_deliveries as (
    select
        *,
        row_number() over (partition by staff_id order by delivered_on desc) as delivery_rank
    from {{ ref('stg_reference__staff') }}
),

staff as (
    select staff_id, staff_name from staff_deliveries where delivery_rank = 1
),

lowest_ratings as (
    select
        response_key,
        csat_score as lowest_csat_score,
        touchpoint_id as lowest_csat_touchpoint,
        row_number() over (partition by response_key order by csat_score, touchpoint_id) as rating_rank
    from ratings
),

survey_items as (
    select
        {{ dbt.concat(["'survey:'", "responses.survey_id", "':'", "responses.response_id"]) }} as feedback_key,
        'survey' as source,
        responses.survey_id,
        responses.response_id,
        cast(null as {{ dbt.type_string() }}) as platform,
        cast(null as {{ dbt.type_string() }}) as review_id,
        responses.responded_at as feedback_at,
        responses.store_id,
        responses.channel,
        responses.transaction_id,
        responses.nps_score,
        lowest_ratings.lowest_csat_score,
        lowest_ratings.lowest_csat_touchpoint,
        cast(null as integer) as rating,
        responses.comment as text,
        responses.comment_sentiment_label as sentiment_label,
        responses.comment_aspects as aspects
    from responses
    left join lowest_ratings
        on responses.response_key = lowest_ratings.response_key
        and lowest_ratings.rating_rank = 1
),

review_items as (
    select
        {{ dbt.concat(["'review:'", "platform", "':'", "review_id"]) }} as feedback_key,
        'review' as source,
        cast(null as {{ dbt.type_string() }}) as survey_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        platform,
        review_id,
        posted_at as feedback_at,
        store_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        transaction_id,
        cast(null as integer) as nps_score,
        cast(null as integer) as lowest_csat_score,
        cast(null as {{ dbt.type_string() }}) as lowest_csat_touchpoint,
        rating,
        content as text,
        sentiment_label,
        aspects
    from reviews
),

items as (
    select * from survey_items
    union all
    select * from review_items
),

with_orders as (
    select
        items.*,
        transactions.customer_id,
        transactions.staff_id,
        transactions.amount,
        transactions.ordered_at,
        coalesce(items.channel, transactions.channel) as order_channel
    from items
    left join transactions
        on items.transaction_id = transactions.transaction_id
),

-- The customer's visits and spend in the 90 days up to the feedback (the order itself included).
recent_visits as (
    select
        with_orders.feedback_key,
        count(transactions.transaction_id) as visits_90d,
        sum(transactions.amount) as spend_90d
    from with_orders
    inner join transactions
        on with_orders.customer_id = transactions.customer_id
        and transactions.ordered_at <= with_orders.feedback_at
        and transactions.ordered_at > {{ dbt.dateadd('day', -90, 'with_orders.feedback_at') }}
    group by with_orders.feedback_key
),

-- Up to three earlier NPS answers of the same customer, oldest first.
earlier_scores as (
    select
        later.feedback_key,
        earlier.nps_score,
        earlier.feedback_at,
        row_number() over (partition by later.feedback_key order by earlier.feedback_at desc) as recency_rank
    from with_orders as later
    inner join with_orders as earlier
        on later.customer_id = earlier.customer_id
        and earlier.source = 'survey'
        and earlier.nps_score is not null
        and earlier.feedback_at < later.feedback_at
),

past_scores as (
    select
        feedback_key,
        {{ dbt.listagg('cast(nps_score as ' ~ dbt.type_string() ~ ')', "','", 'order by feedback_at') }}
            as past_nps_scores
    from earlier_scores
    where recency_rank <= 3
    group by feedback_key
),

final as (
    select
        with_orders.feedback_key,
        with_orders.source,
        with_orders.survey_id,
        with_orders.response_id,
        with_orders.platform,
        with_orders.review_id,
        with_orders.feedback_at,
        cast(with_orders.feedback_at as date) as feedback_date,
        with_orders.store_id,
        stores.store_name,
        stores.region_id,
        stores.region_name,
        with_orders.order_channel as channel,
        with_orders.transaction_id,
        with_orders.ordered_at,
        with_orders.amount,
        with_orders.staff_id,
        staff.staff_name,
        with_orders.customer_id,
        customers.member_tier,
        {{ dbt.datediff('customers.signed_up_on', 'with_orders.feedback_at', 'day') }} as tenure_days,
        coalesce(recent_visits.visits_90d, 0) as visits_90d,
        coalesce(recent_visits.spend_90d, 0) as spend_90d,
        past_scores.past_nps_scores,
        with_orders.nps_score,
        with_orders.lowest_csat_score,
        with_orders.lowest_csat_touchpoint,
        with_orders.rating,
        with_orders.text,
        with_orders.sentiment_label,
        with_orders.aspects
    from with_orders
    left join stores
        on with_orders.store_id = stores.store_id
    left join staff
        on with_orders.staff_id = staff.staff_id
    left join customers
        on with_orders.customer_id = customers.customer_id
    left join recent_visits
        on with_orders.feedback_key = recent_visits.feedback_key
    left join past_scores
        on with_orders.feedback_key = past_scores.feedback_key
)

select * from final
