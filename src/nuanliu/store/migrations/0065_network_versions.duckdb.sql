-- Versions of network models (the twin): every calibration or edit adds a version, none
-- is ever overwritten. `network` holds the whole model as a Nuanliu network Parquet
-- file (nuanliu.network.io.parquet), `params` what changed as JSON (e.g. fitted
-- multipliers and the fit before/after). The blob type differs per engine
-- (BLOB / BYTEA), hence one file per engine.
CREATE TABLE network_versions (
    network_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    parent_version INTEGER,
    created_at TIMESTAMPTZ NOT NULL,
    origin TEXT NOT NULL,  -- import | calibration | edit
    note TEXT,
    params TEXT,  -- JSON
    network BLOB NOT NULL,
    PRIMARY KEY (network_name, version)
);
