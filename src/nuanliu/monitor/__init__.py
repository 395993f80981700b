"""Monitoring: aggregates, compliance, cold/overheated/offline, suspicious data, alerts.

Entry points (all take a store, a ``nuanliu.scope.Scope`` applied through the
``household_context`` view, a time window and options):

- ``open_monitored_store(url)`` / ``register_aggregates(store)`` / ``rebuild_aggregates``;
- ``compliance``, ``drilldown``, ``compliance_trend`` (室温达标率);
- ``cold_homes``, ``overheated_homes``, ``offline_sensors``, ``household_hours``;
- ``suspicious_readings``; ``timeseries``;
- alerts: ``nuanliu.monitor.alerts`` (rules, ``evaluate_alerts``, ``acknowledge``).
"""

from nuanliu.monitor.aggregates import (
    open_monitored_store,
    rebuild_aggregates,
    register_aggregates,
    set_monitor_timezone,
)
from nuanliu.monitor.compliance import compliance, compliance_trend, drilldown
from nuanliu.monitor.homes import cold_homes, household_hours, offline_sensors, overheated_homes
from nuanliu.monitor.suspicious import SuspiciousOptions, suspicious_readings
from nuanliu.monitor.timeseries import timeseries

__all__ = [
    "SuspiciousOptions",
    "cold_homes",
    "compliance",
    "compliance_trend",
    "drilldown",
    "household_hours",
    "offline_sensors",
    "open_monitored_store",
    "overheated_homes",
    "rebuild_aggregates",
    "register_aggregates",
    "set_monitor_timezone",
    "suspicious_readings",
    "timeseries",
]
