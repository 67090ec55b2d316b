{#- Delivered timestamps carry an offset; marts keep business time (the chain's local wall
    clock, var business_timezone) as plain timestamps so days and hours mean what the stores see.
    Engine-specific, hence dispatched. -#}

{% macro to_local_timestamp(column) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'cxlake')(column)) }}
{%- endmacro %}

{% macro default__to_local_timestamp(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__to_local_timestamp(column) -%}
    timezone('{{ var("business_timezone") }}', cast({{ column }} as timestamptz))
{%- endmacro %}

{% macro spark__to_local_timestamp(column) -%}
    from_utc_timestamp(to_timestamp({{ column }}), '{{ var("business_timezone") }}')
{%- endmacro %}

{#- ISO day of week: 1 = Monday .. 7 = Sunday. -#}
{% macro day_of_week(column) -%}
    {{ return(adapter.dispatch('day_of_week', 'cxlake')(column)) }}
{%- endmacro %}

{% macro default__day_of_week(column) -%}
    extract(isodow from {{ column }})
{%- endmacro %}

{% macro spark__day_of_week(column) -%}
    ((dayofweek({{ column }}) + 5) % 7 + 1)
{%- endmacro %}
