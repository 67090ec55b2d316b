{{ config(tags=['loop']) }}
{#- Who did what to each case and when, from the app-state store's event log; times moved to
    business time. No rows (same columns) before the snapshot asset first ran. -#}
{%- set events = source('app_state', 'case_events') -%}
{%- set exists = execute and adapter.get_relation(events.database, events.schema, events.identifier) is not none -%}

with source as (
    {%- if exists %}
    select * from {{ events }}
    {%- else %}
    select
        cast(null as {{ dbt.type_bigint() }}) as event_id,
        cast(null as {{ dbt.type_string() }}) as case_id,
        cast(null as {{ dbt.type_string() }}) as {{ adapter.quote('at') }},
        cast(null as {{ dbt.type_string() }}) as actor,
        cast(null as {{ dbt.type_string() }}) as action,
        cast(null as {{ dbt.type_string() }}) as note
    where 1 = 0
    {%- endif %}
),

renamed as (
    select
        -- ids
        cast(event_id as {{ dbt.type_bigint() }}) as event_id,
        case_id,
        -- text
        actor,
        action,
        note,
        -- timestamps (business time)
        {{ to_local_timestamp(adapter.quote('at')) }} as event_at  -- AT is an SQL keyword
    from source
)

select * from renamed
