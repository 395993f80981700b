-- Whether each MQTT ingest worker's broker connection was up at its last heartbeat
-- (NULL: not reported yet). The readiness check and the metrics read it.
ALTER TABLE ingest_members ADD COLUMN broker_connected BOOLEAN;
