-- One row per source, partition, delivered file and raw table it fed.
-- Invariant (checked by the load_audit_balances asset checks): rows_in = rows_loaded + rows_quarantined.
create schema if not exists dq;
create table if not exists dq.load_audit (
    source varchar not null,
    partition_date date not null,
    file varchar not null,
    raw_table varchar not null,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    checksum varchar,
    loaded_at timestamptz not null
);
