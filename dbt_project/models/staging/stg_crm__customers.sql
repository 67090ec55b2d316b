with source as (
    select * from {{ source('crm', 'crm_customers') }}
),

renamed as (
    select
        -- ids
        customer_id,
        home_store_id,
        -- text (name, phone and email are PII)
        name as customer_name,
        phone,
        email,
        member_tier,
        city,
        -- dates
        cast(signup_date as date) as signed_up_on,
        {{ to_local_timestamp('updated_at') }} as updated_at,
        _partition_date as delivered_on
    from source
)

select * from renamed
