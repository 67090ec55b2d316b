{#- Use the folder's schema exactly as named (staging, intermediate, marts), not
    dbt's default "<target schema>_<custom schema>", so analysts query marts.fct_* directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
