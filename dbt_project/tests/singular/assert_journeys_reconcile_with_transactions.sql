{{ config(meta={'dagster': {'ref': {'name': 'fct_journeys'}}}) }}
-- Returns a row when fct_journeys does not reconcile with fct_transactions: a different number
-- of journeys than transactions, or a different spend or refund total.
with journeys as (
    select
        count(*) as count_rows,
        coalesce(sum(amount), 0) as total_amount,
        coalesce(sum(refund_amount), 0) as total_refund
    from {{ ref('fct_journeys') }}
),

transactions as (
    select
        count(*) as count_rows,
        coalesce(sum(amount), 0) as total_amount,
        coalesce(sum(refund_amount), 0) as total_refund
    from {{ ref('fct_transactions') }}
)

select
    journeys.count_rows as journeys,
    transactions.count_rows as transactions,
    journeys.total_amount as journey_spend,
    transactions.total_amount as transaction_spend
from journeys
cross join transactions
where journeys.count_rows <> transactions.count_rows
    or journeys.total_amount <> transactions.total_amount
    or journeys.total_refund <> transactions.total_refund
