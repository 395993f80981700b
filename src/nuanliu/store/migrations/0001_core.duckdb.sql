-- Readings without a unique index: an ART index over 10^8 (sensor_id, ts) keys costs
-- gigabytes of memory and slows every append. The single writer de-duplicates with an
-- anti-join over the batch's time window instead (store/engine.py, docs/store.md).
CREATE TABLE readings (
    sensor_id TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    temp_c DOUBLE PRECISION NOT NULL,
    humidity_pct DOUBLE PRECISION,
    received_at TIMESTAMPTZ NOT NULL
);
