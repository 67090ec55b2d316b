with sessions as (
    select * from {{ ref('fct_app_sessions') }}
),

app_ratings as (
    select
        store_id,
        date_day,
        sum(count_ratings) as count_ratings_app,
        sum(count_top_box) as count_top_box_app,
        sum(sum_csat) as sum_csat_app
    from {{ ref('fct_touchpoint_daily') }}
    where touchpoint_id = 'app' and channel = 'app'
    group by store_id, date_day
),

stores as (
    select * from {{ ref('dim_store') }}
),

funnel as (
    select
        store_id,
        session_date as date_day,
        count(*) as count_sessions,
        sum(case when reached_cart then 1 else 0 end) as count_sessions_cart,
        sum(case when reached_checkout then 1 else 0 end) as count_sessions_checkout,
        sum(case when reached_payment then 1 else 0 end) as count_sessions_payment,
        sum(case when is_ordered then 1 else 0 end) as count_sessions_ordered,
        sum(case when is_abandoned then 1 else 0 end) as count_abandoned,
        sum(case when has_error then 1 else 0 end) as count_sessions_with_error,
        sum(case when count_payment_errors > 0 then 1 else 0 end) as count_sessions_payment_error,
        sum(
            case when count_payment_errors > 0 and not is_ordered then 1 else 0 end
        ) as count_abandoned_after_payment_error,
        sum(count_errors) as count_errors,
        sum(count_page_views) as count_page_views,
        sum(dwell_ms) as sum_dwell_ms,
        count(seconds_to_checkout) as count_checkout_timed,
        sum(seconds_to_checkout) as sum_seconds_to_checkout,
        sum(cart_value) as sum_cart_value,
        sum(coalesce(order_value, 0)) as sum_order_value
    from sessions
    where store_id is not null
    group by store_id, session_date
),

combined as (
    select
        coalesce(funnel.store_id, app_ratings.store_id) as store_id,
        coalesce(funnel.date_day, app_ratings.date_day) as date_day,
        coalesce(funnel.count_sessions, 0) as count_sessions,
        coalesce(funnel.count_sessions_cart, 0) as count_sessions_cart,
        coalesce(funnel.count_sessions_checkout, 0) as count_sessions_checkout,
        coalesce(funnel.count_sessions_payment, 0) as count_sessions_payment,
        coalesce(funnel.count_sessions_ordered, 0) as count_sessions_ordered,
        coalesce(funnel.count_abandoned, 0) as count_abandoned,
        coalesce(funnel.count_sessions_with_error, 0) as count_sessions_with_error,
        coalesce(funnel.count_sessions_payment_error, 0) as count_sessions_payment_error,
        coalesce(funnel.count_abandoned_after_payment_error, 0) as count_abandoned_after_payment_error,
        coalesce(funnel.count_errors, 0) as count_errors,
        coalesce(funnel.count_page_views, 0) as count_page_views,
        coalesce(funnel.sum_dwell_ms, 0) as sum_dwell_ms,
        coalesce(funnel.count_checkout_timed, 0) as count_checkout_timed,
        funnel.sum_seconds_to_checkout,
        coalesce(funnel.sum_cart_value, 0) as sum_cart_value,
        coalesce(funnel.sum_order_value, 0) as sum_order_value,
        coalesce(app_ratings.count_ratings_app, 0) as count_ratings_app,
        coalesce(app_ratings.count_top_box_app, 0) as count_top_box_app,
        app_ratings.sum_csat_app
    from funnel
    full outer join app_ratings
        on funnel.store_id = app_ratings.store_id
        and funnel.date_day = app_ratings.date_day
)

select
    combined.store_id,
    stores.region_id,
    combined.date_day,
    combined.count_sessions,
    combined.count_sessions_cart,
    combined.count_sessions_checkout,
    combined.count_sessions_payment,
    combined.count_sessions_ordered,
    combined.count_abandoned,
    combined.count_sessions_with_error,
    combined.count_sessions_payment_error,
    combined.count_abandoned_after_payment_error,
    combined.count_errors,
    combined.count_page_views,
    combined.sum_dwell_ms,
    combined.count_checkout_timed,
    combined.sum_seconds_to_checkout,
    combined.sum_cart_value,
    combined.sum_order_value,
    combined.count_ratings_app,
    combined.count_top_box_app,
    combined.sum_csat_app,
    {{ is_reportable('combined.count_ratings_app') }} as is_reportable
from combined
left join stores
    on combined.store_id = stores.store_id
