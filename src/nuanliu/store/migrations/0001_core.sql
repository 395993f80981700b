-- Registry, readings and quarantine: the tables of docs/interfaces.md §3.
-- Portable SQL (runs on DuckDB and PostgreSQL); engine-specific parts are in
-- 0001_core.duckdb.sql / 0001_core.postgresql.sql. Parent references are checked by the
-- registry on import rather than by FOREIGN KEY constraints, because DuckDB's
-- constraints turn upserts of referenced rows into errors.

CREATE TABLE regions (
    region_id TEXT PRIMARY KEY,
    parent_id TEXT,
    level TEXT NOT NULL CHECK (level IN ('region', 'city', 'county')),
    name_zh TEXT NOT NULL,
    name_en TEXT,
    standard_temp_c DOUBLE PRECISION  -- NULL: inherit from the parent (default 18 °C)
);

CREATE TABLE enterprises (
    enterprise_id TEXT PRIMARY KEY,
    region_id TEXT NOT NULL,  -- the city that licensed it
    name_zh TEXT NOT NULL,
    name_en TEXT,
    licence_no TEXT
);

CREATE TABLE stations (
    station_id TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL,
    region_id TEXT NOT NULL,  -- county or city
    name_zh TEXT NOT NULL,
    name_en TEXT,
    network_station_id TEXT,  -- station_id in the network model, if modelled
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION
);

CREATE TABLE communities (
    community_id TEXT PRIMARY KEY,
    region_id TEXT NOT NULL,  -- county (or city)
    name_zh TEXT NOT NULL,
    name_en TEXT,
    enterprise_steward_name TEXT,
    enterprise_steward_phone TEXT,
    government_steward_name TEXT,
    government_steward_phone TEXT
);

CREATE TABLE buildings (
    building_id TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    address TEXT,
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    floors INTEGER,
    year_built INTEGER
);

CREATE TABLE households (
    household_id TEXT PRIMARY KEY,
    building_id TEXT NOT NULL,
    address TEXT,
    floor_area_m2 DOUBLE PRECISION,
    metered BOOLEAN NOT NULL DEFAULT FALSE,
    resident_name TEXT,
    resident_phone TEXT
);

CREATE TABLE sensors (
    sensor_id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    room TEXT,
    model TEXT,
    installed_at TIMESTAMPTZ
);

CREATE SEQUENCE quarantine_id_seq;

CREATE TABLE quarantine (
    quarantine_id BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id_seq'),
    received_at TIMESTAMPTZ NOT NULL,
    source TEXT NOT NULL,  -- file:readings.csv:17, mqtt:nuanliu/v1/readings/gw1, http
    sensor_id TEXT,
    ts_text TEXT,
    raw TEXT,
    reason TEXT NOT NULL
);

-- One row per household with its whole chain. A household's county, city and region
-- come from its community; the effective standard temperature is the nearest one set
-- on county, city or region, else 18 °C.
CREATE VIEW household_context AS
SELECT
    h.household_id,
    h.building_id,
    b.station_id,
    s.enterprise_id,
    b.community_id,
    CASE WHEN r0.level = 'county' THEN r0.region_id END AS county_id,
    CASE
        WHEN r0.level = 'city' THEN r0.region_id
        WHEN r1.level = 'city' THEN r1.region_id
    END AS city_id,
    CASE
        WHEN r0.level = 'region' THEN r0.region_id
        WHEN r1.level = 'region' THEN r1.region_id
        WHEN r2.level = 'region' THEN r2.region_id
    END AS region_id,
    COALESCE(r0.standard_temp_c, r1.standard_temp_c, r2.standard_temp_c, 18.0)
        AS standard_temp_c
FROM households h
LEFT JOIN buildings b ON b.building_id = h.building_id
LEFT JOIN stations s ON s.station_id = b.station_id
LEFT JOIN communities c ON c.community_id = b.community_id
LEFT JOIN regions r0 ON r0.region_id = c.region_id
LEFT JOIN regions r1 ON r1.region_id = r0.parent_id
LEFT JOIN regions r2 ON r2.region_id = r1.parent_id;
