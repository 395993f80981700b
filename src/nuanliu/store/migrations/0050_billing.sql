-- Metered heat billing (issue 11): heat meters and their readings, tariffs, per-season
-- household terms, billing runs and bills (immutable: a change is a new version), payments
-- and late fees. Money is DECIMAL(14,2) yuan; energy DECIMAL GJ.

CREATE TABLE heat_meters (
    meter_id TEXT PRIMARY KEY,
    household_id TEXT,  -- a household meter, or
    building_id TEXT,   -- a building (bulk) meter
    protocol TEXT NOT NULL CHECK (protocol IN ('mbus', 'cjt188')),
    mbus_primary_address INTEGER,
    mbus_secondary_address TEXT,  -- 8-digit identification number
    cjt188_address TEXT,          -- 14 BCD digits
    make TEXT,
    model TEXT,
    energy_unit TEXT NOT NULL DEFAULT 'GJ',
    installed_on DATE,
    verified_on DATE,
    verification_interval_months INTEGER NOT NULL DEFAULT 60,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'faulty', 'removed'))
);

-- One row per meter read-out; (meter_id, read_at) makes ingest idempotent. ``flags`` holds
-- the plausibility findings (NULL = none); ``billable`` is false when a finding makes the
-- energy untrustworthy (a jump no flow explains): kept, but never billed.
CREATE TABLE meter_readings (
    meter_id TEXT NOT NULL,
    read_at TIMESTAMPTZ NOT NULL,
    energy_gj DECIMAL(18, 6),
    volume_m3 DECIMAL(18, 6),
    power_kw DECIMAL(18, 6),
    flow_m3_h DECIMAL(18, 6),
    supply_temp_c DECIMAL(9, 3),
    return_temp_c DECIMAL(9, 3),
    operating_hours DECIMAL(14, 2),
    meter_clock TIMESTAMPTZ,
    error_flags TEXT,
    flags TEXT,
    billable BOOLEAN NOT NULL DEFAULT TRUE,
    source TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (meter_id, read_at)
);

-- A tariff version applies to seasons starting in [valid_from, valid_to). NULL scope
-- columns match anything; the most specific matching tariff wins.
CREATE TABLE tariffs (
    tariff_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    city_id TEXT,
    enterprise_id TEXT,
    building_type TEXT NOT NULL DEFAULT 'residential',
    valid_from DATE NOT NULL,
    valid_to DATE,
    season_start_md TEXT NOT NULL,  -- 'MM-DD' heating starts (first day)
    season_end_md TEXT NOT NULL,    -- 'MM-DD' heating ends (last day), next year
    area_price_yuan_m2 DECIMAL(10, 2) NOT NULL,
    basic_share DECIMAL(6, 4) NOT NULL,
    energy_price_yuan_gj DECIMAL(10, 2) NOT NULL,
    cap_share DECIMAL(6, 4),
    floor_share DECIMAL(6, 4),
    stopped_share DECIMAL(6, 4) NOT NULL,
    relief_share DECIMAL(6, 4) NOT NULL,
    late_fee_daily_rate DECIMAL(8, 6) NOT NULL,
    advance_due_md TEXT NOT NULL,   -- 'MM-DD' advance bill due (in the start year)
    settlement_due_days INTEGER NOT NULL,
    is_example BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL,
    PRIMARY KEY (tariff_id, version)
);

-- What differs per household and season (no row: heating all season, residential).
CREATE TABLE billing_household_terms (
    household_id TEXT NOT NULL,
    season TEXT NOT NULL,
    building_type TEXT NOT NULL DEFAULT 'residential',
    stopped BOOLEAN NOT NULL DEFAULT FALSE,  -- applied to stop heating (报停)
    connected_on DATE,      -- heating started later than the season
    disconnected_on DATE,   -- heating ended before the season (last heated day)
    low_income BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (household_id, season)
);

CREATE TABLE billing_runs (
    run_id TEXT PRIMARY KEY,
    season TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('advance', 'settlement')),
    issued_on DATE NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    households INTEGER NOT NULL,
    bills_new INTEGER NOT NULL,
    bills_unchanged INTEGER NOT NULL,
    output_sha256 TEXT NOT NULL,
    compensation TEXT NOT NULL  -- 'applied' | 'not connected'
);

-- Bills are written once. A changed input writes version n+1 and leaves version n.
CREATE TABLE bills (
    bill_id TEXT PRIMARY KEY,  -- household:season:kind:vN
    household_id TEXT NOT NULL,
    season TEXT NOT NULL,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    tariff_id TEXT NOT NULL,
    tariff_version INTEGER NOT NULL,
    rule TEXT NOT NULL,         -- area | metered | metered_cap | metered_floor | stopped | estimate_building_mean | estimate_area
    inputs_sha256 TEXT NOT NULL,
    lines TEXT NOT NULL,        -- JSON: the bill's lines, amounts as strings
    total_yuan DECIMAL(14, 2) NOT NULL,
    energy_gj DECIMAL(18, 6),
    issued_on DATE NOT NULL,
    due_on DATE NOT NULL
);

CREATE TABLE billing_payments (
    payment_id TEXT PRIMARY KEY,  -- channel:transaction reference (idempotent import)
    household_id TEXT NOT NULL,
    season TEXT NOT NULL,
    amount_yuan DECIMAL(14, 2) NOT NULL,
    paid_at TIMESTAMPTZ NOT NULL,
    channel TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

-- Late fees accrued per household and season, as of a day (the nightly job's snapshot).
CREATE TABLE billing_late_fees (
    household_id TEXT NOT NULL,
    season TEXT NOT NULL,
    as_of DATE NOT NULL,
    overdue_yuan DECIMAL(14, 2) NOT NULL,
    days_overdue INTEGER NOT NULL,
    late_fee_yuan DECIMAL(14, 2) NOT NULL,
    PRIMARY KEY (household_id, season, as_of)
);
