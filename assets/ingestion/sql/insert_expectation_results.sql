-- Appends one row per rule outcome of a judged partition (registered as result_rows).
insert into dq.expectation_results (
    run_id, source, raw_table, partition_date, expectation, level, severity, success,
    unexpected_count, sample_values
)
select
    run_id, source, raw_table, cast(partition_date as date), expectation, level, severity, success,
    unexpected_count, sample_values
from result_rows
