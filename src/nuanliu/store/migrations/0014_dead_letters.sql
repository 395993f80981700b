-- Dead letters: messages, requests and file chunks whose processing raised, kept with
-- their exact payload bytes and the error so `nuanliu ingest replay` can re-run them
-- after a fix (docs/ingest.md "Dead letters and replay"). The payload column's type
-- differs (BLOB / BYTEA): it is in 0014_dead_letters.duckdb.sql / .postgresql.sql.
--
-- Quarantine text may hold characters PostgreSQL cannot store (NUL) or that are not
-- encodable (lone surrogates from surrogateescape-decoded bytes). Such a column value
-- is stored escaped (docs/store.md "Quarantine"); `escaped` lists those columns
-- (comma-separated, NULL for none), so the original text can be recovered exactly.
ALTER TABLE quarantine ADD COLUMN escaped TEXT;

CREATE SEQUENCE dead_letter_id_seq;
