-- Telemetry values: the primary key is the idempotency guard (ON CONFLICT DO NOTHING)
-- for several writer processes; BRIN serves time-window scans over all sites.
CREATE TABLE telemetry (
    site_id TEXT COLLATE "C" NOT NULL,
    point TEXT COLLATE "C" NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, point, ts)
);
CREATE INDEX telemetry_ts_brin ON telemetry USING brin (ts);
