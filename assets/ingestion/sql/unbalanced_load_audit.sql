-- Returns the audit rows of a raw table where rows went missing: rows_in must equal
-- rows_loaded + rows_quarantined for every file of every partition.
select source, partition_date, file, rows_in, rows_loaded, rows_quarantined
from dq.load_audit
where raw_table = ?
  and rows_in <> rows_loaded + rows_quarantined
order by partition_date, file
