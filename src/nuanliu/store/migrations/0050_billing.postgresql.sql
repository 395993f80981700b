-- Lookups of one household's bills and payments (PostgreSQL). DuckDB scans these
-- columns fast without an index, and an ART index would slow the million-row inserts
-- of a billing run.
CREATE INDEX bills_household ON bills (household_id, season, kind, version);
CREATE INDEX billing_payments_household ON billing_payments (household_id, season);
