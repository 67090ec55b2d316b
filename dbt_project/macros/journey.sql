{#- Compile-time reads of the journey map (marts.dim_touchpoint), so a touchpoint added to
    cxlake/config/journey_map.yaml becomes a column at the next run with no model edit. -#}

{#- Touchpoint ids in journey order; [] while parsing or before dim_touchpoint exists. -#}
{% macro journey_touchpoint_ids() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = load_relation(ref('dim_touchpoint')) -%}
    {%- if relation is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select touchpoint_id from {{ relation }} order by touchpoint_order
    {%- endset -%}
    {%- set ids = run_query(query).columns[0].values() | list -%}
    {%- for touchpoint_id in ids -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]*$', touchpoint_id) -%}
            {{ exceptions.raise_compiler_error("touchpoint id " ~ touchpoint_id ~ " is not a lowercase identifier") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ids) }}
{%- endmacro %}

{#- Numeric columns of fct_transactions a touchpoint may name as its operational metric
    (journey map `measures.operational`): var operational_quantities, from cxlake/contracts.py, the
    list the explorer offers too. A singular test holds the journey map to it. -#}
{% macro operational_metric_columns() -%}
    {{ return(var('operational_quantities')) }}
{%- endmacro %}

{#- Boolean columns of fct_transactions a touchpoint's POS events are measured by (refund ->
    is_refunded): var operational_flags, from cxlake/contracts.py. -#}
{% macro operational_flag_columns() -%}
    {{ return(var('operational_flags')) }}
{%- endmacro %}

{#- The value of the operational metric a row names, from a fct_transactions row. -#}
{% macro operational_metric_value(metric_name_column, transactions) -%}
    case {{ metric_name_column }}
        {%- for column in operational_metric_columns() %}
        when '{{ column }}' then {{ transactions }}.{{ column }}
        {%- endfor %}
    end
{%- endmacro %}

{#- True when a comma-joined channel list (dim_touchpoint.channels) holds the channel. -#}
{% macro channel_in_list(channel, channel_list) -%}
    {{ dbt.position(
        dbt.concat(["','", channel, "','"]),
        dbt.concat(["','", channel_list, "','"])
    ) }} > 0
{%- endmacro %}

{#- The incremental window: the run's days (vars min_date / max_date from the partition
    range) as a condition on a date column; true when the run has no day range. -#}
{% macro in_run_window(date_column) -%}
    {%- if var('min_date', none) is not none and var('max_date', none) is not none -%}
        {{ date_column }} between cast('{{ var("min_date") }}' as date) and cast('{{ var("max_date") }}' as date)
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- One value for the parts of the journey map a daily fact depends on (which touchpoints, their
    channels, operational metric and POS events): an incremental fact whose rows carry another
    value recomputes every day. An aggregate over a dim_touchpoint relation. -#}
{% macro journey_map_checksum(touchpoints) -%}
    {{ dbt.hash(dbt.listagg(
        dbt.concat([
            touchpoints ~ ".touchpoint_id", "'|'",
            "coalesce(" ~ touchpoints ~ ".channels, '')", "'|'",
            "coalesce(" ~ touchpoints ~ ".operational_metric, '')", "'|'",
            "coalesce(" ~ touchpoints ~ ".pos_events, '')"
        ]),
        "';'",
        "order by " ~ touchpoints ~ ".touchpoint_id"
    )) }}
{%- endmacro %}
