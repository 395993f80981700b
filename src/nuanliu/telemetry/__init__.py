"""Station and source telemetry (SCADA): schema, ingest, aggregates, simulator, faults."""
