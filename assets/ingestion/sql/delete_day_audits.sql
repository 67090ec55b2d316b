-- Empties a source's (?) audit rows of one day (?) before the loaded day's are written.
delete from dq.load_audit where source = ? and partition_date = ?
