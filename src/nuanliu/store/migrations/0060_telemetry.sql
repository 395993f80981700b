-- Station and source telemetry (nuanliu.telemetry): sites, the long table of values,
-- maintained hourly and daily aggregates, detected faults and the simulator's labels.
-- The values table is per engine (0060_telemetry.duckdb.sql / .postgresql.sql).

-- A site reports telemetry: a heat source, a heat-exchange station or a pump.
-- station_id links a station site to the registry; network_element_id to the twin.
-- curve_json: the secondary supply heating curve, [[outdoor_c, supply_c], ...].
CREATE TABLE tel_sites (
    site_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('source', 'station', 'pump')),
    name_zh TEXT NOT NULL,
    name_en TEXT,
    station_id TEXT,
    network_element_id TEXT,
    heated_area_m2 DOUBLE PRECISION,
    design_heat_kw DOUBLE PRECISION,
    design_supply_c DOUBLE PRECISION,
    design_return_c DOUBLE PRECISION,
    curve_json TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

-- Per site, point and UTC hour; first/last carry counters (cumulative heat) across.
CREATE TABLE tel_hourly (
    site_id TEXT NOT NULL,
    point TEXT NOT NULL,
    hour_ts TIMESTAMPTZ NOT NULL,
    n BIGINT NOT NULL,
    sum_value DOUBLE PRECISION NOT NULL,
    min_value DOUBLE PRECISION NOT NULL,
    max_value DOUBLE PRECISION NOT NULL,
    first_ts TIMESTAMPTZ NOT NULL,
    first_value DOUBLE PRECISION NOT NULL,
    last_ts TIMESTAMPTZ NOT NULL,
    last_value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (site_id, point, hour_ts)
);

-- Per site, point and local day (Asia/Shanghai).
CREATE TABLE tel_daily (
    site_id TEXT NOT NULL,
    point TEXT NOT NULL,
    local_day DATE NOT NULL,
    n BIGINT NOT NULL,
    sum_value DOUBLE PRECISION NOT NULL,
    min_value DOUBLE PRECISION NOT NULL,
    max_value DOUBLE PRECISION NOT NULL,
    first_ts TIMESTAMPTZ NOT NULL,
    first_value DOUBLE PRECISION NOT NULL,
    last_ts TIMESTAMPTZ NOT NULL,
    last_value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (site_id, point, local_day)
);

CREATE SEQUENCE tel_fault_seq START 1;

-- One row per fault found by a detection run; open while the latest run still finds it.
-- evidence_json: the hourly series (and thresholds) the finding rests on.
CREATE TABLE tel_faults (
    fault_id BIGINT PRIMARY KEY DEFAULT nextval('tel_fault_seq'),
    site_id TEXT NOT NULL,
    fault_class TEXT NOT NULL,
    first_detected_at TIMESTAMPTZ NOT NULL,
    last_detected_at TIMESTAMPTZ NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    window_end TIMESTAMPTZ NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    is_open BOOLEAN NOT NULL,
    alert_id BIGINT
);
CREATE INDEX tel_faults_site_idx ON tel_faults (site_id, fault_class);

-- Ground truth of faults the simulator injected (for precision / recall).
CREATE TABLE tel_sim_faults (
    site_id TEXT NOT NULL,
    fault_class TEXT NOT NULL,
    start_ts TIMESTAMPTZ NOT NULL,
    end_ts TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, fault_class, start_ts)
);
