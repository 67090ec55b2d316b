-- Empties a source's (?) held-back audit rows of one day (?): the latest attempt replaces them,
-- while the rows of the day's last load stay (the day keeps its previous state).
delete from dq.load_audit where source = ? and partition_date = ? and status = 'held_back'
