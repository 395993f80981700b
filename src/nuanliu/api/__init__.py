"""HTTP API and web dashboard."""
