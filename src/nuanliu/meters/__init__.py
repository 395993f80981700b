"""Heat meters: registry, M-Bus and CJ/T 188 decoding, reading ingest, plausibility."""
