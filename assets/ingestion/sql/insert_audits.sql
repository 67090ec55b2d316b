-- Appends one audit row per delivered file and raw table (registered as audit_rows).
insert into dq.load_audit (
    source, partition_date, file, raw_table, rows_in, rows_loaded, rows_quarantined, checksum,
    loaded_at, status, rows_held_back
)
select
    source, cast(partition_date as date), file, raw_table, rows_in, rows_loaded, rows_quarantined,
    checksum, loaded_at, status, rows_held_back
from audit_rows
