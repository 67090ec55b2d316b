{#- Metric definitions. The thresholds are vars that the pipeline fills from
    cxlake/config/metrics.yaml, the one place they are defined. -#}

{% macro nps_category(score) -%}
    case
        when {{ score }} is null then null
        when {{ score }} >= {{ var('nps_promoter_min') }} then 'promoter'
        when {{ score }} <= {{ var('nps_detractor_max') }} then 'detractor'
        else 'passive'
    end
{%- endmacro %}

{% macro is_csat_top_box(score) -%}
    case when {{ score }} is null then null else {{ score }} >= {{ var('csat_top_box_min') }} end
{%- endmacro %}
