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

{#- NPS on -100..100 from counts (never from averaged NPS values: roll-ups sum the counts and
    call this again). NULL when n = 0. Python twin: cxlake.metrics.nps_from_counts. -#}
{% macro nps_from_counts(promoters, passives, detractors) -%}
    case
        when ({{ promoters }} + {{ passives }} + {{ detractors }}) = 0 then null
        else round(
            100.0 * ({{ promoters }} - {{ detractors }})
            / ({{ promoters }} + {{ passives }} + {{ detractors }}),
            6
        )
    end
{%- endmacro %}

{#- One end of the adjusted-Wald interval (Rocks 2016): 3/4 of a promoter and of a detractor
    added, n + 3, z from var nps_confidence_z; clipped to -100..100, NULL when n = 0.
    `side` is -1 for the low end, 1 for the high end. -#}
{% macro nps_ci_bound(promoters, passives, detractors, side) -%}
    {%- set n_adj = "(" ~ promoters ~ " + " ~ passives ~ " + " ~ detractors ~ " + 3.0)" -%}
    {%- set p_adj = "((" ~ promoters ~ " + 0.75) / " ~ n_adj ~ ")" -%}
    {%- set d_adj = "((" ~ detractors ~ " + 0.75) / " ~ n_adj ~ ")" -%}
    {%- set bound -%}
        100.0 * (
            ({{ p_adj }} - {{ d_adj }})
            + ({{ side }}) * {{ var('nps_confidence_z') }}
            * sqrt(({{ p_adj }} + {{ d_adj }} - ({{ p_adj }} - {{ d_adj }}) * ({{ p_adj }} - {{ d_adj }})) / {{ n_adj }})
        )
    {%- endset -%}
    case
        when ({{ promoters }} + {{ passives }} + {{ detractors }}) = 0 then null
        when {{ bound }} < -100 then -100.0
        when {{ bound }} > 100 then 100.0
        else round({{ bound }}, 6)
    end
{%- endmacro %}

{% macro nps_ci_low(promoters, passives, detractors) -%}
    {{ nps_ci_bound(promoters, passives, detractors, -1) }}
{%- endmacro %}

{% macro nps_ci_high(promoters, passives, detractors) -%}
    {{ nps_ci_bound(promoters, passives, detractors, 1) }}
{%- endmacro %}

{#- A score on its scale, else NULL: aggregates over it (count, avg) then ignore off-scale
    answers, as cxlake.metrics.csat_mean / ces_mean do. -#}
{% macro in_scale(score, measure) -%}
    case
        when {{ score }} between {{ var(measure ~ '_scale_min') }} and {{ var(measure ~ '_scale_max') }}
            then {{ score }}
    end
{%- endmacro %}

{#- Share (0..1) of top-2-box ratings from counts; NULL when n = 0. -#}
{% macro share_of(part, whole) -%}
    case when {{ whole }} = 0 then null else round(1.0 * {{ part }} / {{ whole }}, 6) end
{%- endmacro %}

{#- Whether a score over `n` answers may be shown as a fact: n >= var min_responses (metrics.yaml
    `min_responses`, the explorer's rule too). Below it a page hides the score or draws it hollow,
    labelled "n = 4, too few". Never NULL: n = 0 is not reportable. -#}
{% macro is_reportable(n) -%}
    (coalesce({{ n }}, 0) >= {{ var('min_responses') }})
{%- endmacro %}

{#- Response rate = responses / invitations, NULL with no invitation. -#}
{% macro response_rate(responses, invitations) -%}
    {{ share_of(responses, invitations) }}
{%- endmacro %}

{#- Churned = no purchase for var churn_days days (NULL for a customer who never bought). -#}
{% macro is_churned(days_since_last_purchase) -%}
    case
        when {{ days_since_last_purchase }} is null then null
        else {{ days_since_last_purchase }} >= {{ var('churn_days') }}
    end
{%- endmacro %}
