-- Appends one row per raw table of a judged partition (registered as validation_rows).
insert into dq.validation_runs (
    run_id, source, raw_table, partition_date, validated_at, success, blocked, block_reason, rows_in,
    rows_loaded, rows_quarantined
)
select
    run_id, source, raw_table, cast(partition_date as date), validated_at, success, blocked,
    block_reason, rows_in, rows_loaded, rows_quarantined
from validation_rows
