-- Nothing to do on DuckDB: zone maps on insertion order prune the aggregates by time,
-- and an ART index would only slow the additive upserts down.
SELECT 1;
