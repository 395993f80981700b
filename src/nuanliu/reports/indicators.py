"""Sensor coverage and online rate per enterprise (the numbers the brief, the findings
and the evaluation share; compliance itself is ``nuanliu.monitor``'s).

- coverage = households with at least one sensor in service at ``as_of`` / households;
- online rate = 1 − offline sensors / sensors in service, where "offline" is
  ``nuanliu.monitor``'s definition (no reading during the ``offline_after`` before
  ``as_of``), counted by ``drilldown``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from nuanliu.scope import Scope

_SENSORS_SQL = """
SELECT hc.enterprise_id,
       COUNT(DISTINCT hc.household_id) AS households,
       COUNT(DISTINCT s.household_id) AS households_with_sensor,
       COUNT(s.sensor_id) AS sensors
FROM household_context hc
LEFT JOIN sensors s ON s.household_id = hc.household_id
     AND (s.installed_at IS NULL OR s.installed_at <= ?)
     AND (s.decommissioned_at IS NULL OR s.decommissioned_at > ?)
WHERE {cond}
GROUP BY hc.enterprise_id
"""


def coverage(store: Any, scope: Scope, as_of: datetime, offline: pd.DataFrame) -> pd.DataFrame:
    """Per enterprise: ``enterprise_id, households, households_with_sensor, coverage,
    sensors, offline_sensors, online_rate``; ``offline`` is the enterprise level of a
    ``drilldown`` (its ``unit_id`` and ``offline_sensors`` columns)."""
    cond, params = scope.where("hc")
    with store.read() as q:
        df = q.df(_SENSORS_SQL.format(cond=cond), [as_of, as_of, *params])
    df = df[df["enterprise_id"].notna()].copy()
    for col in ("households", "households_with_sensor", "sensors"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype("int64")
    off = offline[["unit_id", "offline_sensors"]].rename(columns={"unit_id": "enterprise_id"})
    df = df.merge(off, on="enterprise_id", how="left")
    df["offline_sensors"] = df["offline_sensors"].fillna(0).astype("int64")
    df["coverage"] = df["households_with_sensor"] / df["households"].where(df["households"] > 0)
    df["online_rate"] = 1.0 - df["offline_sensors"] / df["sensors"].where(df["sensors"] > 0)
    return df.sort_values("enterprise_id").reset_index(drop=True)
