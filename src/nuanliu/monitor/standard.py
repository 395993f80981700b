"""The standard the platform reports against, defined once (docs/monitoring.md,
"One definition per number"): a household's status, the compliance target, its colour
band. Badges, lists, counts, KPIs and alert rules all use these functions.

A household's **status** on a local day is decided by its daily mean — the same fact
that decides compliance:

- ``offline``: no reading that day (it does not report);
- ``cold``: daily mean below the cold limit (16 °C);
- ``overheated``: daily mean above the overheat limit (24 °C);
- ``ok``: daily mean at or above its standard (compliant);
- ``low``: below its standard but not cold (not compliant).

So the compliant households are ``ok`` + ``overheated``, the reporting ones all but
``offline``, and the counts of a unit are the counts of its households' statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DEFAULT_TARGET_PCT = 98.0
# Below the target but within this many points: a warning colour, not an alarm.
WARN_BAND_PCT = 8.0
STATUSES = ("offline", "cold", "low", "overheated", "ok")


def household_status(fact: dict[str, Any]) -> str:
    """Status from one household's compliance row (``drilldown(..., 'household')``)."""
    if not int(fact.get("reporting_households") or 0):
        return "offline"
    if int(fact.get("cold_households") or 0):
        return "cold"
    if int(fact.get("overheated_households") or 0):
        return "overheated"
    return "ok" if int(fact.get("compliant_households") or 0) else "low"


def compliance_targets(store: Any) -> dict[str, float]:
    """``{region_id: target %}`` as configured (empty when none is)."""
    try:
        with store.read() as q:
            rows = q.all("SELECT region_id, compliance_target_pct FROM mon_compliance_targets", [])
    except Exception:  # migration 0080 not applied (an older store): the default holds
        return {}
    return {str(r): float(p) for r, p in rows}


def target_pct(store: Any, region_ids: Iterable[str | None]) -> float:
    """The target of the first of ``region_ids`` (city first, then region) that has one."""
    targets = compliance_targets(store)
    for rid in region_ids:
        if rid is not None and str(rid) in targets:
            return targets[str(rid)]
    return DEFAULT_TARGET_PCT


def set_compliance_target(store: Any, region_id: str, target: float) -> None:
    """Configure a city's (or region's) compliance target in percent (0–100)."""
    from nuanliu.errors import InvalidInput

    if not 0.0 <= float(target) <= 100.0:
        raise InvalidInput(
            f"compliance target of {region_id}: {target} is not a percentage 0–100",
            details={"region_id": region_id, "field": "compliance_target_pct"},
        )
    with store.write() as w:
        w.execute("DELETE FROM mon_compliance_targets WHERE region_id = ?", [region_id])
        w.execute(
            "INSERT INTO mon_compliance_targets (region_id, compliance_target_pct) VALUES (?, ?)",
            [region_id, float(target)],
        )


def rate_band(rate_pct: float | None, target: float = DEFAULT_TARGET_PCT) -> str:
    """``good`` at or above the target, ``warn`` within the warning band, else ``bad``."""
    if rate_pct is None or rate_pct != rate_pct:
        return "none"
    if rate_pct >= target:
        return "good"
    return "warn" if rate_pct >= target - WARN_BAND_PCT else "bad"
