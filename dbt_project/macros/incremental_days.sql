{#- Order days of the transactions whose header or lines were delivered in the run's days: the
    days a daily fact over fct_transactions recomputes in an incremental run. -#}
{% macro changed_transaction_days() -%}
    select distinct transactions.transaction_date as date_day
    from {{ ref('fct_transactions') }} as transactions
    inner join (
        select transaction_id from {{ ref('stg_pos__transactions') }}
        where {{ in_run_window('delivered_on') }}
        union
        select transaction_id from {{ ref('stg_pos__transaction_lines') }}
        where {{ in_run_window('delivered_on') }}
    ) as delivered
        on transactions.transaction_id = delivered.transaction_id
{%- endmacro %}
