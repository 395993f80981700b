"""Scheduler jobs of the telemetry package."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nuanliu.telemetry import faults


def fault_detection(store: Any, *, now: datetime, days: int = 1) -> dict[str, Any]:
    """Judge the last ``days`` local days before ``now``, record the faults with their
    evidence, raise/clear their alerts (``monitor.alerts``) and link alerts to faults."""
    from nuanliu.monitor.alerts import evaluate_alerts

    start = now - timedelta(days=days)
    findings = faults.detect(store, start=start, end=now)
    counts = faults.store_findings(store, findings, now=now, start=start)
    faults.ensure_rules(store)
    report = evaluate_alerts(store, now, deliver=False, metrics=("substation_fault",))
    linked = faults.link_alerts(store)
    return {
        "findings": len(findings),
        **counts,
        "alerts_raised": len(report.raised),
        "alerts_cleared": len(report.cleared),
        "linked": linked,
    }
