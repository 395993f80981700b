-- The scheduler (src/nuanliu/scheduler): one row per (job, scheduled slot). Claiming a
-- slot is the INSERT of its row: the primary key lets exactly one scheduler instance
-- win it (PostgreSQL: the unique index across processes; DuckDB: the single writer),
-- so two instances never run the same job for the same slot. lease_until bounds a
-- running row: a run whose instance died is reported as lost once its lease ran out.
-- status: running | ok | failed | lost.
CREATE TABLE sched_runs (
    job_name TEXT NOT NULL,
    slot_at TIMESTAMPTZ NOT NULL,
    instance_id TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    lease_until TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    duration_s DOUBLE PRECISION,
    summary TEXT,
    error TEXT,
    PRIMARY KEY (job_name, slot_at)
);

CREATE INDEX sched_runs_started ON sched_runs (started_at);

-- Scheduler processes and their heartbeats (readiness: a scheduler is alive).
CREATE TABLE sched_instances (
    instance_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL
);
