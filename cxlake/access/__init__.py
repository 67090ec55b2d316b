"""Who may see what: roles, scopes and PII masking (``roles``), accounts and the audit log
(``accounts``), and the analysts' SQL sandbox (``sql_sandbox``). The explorer and the CLI both go
through here, so a rule is written once."""
