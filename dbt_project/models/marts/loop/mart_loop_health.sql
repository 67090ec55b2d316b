{#- Loop health per week: for each store, each region and the whole chain, the cases whose
    clocks started that week, how many were acknowledged and resolved within their SLA, the
    median hours it took, and how many of them are open past an SLA now (as of the snapshot). -#}
with cases as (
    select * from {{ ref('fct_cases') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

weekly as (
    select
        cases.*,
        {{ dbt.date_trunc('week', 'cases.clock_started_on') }} as week_start
    from cases
),

{%- set measures %}
        count(*) as count_cases_opened,
        count(hours_to_acknowledge) as count_acknowledged,
        count(case when is_resolved then 1 end) as count_resolved,
        count(case when is_worked then 1 end) as count_worked,
        count(case when is_ack_sla_met then 1 end) as count_ack_sla_met,
        count(case when is_ack_sla_met is not null then 1 end) as count_ack_sla_decided,
        count(case when is_resolve_sla_met then 1 end) as count_resolve_sla_met,
        count(case when is_resolve_sla_met is not null then 1 end) as count_resolve_sla_decided,
        {{ median_of('hours_to_acknowledge') }} as median_hours_to_acknowledge,
        {{ median_of('hours_to_resolve') }} as median_hours_to_resolve,
        count(case when not is_resolved then 1 end) as count_open_now,
        count(case when is_breached_open then 1 end) as count_breached_open_now
{%- endset %}

by_store as (
    select
        'store' as grain,
        week_start,
        region_id,
        store_id,
        {{ measures }}
    from weekly
    group by week_start, region_id, store_id
),

by_region as (
    select
        'region' as grain,
        week_start,
        region_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        {{ measures }}
    from weekly
    group by week_start, region_id
),

chain as (
    select
        'chain' as grain,
        week_start,
        cast(null as {{ dbt.type_string() }}) as region_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        {{ measures }}
    from weekly
    group by week_start
),

rolled_up as (
    select * from by_store
    union all
    select * from by_region
    union all
    select * from chain
),

region_names as (
    select distinct region_id, region_name from stores
),

final as (
    select
        rolled_up.grain,
        cast(rolled_up.week_start as date) as week_start,
        rolled_up.region_id,
        region_names.region_name,
        rolled_up.store_id,
        stores.store_name,
        rolled_up.count_cases_opened,
        rolled_up.count_acknowledged,
        rolled_up.count_resolved,
        rolled_up.count_worked,
        rolled_up.count_ack_sla_met,
        rolled_up.count_ack_sla_decided,
        {{ share_of('rolled_up.count_ack_sla_met', 'rolled_up.count_ack_sla_decided') }} as ack_sla_met_share,
        rolled_up.count_resolve_sla_met,
        rolled_up.count_resolve_sla_decided,
        {{ share_of('rolled_up.count_resolve_sla_met', 'rolled_up.count_resolve_sla_decided') }}
            as resolve_sla_met_share,
        rolled_up.median_hours_to_acknowledge,
        rolled_up.median_hours_to_resolve,
        rolled_up.count_open_now,
        rolled_up.count_breached_open_now
    from rolled_up
    left join region_names
        on rolled_up.region_id = region_names.region_id
    left join stores
        on rolled_up.store_id = stores.store_id
)

select * from final
