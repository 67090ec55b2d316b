with customers as (
    select * from {{ ref('stg_crm__customers') }}
),

latest as (
    select
        *,
        row_number() over (partition by customer_id order by delivered_on desc, updated_at desc) as delivery_rank
    from customers
),

final as (
    select
        customer_id,
        home_store_id,
        customer_name,
        phone,
        email,
        member_tier,
        city,
        signed_up_on,
        updated_at
    from latest
    where delivery_rank = 1
)

select * from final
