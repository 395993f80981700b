-- Readings: the primary key is the idempotency guard (ON CONFLICT DO NOTHING) and the
-- per-sensor time index; a BRIN index serves time-window scans over all sensors.
-- Sensor ids compare bytewise (COLLATE "C"): ids are codes, not words, and locale-aware
-- comparison made every primary-key insert several times slower.
CREATE TABLE readings (
    sensor_id TEXT COLLATE "C" NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    temp_c DOUBLE PRECISION NOT NULL,
    humidity_pct DOUBLE PRECISION,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sensor_id, ts)
);
CREATE INDEX readings_ts_brin ON readings USING brin (ts);

-- Drill-down and scope joins walk the registry downwards.
CREATE INDEX regions_parent_idx ON regions (parent_id);
CREATE INDEX enterprises_region_idx ON enterprises (region_id);
CREATE INDEX stations_enterprise_idx ON stations (enterprise_id);
CREATE INDEX communities_region_idx ON communities (region_id);
CREATE INDEX buildings_station_idx ON buildings (station_id);
CREATE INDEX buildings_community_idx ON buildings (community_id);
CREATE INDEX households_building_idx ON households (building_id);
CREATE INDEX sensors_household_idx ON sensors (household_id);
