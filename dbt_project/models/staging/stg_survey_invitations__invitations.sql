with source as (
    select * from {{ source('survey_invitations', 'survey_invitations') }}
),

renamed as (
    select
        -- ids
        invitation_id,
        survey_id,
        transaction_id,
        nullif(customer_id, '') as customer_id,
        store_id,
        -- text
        invite_channel,
        -- timestamps (business time)
        {{ to_local_timestamp('invited_at') }} as invited_at,
        _partition_date as delivered_on
    from source
)

select * from renamed
