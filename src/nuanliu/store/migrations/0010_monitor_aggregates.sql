-- Monitoring aggregates, maintained by nuanliu.monitor.aggregates as readings arrive
-- (a readings hook) with additive upserts, so they equal a recomputation from raw
-- under late readings. Duplicates never reach the hook (the store de-duplicates).

-- Settings the aggregates depend on (changing one requires rebuild_aggregates).
CREATE TABLE mon_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO mon_settings (key, value) VALUES ('timezone', 'Asia/Shanghai');

-- Per sensor and UTC hour: count, sum, extremes and the first/last reading time.
CREATE TABLE mon_sensor_hourly (
    sensor_id TEXT NOT NULL,
    hour_ts TIMESTAMPTZ NOT NULL,
    n BIGINT NOT NULL,
    sum_temp_c DOUBLE PRECISION NOT NULL,
    min_temp_c DOUBLE PRECISION NOT NULL,
    max_temp_c DOUBLE PRECISION NOT NULL,
    first_ts TIMESTAMPTZ NOT NULL,
    last_ts TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sensor_id, hour_ts)
);

-- Per household and local day (mon_settings.timezone), over all its sensors' readings.
CREATE TABLE mon_household_daily (
    household_id TEXT NOT NULL,
    local_day DATE NOT NULL,
    n BIGINT NOT NULL,
    sum_temp_c DOUBLE PRECISION NOT NULL,
    min_temp_c DOUBLE PRECISION NOT NULL,
    max_temp_c DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (household_id, local_day)
);

-- Latest reading time per sensor (the newest ever stored, late readings included).
CREATE TABLE mon_sensor_last_seen (
    sensor_id TEXT PRIMARY KEY,
    last_ts TIMESTAMPTZ NOT NULL
);
