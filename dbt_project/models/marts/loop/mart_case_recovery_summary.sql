{#- What the CX director reads: worked against not-worked detractors, for the whole chain, each
    region and each store. Return rates count only answers whose window is fully loaded. -#}
with recovery as (
    select * from {{ ref('mart_case_recovery') }}
),

{%- set measures %}
        count(*) as count_detractors,
        count(case when has_case then 1 end) as count_with_case,
        count(is_returned_30d) as count_judged_30d,
        count(case when is_returned_30d then 1 end) as count_returned_30d,
        count(is_returned_90d) as count_judged_90d,
        count(case when is_returned_90d then 1 end) as count_returned_90d,
        avg(1.0 * days_to_next_visit) as avg_days_to_next_visit,
        count(next_nps_score) as count_next_nps,
        avg(1.0 * nps_score) as avg_nps,
        avg(1.0 * next_nps_score) as avg_next_nps,
        avg(1.0 * nps_change) as avg_nps_change
{%- endset %}

by_store as (
    select
        'store' as grain,
        region_id,
        store_id,
        is_worked,
        {{ measures }}
    from recovery
    group by region_id, store_id, is_worked
),

by_region as (
    select
        'region' as grain,
        region_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        is_worked,
        {{ measures }}
    from recovery
    group by region_id, is_worked
),

chain as (
    select
        'chain' as grain,
        cast(null as {{ dbt.type_string() }}) as region_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        is_worked,
        {{ measures }}
    from recovery
    group by is_worked
),

rolled_up as (
    select * from by_store
    union all
    select * from by_region
    union all
    select * from chain
),

final as (
    select
        grain,
        region_id,
        store_id,
        is_worked,
        count_detractors,
        count_with_case,
        count_judged_30d,
        count_returned_30d,
        {{ share_of('count_returned_30d', 'count_judged_30d') }} as return_rate_30d,
        count_judged_90d,
        count_returned_90d,
        {{ share_of('count_returned_90d', 'count_judged_90d') }} as return_rate_90d,
        round(avg_days_to_next_visit, 2) as avg_days_to_next_visit,
        count_next_nps,
        round(avg_nps, 2) as avg_nps,
        round(avg_next_nps, 2) as avg_next_nps,
        round(avg_nps_change, 2) as avg_nps_change
    from rolled_up
)

select * from final
