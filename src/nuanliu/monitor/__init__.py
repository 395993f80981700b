"""Monitoring: aggregates, compliance, cold/overheated/offline, suspicious data, alerts."""
