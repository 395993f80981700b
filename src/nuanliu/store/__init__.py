"""Persistence: one schema, two engines (DuckDB embedded, PostgreSQL server)."""
