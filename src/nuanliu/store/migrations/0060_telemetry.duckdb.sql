-- Telemetry values without a unique index (as readings: an ART index over 10^8 keys
-- costs memory and append speed); the single writer anti-joins on the batch's window.
CREATE TABLE telemetry (
    site_id TEXT NOT NULL,
    point TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
