with stores as (
    select * from {{ ref('stg_reference__stores') }}
),

latest as (
    select
        *,
        row_number() over (partition by store_id order by delivered_on desc, loaded_at desc) as delivery_rank
    from stores
),

final as (
    select
        store_id,
        store_name,
        region_id,
        region_name,
        city,
        opened_on
    from latest
    where delivery_rank = 1
)

select * from final
