-- PostgreSQL keeps the unique keys of the monitoring aggregates: its merges use
-- INSERT ... ON CONFLICT, which needs them (DuckDB drops them in its variant).
SELECT 1;
