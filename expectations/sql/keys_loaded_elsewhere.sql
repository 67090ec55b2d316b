-- Returns the run's record keys (registered as batch_keys(key)) that {raw_table} already holds
-- from a day outside the run (?: the run's days, yyyy-mm-dd): the duplicate-key check against
-- history, as a join, so no other day's keys leave DuckDB. {record_key} is the suite's key
-- expression over the raw columns.
select distinct loaded.record_key
from (
    select {record_key} as record_key
    from raw.{raw_table}
    where not list_contains(?, cast(_partition_date as varchar))
) as loaded
inner join batch_keys on batch_keys.key = loaded.record_key
