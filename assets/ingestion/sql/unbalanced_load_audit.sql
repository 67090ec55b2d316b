-- Returns the audit rows of a raw table where rows went missing: rows_in must equal
-- rows_loaded + rows_quarantined + rows_held_back for every file of every partition.
select source, partition_date, file, status, rows_in, rows_loaded, rows_quarantined, rows_held_back
from dq.load_audit
where raw_table = ?
  and rows_in <> rows_loaded + rows_quarantined + rows_held_back
order by partition_date, file
