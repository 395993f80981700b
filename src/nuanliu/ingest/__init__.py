"""Ingest: transports that validate readings and hand them to the one writer."""
