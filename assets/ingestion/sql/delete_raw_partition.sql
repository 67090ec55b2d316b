-- Empties one day (?) of raw.{raw_table} before the day is written again: a rerun never duplicates.
delete from raw.{raw_table} where _partition_date = ?
