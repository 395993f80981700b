-- control: versioned forecast models, stored forecasts, proposed schedules and the
-- daily shadow comparison of schedule and heating curve.

CREATE TABLE ctl_forecast_models (
    model_id TEXT PRIMARY KEY,  -- content hash of what was trained (version)
    site_id TEXT NOT NULL,  -- a station id, a source id or a user's series name
    trained_until TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    days_ahead TEXT NOT NULL,  -- bands, e.g. "1 2 3 4 5 6 7"
    weather BOOLEAN NOT NULL,
    train_hours INTEGER NOT NULL,
    notes TEXT NOT NULL,  -- what cleaning did (JSON list of messages)
    blob BYTEA NOT NULL
);
CREATE INDEX ctl_forecast_models_site ON ctl_forecast_models (site_id, created_at);

-- forecast_kw NULL never: a hour without a forecast is not stored; fallback says how
-- a stored one was made ('' model, 'no_weather', 'design_degree_hour').
CREATE TABLE ctl_forecasts (
    site_id TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,  -- the origin: what was known then
    ts TIMESTAMPTZ NOT NULL,
    model_id TEXT NOT NULL,
    days_ahead INTEGER NOT NULL,
    forecast_kw DOUBLE PRECISION NOT NULL,
    fallback TEXT NOT NULL,
    PRIMARY KEY (site_id, issued_at, ts)
);

-- status: proposed | accepted | edited | rejected | shadow
CREATE TABLE ctl_schedules (
    schedule_id TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    enterprise_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    start_ts TIMESTAMPTZ NOT NULL,
    hours INTEGER NOT NULL,
    status TEXT NOT NULL,
    cost_json TEXT NOT NULL,  -- the schedule's cost breakdown
    curve_cost_json TEXT NOT NULL,  -- the heating curve's over the same hours
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    note TEXT
);

CREATE TABLE ctl_schedule_hours (
    schedule_id TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    supply_point TEXT NOT NULL,
    proposed_c DOUBLE PRECISION NOT NULL,
    curve_c DOUBLE PRECISION NOT NULL,
    edited_c DOUBLE PRECISION,  -- the operator's value where edited
    heat_mw DOUBLE PRECISION,
    forecast_mw DOUBLE PRECISION,
    PRIMARY KEY (schedule_id, ts, supply_point)
);

CREATE TABLE ctl_shadow_days (
    day DATE NOT NULL,  -- Asia/Shanghai local day
    network TEXT NOT NULL,
    schedule_id TEXT NOT NULL,
    schedule_cost_yuan DOUBLE PRECISION NOT NULL,
    curve_cost_yuan DOUBLE PRECISION NOT NULL,
    schedule_heat_mwh DOUBLE PRECISION NOT NULL,
    curve_heat_mwh DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (day, network)
);

-- Hourly heat per site the forecaster trains on, until the telemetry package's table
-- takes over (nuanliu.control.store.HISTORY_SQL is the one place that reads it).
CREATE TABLE ctl_load_history (
    site_id TEXT NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    heat_kw DOUBLE PRECISION,  -- NULL: the meter sent nothing usable for that hour
    outdoor_temp_c DOUBLE PRECISION,
    PRIMARY KEY (site_id, ts)
);
