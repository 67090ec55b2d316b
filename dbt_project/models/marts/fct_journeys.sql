{{ config(
    materialized='incremental',
    unique_key='journey_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('fct_transactions') }} as t where t.transaction_id = {{ this }}.journey_id)",
) }}
{#- One row per purchase journey: a transaction and what followed it. Incremental: a run
    re-processes the journeys whose transaction, survey response or linked review was delivered
    in the run's days (so a late survey lands in its old journey), plus those whose response's
    countable verdict or comment scores (a new model) changed since they were written, whose
    survey or review a redelivery took back, or whose store moved to another region; a journey
    whose transaction a redelivery took back is deleted (post-hook). -#}
{%- set touchpoint_ids = journey_touchpoint_ids() -%}
{#- A table written before the comment columns existed gets them from the responses that have one. -#}
{%- set comments_written = execute and is_incremental()
    and 'comment_sentiment_score' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}

with transactions as (
    select * from {{ ref('fct_transactions') }}
),

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

ratings as (
    select * from {{ ref('fct_touchpoint_ratings') }}
),

touchpoints as (
    select * from {{ ref('dim_touchpoint') }}
),

delivered_transactions as (
    select * from {{ ref('stg_pos__transactions') }}
),

delivered_responses as (
    select * from {{ ref('int_surveys__responses_unioned') }}
),

delivered_reviews as (
    select * from {{ ref('stg_reviews__reviews') }}
),

{% if is_incremental() %}
written as (
    select * from {{ this }}
),

changed_journeys as (
    select transaction_id as journey_id
    from delivered_transactions
    where {{ in_run_window('delivered_on') }}
    union
    select responses.transaction_id as journey_id
    from delivered_responses
    inner join responses
        on delivered_responses.response_key = responses.response_key
    where {{ in_run_window('delivered_responses.delivered_on') }}
    union
    select transaction_id as journey_id
    from delivered_reviews
    where transaction_id is not null and {{ in_run_window('delivered_on') }}
    union
    -- the response's countable verdict or its comment's scores (a new model) changed
    select written.journey_id
    from written
    inner join responses
        on written.response_key = responses.response_key
    where written.is_countable_response <> responses.is_countable
        {%- if comments_written %}
        or written.comment_sentiment_score is distinct from responses.comment_sentiment_score
        or written.comment_aspects is distinct from responses.comment_aspects
        {%- else %}
        or responses.comment_sentiment_score is not null
        {%- endif %}
    union
    -- a redelivery that no longer holds the survey or review the journey was written with
    select written.journey_id
    from written
    left join responses
        on written.response_key = responses.response_key
    where written.response_key is not null and responses.response_key is null
    union
    select written.journey_id
    from written
    left join delivered_reviews
        on written.review_key = delivered_reviews.review_key
    where written.review_key is not null and delivered_reviews.review_key is null
    union
    -- the journey's store moved to another region (fct_transactions already carries the new one)
    select written.journey_id
    from written
    inner join transactions
        on written.journey_id = transactions.transaction_id
    where written.region_id is distinct from transactions.region_id
),

journey_transactions as (
    select transactions.*
    from transactions
    inner join changed_journeys
        on transactions.transaction_id = changed_journeys.journey_id
),
{% else %}
journey_transactions as (
    select * from transactions
),
{% endif %}

-- Only the responses and reviews of the journeys being written, so an incremental run's cost
-- follows the day's deliveries, not the history.
journey_responses as (
    select responses.*
    from responses
    inner join journey_transactions
        on responses.transaction_id = journey_transactions.transaction_id
),

journey_reviews as (
    select delivered_reviews.*
    from delivered_reviews
    inner join journey_transactions
        on delivered_reviews.transaction_id = journey_transactions.transaction_id
),

-- The survey that followed: a countable response first, then the earliest.
ranked_responses as (
    select
        *,
        row_number() over (
            partition by transaction_id
            order by case when is_countable then 0 else 1 end, responded_at, response_key
        ) as response_rank
    from journey_responses
),

followed_responses as (
    select * from ranked_responses where response_rank = 1
),

-- Each review in its latest delivery; the first one posted about the order follows it.
latest_reviews as (
    select
        *,
        row_number() over (partition by review_key order by delivered_on desc) as delivery_rank
    from journey_reviews
),

ranked_reviews as (
    select
        *,
        row_number() over (partition by transaction_id order by posted_at, review_key) as review_rank
    from latest_reviews
    where delivery_rank = 1
),

followed_reviews as (
    select * from ranked_reviews where review_rank = 1
),

ordered_ratings as (
    select
        ratings.response_key,
        ratings.touchpoint_id,
        ratings.csat_score,
        row_number() over (
            partition by ratings.response_key order by touchpoints.touchpoint_order desc
        ) as reverse_order
    from ratings
    inner join followed_responses
        on ratings.response_key = followed_responses.response_key
    inner join touchpoints
        on ratings.touchpoint_id = touchpoints.touchpoint_id
),

-- Peak-end rule: the lowest and highest touchpoint CSAT, and the last touchpoint's.
experience as (
    select
        response_key,
        {%- for touchpoint_id in touchpoint_ids %}
        max(case when touchpoint_id = '{{ touchpoint_id }}' then csat_score end) as csat_{{ touchpoint_id }},
        {%- endfor %}
        min(csat_score) as peak_low_csat,
        max(csat_score) as peak_high_csat,
        max(case when reverse_order = 1 then csat_score end) as end_csat
    from ordered_ratings
    group by response_key
),

final as (
    select
        journey_transactions.transaction_id as journey_id,
        journey_transactions.transaction_id,
        journey_transactions.customer_id,
        journey_transactions.store_id,
        journey_transactions.region_id,
        journey_transactions.channel,
        journey_transactions.staff_id,
        journey_transactions.ordered_at,
        journey_transactions.ready_at,
        journey_transactions.transaction_date as journey_date,
        journey_transactions.wait_minutes,
        journey_transactions.amount,
        journey_transactions.refund_amount,
        journey_transactions.is_refunded,
        journey_transactions.is_remake,
        followed_responses.response_key,
        followed_responses.responded_at,
        followed_responses.nps_score,
        followed_responses.nps_category,
        followed_responses.is_countable as is_countable_response,
        followed_responses.ces_score,
        followed_responses.comment_sentiment_score,
        followed_responses.comment_sentiment_label,
        followed_responses.comment_aspects,
        {%- for touchpoint_id in touchpoint_ids %}
        experience.csat_{{ touchpoint_id }},
        {%- endfor %}
        followed_reviews.review_key,
        followed_reviews.rating as review_rating,
        experience.peak_low_csat,
        experience.peak_high_csat,
        experience.end_csat
    from journey_transactions
    left join followed_responses
        on journey_transactions.transaction_id = followed_responses.transaction_id
    left join experience
        on followed_responses.response_key = experience.response_key
    left join followed_reviews
        on journey_transactions.transaction_id = followed_reviews.transaction_id
)

select * from final
