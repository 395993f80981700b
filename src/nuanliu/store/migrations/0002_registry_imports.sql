-- Sensors can be retired without losing their readings, and every registry import is
-- logged (what came in, from where, with how many rows stored and refused).
ALTER TABLE sensors ADD COLUMN decommissioned_at TIMESTAMPTZ;

CREATE SEQUENCE registry_import_id_seq;

CREATE TABLE registry_imports (
    import_id BIGINT PRIMARY KEY DEFAULT nextval('registry_import_id_seq'),
    imported_at TIMESTAMPTZ NOT NULL,
    source TEXT NOT NULL,  -- file name, or "upload"
    kinds TEXT NOT NULL,  -- comma-separated kinds found
    stored INTEGER NOT NULL,
    refused INTEGER NOT NULL
);
