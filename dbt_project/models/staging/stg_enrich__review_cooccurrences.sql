{#- Before the enrichment asset first wrote it (a hand-run dbt build on a fresh warehouse, or one
    built before central words were stored) the table does not exist yet: then no rows, same
    columns, so the marts still build. -#}
{%- set pairs = source('enrich', 'review_cooccurrences') -%}
{%- set exists = execute and adapter.get_relation(pairs.database, pairs.schema, pairs.identifier) is not none -%}

with source as (
    {%- if exists %}
    select * from {{ pairs }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as review_key,
        cast(null as {{ dbt.type_string() }}) as keyword,
        cast(null as {{ dbt.type_string() }}) as other_keyword,
        cast(null as {{ dbt.type_int() }}) as pair_count
    where 1 = 0
    {%- endif %}
),

renamed as (
    select
        -- ids
        review_key,
        -- text
        keyword,
        other_keyword,
        -- numerics
        pair_count
    from source
)

select * from renamed
