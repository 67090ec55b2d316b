with source as (
    select * from {{ source('pos', 'pos_transaction_lines') }}
),

renamed as (
    select
        -- ids
        transaction_id,
        cast(line_number as integer) as line_number,
        product_id,
        -- text
        product_name,
        category as product_category,
        -- numerics
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(12, 2)) as unit_price,
        cast(line_amount as decimal(12, 2)) as line_amount,
        _partition_date as delivered_on
    from source
)

select * from renamed
