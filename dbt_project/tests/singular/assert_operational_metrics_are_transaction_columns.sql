-- Returns a journey-map operational measure that names no numeric column of fct_transactions
-- the marts can read (macro operational_metric_columns): a typo in journey_map.yaml.
select
    touchpoint_id,
    measure_name
from {{ ref('stg_configuration__journey_measures') }}
where measure_kind = 'operational'
    and measure_name not in (
        {%- for column in operational_metric_columns() %}'{{ column }}'{{ ", " if not loop.last }}{% endfor -%}
    )
