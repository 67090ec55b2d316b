-- Appends the rows of one day that the gate lets through (registered as judged_rows) to
-- raw.{raw_table}, with their lineage (?: the day, ?: the load's time).
insert into raw.{raw_table} ({columns}, _partition_date, _source_file, _source_row, _loaded_at)
select {values}, cast(? as date), _source_file, cast(_source_row as integer), ?
from judged_rows
