-- The exact bytes of a quarantined input whose text cannot show them (e.g. a line
-- that is not valid in its encoding); NULL when ``raw`` is the input itself.
ALTER TABLE quarantine ADD COLUMN raw_bytes BYTEA;

CREATE TABLE dead_letters (
    dead_letter_id BIGINT PRIMARY KEY DEFAULT nextval('dead_letter_id_seq'),
    received_at TIMESTAMPTZ NOT NULL,
    transport TEXT NOT NULL,  -- mqtt | http | file | python
    source TEXT NOT NULL,  -- mqtt:<topic>, http:<user>, file:<name>:<line>
    content_type TEXT,  -- how replay parses the payload (application/json, text/csv ...)
    payload BYTEA NOT NULL,  -- the bytes exactly as received
    error_type TEXT NOT NULL,
    error_message TEXT NOT NULL,
    traceback TEXT,  -- a summary: the innermost frames
    attempts INTEGER NOT NULL,  -- 1 + failed replays
    last_attempt_at TIMESTAMPTZ NOT NULL,
    replayed_at TIMESTAMPTZ,  -- NULL until a replay succeeded
    replay_result TEXT  -- the successful replay's report, as JSON
);
CREATE INDEX dead_letters_pending ON dead_letters (received_at) WHERE replayed_at IS NULL;
