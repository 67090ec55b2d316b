{#- A continuous percentile (0..1) of a column as an aggregate; engines spell it differently,
    hence dispatched. The median is median_of (macros/response_quality.sql). -#}
{% macro percentile_of(column, fraction) -%}
    {{ return(adapter.dispatch('percentile_of', 'cxlake')(column, fraction)) }}
{%- endmacro %}

{% macro default__percentile_of(column, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__percentile_of(column, fraction) -%}
    quantile_cont({{ column }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_of(column, fraction) -%}
    percentile({{ column }}, {{ fraction }})
{%- endmacro %}
