-- The members of each MQTT ingest group (shared subscription), one row per session
-- identity: a live worker refreshes last_seen every few seconds; a peer that finds a
-- member silent for longer than the orphan timeout claims it (state running/draining ->
-- draining, adopted_by = the claimant) with one conditional UPDATE, drains its broker
-- session and marks it left. state: running | draining | left.
CREATE TABLE ingest_members (
    group_name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subscription TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    adopted_by TEXT,
    PRIMARY KEY (group_name, client_id)
);
