-- The warehouse's schemas, exactly: raw (as delivered), staging / intermediate / marts (dbt),
-- dq (load audit, validation results), quarantine (rows held back by the quality gate),
-- enrich (tables Python assets write for dbt to read).
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists dq;
create schema if not exists quarantine;
create schema if not exists enrich;

-- One row per source, partition, delivered file and raw table it fed.
-- Invariant (checked by the load_audit_balances asset checks): rows_in = rows_loaded + rows_quarantined.
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
