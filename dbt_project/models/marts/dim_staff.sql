{#- One row per staff member of the chain, from the latest roster delivery (reference/staff.csv),
    with their store's region so a region's or a store's scope finds its staff. The name is
    personal data: the serving door masks staff_name for roles without PII rights. -#}
with staff_deliveries as (
    select * from {{ ref('stg_reference__staff') }}
),

stores as (
    select * from {{ ref('dim_store') }}
),

latest as (
    select
        *,
        row_number() over (partition by staff_id order by delivered_on desc) as delivery_rank
    from staff_deliveries
),

final as (
    select
        latest.staff_id,
        latest.store_id,
        stores.region_id,
        latest.staff_name,
        latest.staff_role,
        latest.hired_on
    from latest
    left join stores
        on latest.store_id = stores.store_id
    where latest.delivery_rank = 1
)

select * from final
