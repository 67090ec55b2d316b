{#- Before the invitation asset first ran (a hand-run dbt build on a fresh warehouse, or a warehouse
    loaded before invitations were decided) the table does not exist yet: then no rows, same
    columns, so the funnel still builds. -#}
{%- set decisions = source('enrich', 'invitation_decisions') -%}
{%- set exists = execute and adapter.get_relation(decisions.database, decisions.schema, decisions.identifier) is not none -%}

with source as (
    {%- if exists %}
    select * from {{ decisions }}
    {%- else %}
    select
        cast(null as date) as decision_date,
        cast(null as {{ dbt.type_string() }}) as transaction_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as survey_id,
        cast(null as boolean) as is_eligible,
        cast(null as boolean) as is_first_time,
        cast(null as {{ dbt.type_int() }}) as days_since_last_invitation,
        cast(null as {{ dbt.type_int() }}) as quota,
        cast(null as {{ dbt.type_string() }}) as decision,
        cast(null as {{ dbt.type_string() }}) as rule
    where 1 = 0
    {%- endif %}
),

renamed as (
    select
        -- ids
        transaction_id,
        customer_id,
        store_id,
        survey_id,
        -- text
        channel,
        decision,
        rule as suppressed_by,
        -- flags
        is_eligible,
        is_first_time,
        decision = 'invited' as is_invited,
        -- numerics
        days_since_last_invitation,
        quota as store_channel_quota,
        -- dates
        decision_date as decided_on
    from source
)

select * from renamed
