-- Returns the rows delivered per loaded day of a raw table (?) before a day (?): the trailing
-- history the volume rule holds each day to.
select partition_date, sum(rows_in) as rows_in
from dq.load_audit
where raw_table = ?
  and partition_date < ?
  and status = 'loaded'
group by partition_date
order by partition_date
