-- Empties one day (?) of quarantine.{raw_table} before a loaded day's held rows are written again.
delete from quarantine.{raw_table} where _partition_date = ?
