{#- Helpers of the survey response-quality flags and the countable rule
    (int_surveys__responses_flagged, fct_survey_responses). -#}

{#- Median of a column as an aggregate. Engines spell it differently, hence dispatched. -#}
{% macro median_of(column) -%}
    {{ return(adapter.dispatch('median_of', 'cxlake')(column)) }}
{%- endmacro %}

{% macro default__median_of(column) -%}
    percentile_cont(0.5) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__median_of(column) -%}
    median({{ column }})
{%- endmacro %}

{% macro spark__median_of(column) -%}
    percentile({{ column }}, 0.5)
{%- endmacro %}

{#- The rule's vars arrive from the pipeline as JSON (lists, booleans) but a hand-typed
    `--vars` may carry strings ("false", "ok,offline"); read them one way so a string "false"
    never counts as true. -#}
{% macro bool_var(name) -%}
    {{ return(var(name) | string | lower in ['true', '1', 'yes']) }}
{%- endmacro %}

{% macro countable_statuses() -%}
    {%- set statuses = var('countable_statuses') -%}
    {%- if statuses is string -%}
        {%- set statuses = fromjson(statuses) if statuses.startswith('[') else statuses.split(',') -%}
    {%- endif -%}
    {%- if statuses | length == 0 -%}
        {{ exceptions.raise_compiler_error("var countable_statuses lists no status: nothing would count") }}
    {%- endif -%}
    {{ return(statuses | map('trim') | list) }}
{%- endmacro %}

{% macro countable_straight_liners() -%}
    {%- set mode = var('countable_straight_liners') | string | trim -%}
    {%- if mode not in ['with_speeding', 'always', 'never'] -%}
        {{ exceptions.raise_compiler_error(
            "var countable_straight_liners must be with_speeding, always or never, not " ~ mode) }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}
