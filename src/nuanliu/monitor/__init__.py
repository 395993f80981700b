"""Monitoring: aggregates, compliance, cold/overheated/offline, suspicious data, alerts.

Entry points (all take a store, a ``nuanliu.scope.Scope`` applied through the
``household_context`` view, a time window and options):

- ``open_monitored_store(url)`` / ``register_aggregates(store)`` / ``rebuild_aggregates``;
- ``compliance``, ``drilldown``, ``compliance_trend`` (室温达标率);
- ``cold_homes``, ``overheated_homes``, ``offline_sensors``, ``household_hours``;
- ``suspicious_readings``; ``timeseries``;
- alerts: ``nuanliu.monitor.alerts`` (rules, ``evaluate_alerts``, ``acknowledge``).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nuanliu.monitor.aggregates import (
        open_monitored_store,
        rebuild_aggregates,
        register_aggregates,
        set_monitor_timezone,
    )
    from nuanliu.monitor.compliance import compliance, compliance_trend, drilldown
    from nuanliu.monitor.homes import (
        cold_homes,
        household_hours,
        offline_sensors,
        overheated_homes,
    )
    from nuanliu.monitor.suspicious import SuspiciousOptions, suspicious_readings
    from nuanliu.monitor.timeseries import timeseries

# Names resolve on first use (PEP 562): `nuanliu ingest` needs only the aggregates hook,
# and importing compliance & co. would pull in pandas (~0.2 s of start-up).
_WHERE = {
    "open_monitored_store": "aggregates",
    "rebuild_aggregates": "aggregates",
    "register_aggregates": "aggregates",
    "set_monitor_timezone": "aggregates",
    "compliance": "compliance",
    "compliance_trend": "compliance",
    "drilldown": "compliance",
    "cold_homes": "homes",
    "household_hours": "homes",
    "offline_sensors": "homes",
    "overheated_homes": "homes",
    "SuspiciousOptions": "suspicious",
    "suspicious_readings": "suspicious",
    "timeseries": "timeseries",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(ModuleType):
    """Keeps ``compliance`` and ``timeseries`` the functions once their submodules (of the
    same names) are imported: the import system binds a submodule on its package."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _WHERE.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
