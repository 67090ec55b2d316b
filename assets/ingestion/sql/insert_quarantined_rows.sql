-- Appends the rows of one day the gate held back (registered as judged_rows) to
-- quarantine.{raw_table}: the row as delivered, where it came from, every rule it broke
-- (?: the day, ?: the time).
insert into quarantine.{raw_table} (
    {columns}, _partition_date, _source_file, _source_row, _failed_expectations, _quarantined_at
)
select {values}, cast(? as date), _source_file, cast(_source_row as integer), _failed_expectations, ?
from judged_rows
