-- Empties the rows of one held-back day (?) that came from its files (?): the latest attempt with
-- these files replaces the earlier ones; rows of the day's loaded files stay.
delete from quarantine.{raw_table} where _partition_date = ? and list_contains(?, _source_file)
