{#- Before the enrichment asset first ran (a hand-run dbt build on a fresh warehouse) the table
    does not exist yet: then no rows, same columns, so the marts still build. -#}
{%- set scores = source('enrich', 'review_scores') -%}
{%- set exists = execute and adapter.get_relation(scores.database, scores.schema, scores.identifier) is not none -%}

with source as (
    {%- if exists %}
    select * from {{ scores }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as review_key,
        cast(null as {{ dbt.type_string() }}) as content_sha256,
        cast(null as {{ dbt.type_float() }}) as sentiment_score,
        cast(null as {{ dbt.type_string() }}) as sentiment_label,
        cast(null as {{ dbt.type_string() }}) as aspects,
        cast(null as {{ dbt.type_string() }}) as model_version,
        cast(null as {{ dbt.type_timestamp() }}) as scored_at
    where 1 = 0
    {%- endif %}
),

renamed as (
    select
        -- ids
        review_key,
        content_sha256,
        -- text
        sentiment_label,
        aspects,
        model_version,
        -- numerics
        sentiment_score,
        -- timestamps
        scored_at
    from source
)

select * from renamed
