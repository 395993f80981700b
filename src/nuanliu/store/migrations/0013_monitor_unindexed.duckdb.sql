-- DuckDB: the monitoring aggregates without primary keys. An ART index made every
-- additive upsert several times dearer than the merge itself; like the readings table
-- (see 0001), DuckDB relies on the single writer: the hook merges with an UPDATE and an
-- anti-joined INSERT bounded to the batch's hours and days, which zone maps prune.
CREATE TABLE mon_sensor_hourly_v2 (
    sensor_id TEXT NOT NULL,
    hour_ts TIMESTAMPTZ NOT NULL,
    n BIGINT NOT NULL,
    sum_temp_c DOUBLE PRECISION NOT NULL,
    min_temp_c DOUBLE PRECISION NOT NULL,
    max_temp_c DOUBLE PRECISION NOT NULL,
    first_ts TIMESTAMPTZ NOT NULL,
    last_ts TIMESTAMPTZ NOT NULL
);
INSERT INTO mon_sensor_hourly_v2 SELECT * FROM mon_sensor_hourly ORDER BY hour_ts, sensor_id;
DROP TABLE mon_sensor_hourly;
ALTER TABLE mon_sensor_hourly_v2 RENAME TO mon_sensor_hourly;

CREATE TABLE mon_household_daily_v2 (
    household_id TEXT NOT NULL,
    local_day DATE NOT NULL,
    n BIGINT NOT NULL,
    sum_temp_c DOUBLE PRECISION NOT NULL,
    min_temp_c DOUBLE PRECISION NOT NULL,
    max_temp_c DOUBLE PRECISION NOT NULL
);
INSERT INTO mon_household_daily_v2
    SELECT * FROM mon_household_daily ORDER BY local_day, household_id;
DROP TABLE mon_household_daily;
ALTER TABLE mon_household_daily_v2 RENAME TO mon_household_daily;

CREATE TABLE mon_sensor_last_seen_v2 (
    sensor_id TEXT NOT NULL,
    last_ts TIMESTAMPTZ NOT NULL
);
INSERT INTO mon_sensor_last_seen_v2 SELECT * FROM mon_sensor_last_seen;
DROP TABLE mon_sensor_last_seen;
ALTER TABLE mon_sensor_last_seen_v2 RENAME TO mon_sensor_last_seen;
