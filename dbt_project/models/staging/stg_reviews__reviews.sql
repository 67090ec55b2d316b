with source as (
    select * from {{ source('reviews', 'reviews') }}
),

renamed as (
    select
        -- ids
        platform || ':' || review_id as review_key,
        review_id,
        platform,
        shop_id,
        nullif(store_id, '') as store_id,
        nullif(order_id, '') as transaction_id,
        -- text
        shop_name,
        brand,
        content,
        user_nickname,
        -- numerics
        cast(rating as integer) as rating,
        -- timestamps (business time)
        {{ to_local_timestamp('posted_at') }} as posted_at,
        _partition_date as delivered_on
    from source
)

select * from renamed
