-- Returns one file already loaded for another day with one of the given checksums (?: checksums,
-- ?: the day being judged): the same bytes delivered again would double their rows.
select checksum, file, partition_date
from dq.load_audit
where list_contains(?, checksum)
  and partition_date <> ?
  and rows_in > 0
  and status = 'loaded'
limit 1
