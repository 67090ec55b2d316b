{#- One row per alert case with its service-level outcome: hours to acknowledge and to resolve
    from the moment its clocks started, whether each SLA was met, whether the customer's case was
    worked, and the store and region it belongs to. -#}
with cases as (
    select * from {{ ref('stg_app_state__cases') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

-- A fresh case's clocks start when it opens; a historical one's at the feedback (cxlake/alerts/cases.py).
-- A case resolved without an explicit acknowledgement was acknowledged by resolving it.
clocked as (
    select
        *,
        case when is_historical then feedback_at else opened_at end as clock_started_at,
        coalesce(acknowledged_at, resolved_at) as first_response_at
    from cases
),

final as (
    select
        clocked.case_id,
        clocked.feedback_key,
        clocked.rule_id,
        clocked.matched_rules,
        clocked.severity,
        clocked.source,
        clocked.survey_id,
        clocked.response_id,
        clocked.platform,
        clocked.review_id,
        clocked.store_id,
        stores.store_name,
        coalesce(clocked.region_id, stores.region_id) as region_id,
        stores.region_name,
        clocked.customer_id,
        clocked.transaction_id,
        clocked.owner,
        clocked.status,
        clocked.resolution_code,
        clocked.contact_method,
        clocked.acknowledged_by,
        clocked.resolved_by,
        clocked.is_historical,
        clocked.is_customer_contacted,
        clocked.status = 'resolved' as is_resolved,
        (clocked.is_customer_contacted or clocked.status = 'resolved')
            and coalesce(clocked.resolution_code, '') <> 'could_not_reach' as is_worked,
        clocked.feedback_at,
        clocked.opened_at,
        clocked.clock_started_at,
        cast(clocked.clock_started_at as date) as clock_started_on,
        clocked.ack_due_at,
        clocked.resolve_due_at,
        clocked.acknowledged_at,
        clocked.escalated_at,
        clocked.resolved_at,
        clocked.snapshot_at,
        {{ dbt.datediff('clocked.clock_started_at', 'clocked.first_response_at', 'second') }} / 3600.0
            as hours_to_acknowledge,
        {{ dbt.datediff('clocked.clock_started_at', 'clocked.resolved_at', 'second') }} / 3600.0
            as hours_to_resolve,
        -- met / missed once decided; NULL while the clock still runs
        case
            when clocked.first_response_at is not null then clocked.first_response_at <= clocked.ack_due_at
            when clocked.snapshot_at > clocked.ack_due_at then false
        end as is_ack_sla_met,
        case
            when clocked.resolved_at is not null then clocked.resolved_at <= clocked.resolve_due_at
            when clocked.snapshot_at > clocked.resolve_due_at then false
        end as is_resolve_sla_met,
        clocked.is_ack_breached,
        clocked.is_resolve_breached,
        clocked.status <> 'resolved' and (clocked.is_ack_breached or clocked.is_resolve_breached)
            as is_breached_open
    from clocked
    left join stores
        on clocked.store_id = stores.store_id
)

select * from final
