{#- Before the enrichment asset first ran (a hand-run dbt build on a fresh warehouse) the table
    does not exist yet: then no rows, same columns, so the marts still build. -#}
{%- set terms = source('enrich', 'review_terms') -%}
{%- set exists = execute and adapter.get_relation(terms.database, terms.schema, terms.identifier) is not none -%}

with source as (
    {%- if exists %}
    select * from {{ terms }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as review_key,
        cast(null as {{ dbt.type_string() }}) as term,
        cast(null as {{ dbt.type_int() }}) as term_count,
        cast(null as {{ dbt.type_int() }}) as first_position
    where 1 = 0
    {%- endif %}
),

renamed as (
    select
        -- ids
        review_key,
        -- text
        term,
        -- numerics
        term_count,
        first_position
    from source
)

select * from renamed
