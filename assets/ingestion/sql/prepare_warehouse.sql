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

-- One row per source, partition, delivered file and raw table it fed, with the partition's status:
-- 'loaded' (what raw.* holds for the day) or 'held_back' (the latest attempt of a day the gate
-- blocked: its rows are quarantined or held back in landing/, and the day keeps its previous state).
-- Invariant (checked by the load_audit_balances asset checks):
-- rows_in = rows_loaded + rows_quarantined + rows_held_back.
create table if not exists dq.load_audit (
    source varchar not null,
    partition_date date not null,
    file varchar not null,
    raw_table varchar not null,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    checksum varchar,
    loaded_at timestamptz not null,
    status varchar not null default 'loaded',
    rows_held_back bigint not null default 0
);
-- warehouses written before held-back partitions were audited
alter table dq.load_audit add column if not exists status varchar default 'loaded';
alter table dq.load_audit add column if not exists rows_held_back bigint default 0;

-- One row per run x raw table x partition: did the partition pass, and what came of its rows.
create table if not exists dq.validation_runs (
    run_id varchar not null,
    source varchar not null,
    raw_table varchar not null,
    partition_date date not null,
    validated_at timestamptz not null,
    success boolean not null,
    blocked boolean not null,
    block_reason varchar,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null
);

-- One row per run x raw table x partition x expectation (row rules, partition and file rules).
create table if not exists dq.expectation_results (
    run_id varchar not null,
    source varchar not null,
    raw_table varchar not null,
    partition_date date not null,
    expectation varchar not null,
    level varchar not null,
    severity varchar not null,
    success boolean not null,
    unexpected_count bigint not null,
    sample_values varchar
);
