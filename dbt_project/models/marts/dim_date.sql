{#- A calendar covering every transaction and response day (and at least one day, so an
    empty warehouse still builds). -#}
{%- set bounds_query -%}
    select
        cast(min(day) as varchar) as first_day,
        cast(max(day) as varchar) as last_day
    from (
        select cast(ordered_at as date) as day from {{ ref('stg_pos__transactions') }}
        union all
        select cast(submitted_at as date) as day from {{ ref('int_surveys__responses_unioned') }}
    ) as days
{%- endset -%}
{%- set first_day, last_day = '2026-01-01', '2026-01-01' -%}
{%- if execute -%}
    {%- set row = run_query(bounds_query).rows[0] -%}
    {%- if row[0] is not none -%}
        {%- set first_day, last_day = row[0], row[1] -%}
    {%- endif -%}
{%- endif -%}

with spine as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ first_day ~ "' as date)",
        end_date=dbt.dateadd("day", 1, "cast('" ~ last_day ~ "' as date)")
    ) }}
),

final as (
    select
        cast(date_day as date) as date_day,
        extract(year from date_day) as year_number,
        extract(month from date_day) as month_of_year,
        {{ day_of_week('date_day') }} as day_of_week,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        {{ day_of_week('date_day') }} in (6, 7) as is_weekend
    from spine
)

select * from final
