{#- One row per app session: a device's events with no gap longer than app_session_gap_minutes
    (by event_at, the collector's clock; the SDK's session_hint restarts with every app launch and
    is only counted). A session belongs to the member who signed in during it (their earlier,
    signed-out events too) and to the store the order went to, else the store last chosen.
    Funnel steps: browse (home, menu, search, item), cart (the cart page or an item added),
    checkout (checkout started, or the checkout or payment page), payment (the payment page),
    ordered (order_placed). journey_id is the order's transaction, the key of fct_journeys. -#}
with events as (
    select * from {{ ref('int_app__events_clock_corrected') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

gaps as (
    select
        *,
        lag(event_at) over (partition by device_id order by event_at, event_id) as previous_event_at
    from events
),

starts as (
    select
        *,
        case
            when previous_event_at is null
                or {{ dbt.datediff('previous_event_at', 'event_at', 'second') }}
                > {{ var('app_session_gap_minutes') }} * 60
                then 1
            else 0
        end as is_session_start
    from gaps
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by device_id order by event_at, event_id rows between unbounded preceding and current row
        ) as device_session_number
    from starts
),

sessions as (
    select
        device_id,
        device_session_number,
        max(case when is_session_start = 1 then event_id end) as first_event_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        max(customer_id) as customer_id,
        max(case when event_type = 'order_placed' then store_id end) as order_store_id,
        max(store_id) as any_store_id,
        count(*) as count_events,
        count(distinct session_hint) as count_app_launches,
        sum(case when event_type = 'page_view' then 1 else 0 end) as count_page_views,
        count(distinct case when event_type = 'page_view' then page end) as count_pages,
        coalesce(sum(dwell_ms), 0) as dwell_ms,
        sum(case when event_type = 'search' then 1 else 0 end) as count_searches,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as count_cart_adds,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as count_cart_removes,
        sum(
            case
                when event_type = 'add_to_cart' then price
                when event_type = 'remove_from_cart' then -price
                else 0
            end
        ) as cart_value_sum,
        max(case when page = 'cart' or event_type = 'add_to_cart' then 1 else 0 end) as reached_cart_flag,
        max(
            case when event_type = 'checkout_start' or page in ('checkout', 'payment') then 1 else 0 end
        ) as reached_checkout_flag,
        max(case when page = 'payment' then 1 else 0 end) as reached_payment_flag,
        min(case when event_type = 'checkout_start' then event_at end) as checkout_started_at,
        sum(case when event_type = 'app_error' then 1 else 0 end) as count_errors,
        sum(case when event_type = 'app_error' and page = 'payment' then 1 else 0 end) as count_payment_errors,
        max(case when event_type = 'order_placed' then transaction_id end) as journey_id,
        max(case when event_type = 'order_placed' then price end) as order_value
    from numbered
    group by device_id, device_session_number
),

pseudonymised as (
    select
        cxlake_pseudonym(device_id) as device_pseudonym,
        *
    from sessions
),

final as (
    select
        sessions.first_event_id as session_id,
        sessions.device_pseudonym,
        sessions.customer_id,
        coalesce(sessions.order_store_id, sessions.any_store_id) as store_id,
        stores.region_id,
        cast(sessions.started_at as date) as session_date,
        sessions.started_at,
        sessions.ended_at,
        {{ dbt.datediff('sessions.started_at', 'sessions.ended_at', 'second') }} as duration_seconds,
        sessions.count_events,
        sessions.count_app_launches,
        sessions.count_page_views,
        sessions.count_pages,
        sessions.dwell_ms,
        sessions.count_searches,
        sessions.count_cart_adds,
        sessions.count_cart_removes,
        greatest(coalesce(sessions.cart_value_sum, 0), 0) as cart_value,
        sessions.reached_cart_flag = 1 or sessions.reached_checkout_flag = 1 or sessions.journey_id is not null
            as reached_cart,
        sessions.reached_checkout_flag = 1 or sessions.journey_id is not null as reached_checkout,
        sessions.reached_payment_flag = 1 as reached_payment,
        sessions.journey_id is not null as is_ordered,
        (sessions.reached_cart_flag = 1 or sessions.reached_checkout_flag = 1) and sessions.journey_id is null
            as is_abandoned,
        {{ dbt.datediff('sessions.started_at', 'sessions.checkout_started_at', 'second') }}
            as seconds_to_checkout,
        sessions.count_errors,
        sessions.count_payment_errors,
        sessions.count_errors > 0 as has_error,
        sessions.journey_id,
        sessions.order_value
    from pseudonymised as sessions
    left join stores
        on coalesce(sessions.order_store_id, sessions.any_store_id) = stores.store_id
)

select * from final
