"""What the station and source pages (and the series API) show over a time range:
hourly measured values, ΔT, the heating curve's set-point at the measured outdoor
temperature, heat energy and energy per m² (GJ/m², 单耗), and the twin's expected
values at the same outdoor temperatures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.telemetry.faults import hourly_frame
from nuanliu.telemetry.store import Site


@dataclass
class StationView:
    hours: list[str]
    measured: dict[str, list[float | None]]
    expected: dict[str, list[float | None]] = field(default_factory=dict)
    heat_gj: float | None = None
    gj_per_m2: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "hours": self.hours,
            "measured": self.measured,
            "expected": self.expected,
            "heat_gj": self.heat_gj,
            "gj_per_m2": self.gj_per_m2,
        }


def _clean(values: Any) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 3) for v in np.asarray(values, float)]


@lru_cache(maxsize=2)
def _demo_twin() -> Any:
    """The example twin's expected-value table (solved once per process)."""
    from nuanliu.network.examples.tuoketuo import build_tuoketuo_hohhot
    from nuanliu.telemetry.simulate import twin_table

    return twin_table(build_tuoketuo_hohhot(), [-24, -12, 0, 8])


def station_view(
    store: Any, site: Site, start: datetime, end: datetime, *, with_twin: bool = True
) -> StationView:
    frame = hourly_frame(store, [site.site_id], start, end)
    if frame.empty:
        return StationView([], {})
    frame = frame.sort_values("hour_ts")
    measured = {c: _clean(frame[c]) for c in frame.columns if c not in ("site_id", "hour_ts")}
    if "primary_supply_temp_c" in frame and "primary_return_temp_c" in frame:
        measured["primary_delta_t_k"] = _clean(
            frame["primary_supply_temp_c"] - frame["primary_return_temp_c"]
        )
    if "secondary_supply_temp_c" in frame and "secondary_return_temp_c" in frame:
        measured["secondary_delta_t_k"] = _clean(
            frame["secondary_supply_temp_c"] - frame["secondary_return_temp_c"]
        )
    expected: dict[str, list[float | None]] = {}
    outdoor = frame["outdoor_temp_c"].to_numpy(float) if "outdoor_temp_c" in frame else None
    if outdoor is not None and site.curve:
        expected["curve_supply_c"] = _clean(site.curve_supply_c(outdoor))
    if with_twin and outdoor is not None and site.network_element_id:
        from nuanliu.telemetry.simulate import expected_series

        try:
            twin = _demo_twin()
        except Exception:  # the twin cannot be solved here: show the measurements only
            twin = None
        if twin is not None:
            ok = np.where(np.isfinite(outdoor), outdoor, np.nanmean(outdoor))
            for k, v in expected_series(twin, site, ok).items():
                expected[f"twin_{k}"] = _clean(v)
    heat_gj = _heat_gj(frame)
    per_m2 = heat_gj / site.heated_area_m2 if heat_gj is not None and site.heated_area_m2 else None
    return StationView(
        [pd.Timestamp(t).isoformat() for t in frame["hour_ts"]],
        measured,
        expected,
        heat_gj,
        per_m2,
    )


def _heat_gj(frame: pd.DataFrame) -> float | None:
    """Heat over the range: the counter's rise if there is one, else the power integral."""
    if "primary_heat_gj" in frame and frame["primary_heat_gj"].notna().sum() >= 2:
        c = frame["primary_heat_gj"].dropna()
        rise = float(c.iloc[-1] - c.iloc[0])
        if rise >= 0:
            return rise
    if "primary_heat_kw" in frame and frame["primary_heat_kw"].notna().any():
        return float(np.nansum(frame["primary_heat_kw"].to_numpy(float)) * 0.0036)
    return None
