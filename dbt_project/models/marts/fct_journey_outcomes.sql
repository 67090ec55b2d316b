{{ config(
    materialized='incremental',
    unique_key='journey_id',
    incremental_strategy='delete+insert',
    post_hook="delete from {{ this }} where not exists (select 1 from {{ ref('fct_journeys') }} as j where j.journey_id = {{ this }}.journey_id)",
) }}
{#- One row per journey: did the customer buy again within 30 / 90 days? NULL until the window
    has closed (the last day with data, as_of_date, is 30 / 90 days past the journey) and for
    guests. Its own model, rebuilt for the trailing 90 days each run, so fct_journeys never has
    to rewrite old rows for it. -#}
{%- set windows = [30, 90] -%}

with journeys as (
    select * from {{ ref('fct_journeys') }}
),

as_of as (
    select max(journey_date) as as_of_date from journeys
),

next_purchases as (
    select
        journey_id,
        customer_id,
        journey_date,
        case when customer_id is not null then lead(journey_date) over (
            partition by customer_id order by ordered_at, journey_id
        ) end as next_purchase_date
    from journeys
),

final as (
    select
        next_purchases.journey_id,
        next_purchases.customer_id,
        next_purchases.journey_date,
        as_of.as_of_date,
        {{ dbt.datediff('next_purchases.journey_date', 'next_purchases.next_purchase_date', 'day') }}
            as days_to_next_purchase,
        {%- for days in windows %}
        case
            when next_purchases.customer_id is null then null
            when {{ dbt.dateadd('day', days, 'next_purchases.journey_date') }} > as_of.as_of_date then null
            else coalesce(
                {{ dbt.datediff('next_purchases.journey_date', 'next_purchases.next_purchase_date', 'day') }}
                <= {{ days }},
                false
            )
        end as bought_again_{{ days }}d{{ "," if not loop.last }}
        {%- endfor %}
    from next_purchases
    cross join as_of
    {%- if is_incremental() %}
    where {{ dbt.dateadd('day', windows[-1], 'next_purchases.journey_date') }} >= as_of.as_of_date
        or {{ in_run_window('next_purchases.journey_date') }}
    {%- endif %}
)

select * from final
