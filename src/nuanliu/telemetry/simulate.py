"""Telemetry simulator driven by the twin: steady solutions at the outdoor temperature,
realistic noise, and injected faults with ground-truth labels.

The steady solver is run at a few outdoor temperatures spanning the period (warm
started one from the next) and each station's and source's state is interpolated to
every step's outdoor temperature — the twin's *expected* values. The secondary side
follows each station's heating curve (``DEFAULT_CURVE`` unless the site has one) at
constant secondary flow. Measured values are expected values plus noise: white
sensor noise and a slow AR(1) drift per point (controller hunting, sensor drift).

Faults (Gadd & Werner's classes of substation faults) change the measured series from
their start for their duration and are returned as labels:

- ``high_return_temp``: fouled heat exchanger or a secondary short-circuit — primary
  return up by 8–14 K, primary flow up to deliver the same heat;
- ``low_delta_t``: primary supply arrives 10–15 K colder (an upstream bypass mixing
  return into supply), flow up, return normal — ΔT poor though the return is not high;
- ``stuck_valve``: the control valve freezes at its opening: flow and heat stop
  following the load, the secondary supply drifts off the curve;
- ``curve_not_followed``: a wrong controller setting — secondary supply 6–10 K above
  (or below) the curve while the valve keeps moving;
- ``meter_fault``: the heat meter's flow sensor under-reads by 35–60 %: metered flow,
  power and the heat counter all too low, against the secondary-side heat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from nuanliu.telemetry.store import Site

FAULT_CLASSES = (
    "high_return_temp",
    "low_delta_t",
    "stuck_valve",
    "curve_not_followed",
    "meter_fault",
)
DEFAULT_CURVE: list[tuple[float, float]] = [(-20.0, 58.0), (5.0, 38.0), (15.0, 30.0)]
DESIGN_OUTDOOR_C = -20.0
CP_KJ_KG_K = 4.186
RHO_KG_M3 = 970.0
SEC_DT_DESIGN_K = 15.0


@dataclass(frozen=True)
class InjectedFault:
    site_id: str
    fault_class: str
    start: datetime
    end: datetime
    magnitude: float  # class-specific (K, share), see the module docstring


@dataclass
class TwinTable:
    """Per site, expected values at a grid of outdoor temperatures."""

    outdoor_c: np.ndarray
    stations: dict[str, dict[str, np.ndarray]]
    sources: dict[str, dict[str, np.ndarray]]

    def at(self, kind: str, site_id: str, outdoor_c: np.ndarray) -> dict[str, np.ndarray]:
        table = (self.stations if kind == "station" else self.sources)[site_id]
        return {k: np.interp(outdoor_c, self.outdoor_c, v) for k, v in table.items()}


def twin_table(net: object, outdoor_grid_c: Sequence[float]) -> TwinTable:
    """Solve the twin at each outdoor temperature (warm starts) and keep what telemetry
    would show; a state the solver cannot reach is skipped (the grid closes over it)."""
    from nuanliu.sim import compile_network, solve_steady

    cn = compile_network(net)
    grid: list[float] = []
    st_rows: list[pd.DataFrame] = []
    src_rows: list[pd.DataFrame] = []
    warm = None
    for t in sorted(outdoor_grid_c):
        res = solve_steady(cn, outdoor_temp_c=float(t), warm_start=warm, raise_on_failure=False)
        if not res.solved:
            continue
        warm = res
        grid.append(float(t))
        st_rows.append(res.stations.set_index("station_id"))
        src_rows.append(res.sources.set_index("source_id"))
    if not grid:
        raise RuntimeError("the twin found no steady state at any outdoor temperature given")
    stations: dict[str, dict[str, np.ndarray]] = {}
    for sid in st_rows[0].index:
        if st_rows[0].loc[sid, "kind"] != "substation":
            continue
        stations[str(sid)] = {
            "primary_supply_temp_c": np.array([r.loc[sid, "temp_in_c"] for r in st_rows]),
            "primary_return_temp_c": np.array([r.loc[sid, "temp_out_c"] for r in st_rows]),
            "primary_mdot_kg_s": np.array([r.loc[sid, "mdot_kg_s"] for r in st_rows]),
            "heat_kw": np.array([r.loc[sid, "heat_w"] / 1e3 for r in st_rows]),
            "p_from_mpa": np.array([r.loc[sid, "p_from_bar"] / 10 for r in st_rows]),
            "p_to_mpa": np.array([r.loc[sid, "p_to_bar"] / 10 for r in st_rows]),
        }
    sources: dict[str, dict[str, np.ndarray]] = {}
    for sid in src_rows[0].index:
        sources[str(sid)] = {
            "primary_supply_temp_c": np.array([r.loc[sid, "supply_temp_c"] for r in src_rows]),
            "primary_return_temp_c": np.array([r.loc[sid, "return_temp_c"] for r in src_rows]),
            "primary_mdot_kg_s": np.array([r.loc[sid, "mdot_kg_s"] for r in src_rows]),
            "heat_kw": np.array([r.loc[sid, "heat_w"] / 1e3 for r in src_rows]),
            "p_from_mpa": np.array([r.loc[sid, "p_supply_bar"] / 10 for r in src_rows]),
            "p_to_mpa": np.array([r.loc[sid, "p_return_bar"] / 10 for r in src_rows]),
            "pump_power_kw": np.array([r.loc[sid, "pump_power_w"] / 1e3 for r in src_rows]),
        }
    return TwinTable(np.array(grid), stations, sources)


def twin_sites(net: object, twin: TwinTable) -> list[Site]:
    """Telemetry sites for the twin's substations and sources, with design values."""
    stations = net.stations.set_index("station_id")  # type: ignore[attr-defined]
    sites: list[Site] = []
    cold = 0  # the grid's coldest point stands for design
    for sid, vals in twin.stations.items():
        area = stations.loc[sid, "floor_area_m2"] if "floor_area_m2" in stations else None
        name = str(stations.loc[sid, "name"]) if "name" in stations else sid
        sites.append(
            Site(
                sid,
                "station",
                name,
                f"Station {sid}",
                station_id=None,
                network_element_id=sid,
                heated_area_m2=float(area) if area is not None and area == area else None,
                design_heat_kw=float(vals["heat_kw"][cold]),
                design_supply_c=float(vals["primary_supply_temp_c"][cold]),
                design_return_c=float(vals["primary_return_temp_c"][cold]),
                curve=list(DEFAULT_CURVE),
            )
        )
    for sid, vals in twin.sources.items():
        sites.append(
            Site(
                sid,
                "source",
                sid,
                f"Source {sid}",
                network_element_id=sid,
                design_heat_kw=float(vals["heat_kw"][cold]),
                design_supply_c=float(vals["primary_supply_temp_c"][cold]),
                design_return_c=float(vals["primary_return_temp_c"][cold]),
            )
        )
    return sites


def random_faults(
    sites: Sequence[Site],
    start: datetime,
    end: datetime,
    *,
    share: float = 0.3,
    seed: int = 0,
    min_days: int = 2,
    max_days: int = 4,
) -> list[InjectedFault]:
    """About ``share`` of the stations get one fault each, of a random class, starting at
    a random local midnight after the first week (the detectors need history)."""
    rng = np.random.default_rng(seed)
    stations = [s for s in sites if s.kind == "station"]
    n = int(round(share * len(stations)))
    chosen = rng.choice(len(stations), size=min(n, len(stations)), replace=False)
    days = (end - start).days
    out: list[InjectedFault] = []
    for k, idx in enumerate(sorted(chosen)):
        cls = FAULT_CLASSES[k % len(FAULT_CLASSES)]
        dur = int(rng.integers(min_days, max_days + 1))
        first = 7 if days > 7 + dur else 0
        day = int(rng.integers(first, max(first + 1, days - dur + 1)))
        f_start = start + timedelta(days=day)
        mag = {
            "high_return_temp": rng.uniform(8, 14),
            "low_delta_t": rng.uniform(10, 15),
            "stuck_valve": 0.0,
            "curve_not_followed": rng.choice([-1, 1]) * rng.uniform(6, 10),
            "meter_fault": rng.uniform(0.35, 0.6),
        }[cls]
        out.append(
            InjectedFault(stations[idx].site_id, cls, f_start, f_start + timedelta(days=dur), mag)
        )
    return out


def _ar1(rng: np.random.Generator, n: int, sigma: float, rho: float = 0.97) -> np.ndarray:
    e = rng.normal(0.0, sigma * np.sqrt(1 - rho**2), n)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = rho * acc + e[i]
        out[i] = acc
    return out


def simulate(
    twin: TwinTable,
    sites: Sequence[Site],
    times: pd.DatetimeIndex,
    outdoor_c: np.ndarray,
    *,
    faults: Sequence[InjectedFault] = (),
    seed: int = 0,
) -> pa.Table:
    """Measured telemetry (long rows) of ``sites`` at ``times`` (tz-aware, regular)."""
    rng = np.random.default_rng(seed)
    n = len(times)
    step_h = (times[1] - times[0]).total_seconds() / 3600 if n > 1 else 1.0
    t_utc = times.tz_convert("UTC")
    parts: list[pd.DataFrame] = []
    for site in sites:
        if site.kind not in ("station", "source"):
            continue
        exp = twin.at(site.kind, site.network_element_id or site.site_id, outdoor_c)
        sup = exp["primary_supply_temp_c"].copy()
        ret = exp["primary_return_temp_c"].copy()
        heat = exp["heat_kw"].copy()
        flow = exp["primary_mdot_kg_s"] * 3600 / RHO_KG_M3  # m³/h
        vals: dict[str, np.ndarray] = {}
        if site.kind == "station":
            design_flow = max(float(np.max(flow)), 1e-6)
            valve = np.clip(100 * flow / design_flow * 0.85, 0, 100)
            s_sup = site.curve_supply_c(outdoor_c) if site.curve else np.full(n, 55.0)
            design_heat = site.design_heat_kw or float(np.max(heat))
            sec_mdot = design_heat / (CP_KJ_KG_K * SEC_DT_DESIGN_K)  # kg/s, constant flow
            s_ret = s_sup - heat / (sec_mdot * CP_KJ_KG_K)
            meter = np.ones(n)
            for f in faults:
                if f.site_id != site.site_id:
                    continue
                on = np.asarray((t_utc >= f.start) & (t_utc < f.end))
                if f.fault_class == "high_return_temp":
                    new_ret = ret + f.magnitude
                    flow = np.where(on, flow * (sup - ret) / np.maximum(sup - new_ret, 3), flow)
                    ret = np.where(on, new_ret, ret)
                elif f.fault_class == "low_delta_t":
                    new_sup = sup - f.magnitude
                    flow = np.where(on, flow * (sup - ret) / np.maximum(new_sup - ret, 3), flow)
                    sup = np.where(on, new_sup, sup)
                elif f.fault_class == "stuck_valve":
                    k0 = int(np.argmax(on)) if on.any() else 0
                    share = flow[k0] / np.maximum(flow, 1e-9)
                    stuck_heat = heat * np.clip(share, 0.3, 3.0)
                    valve = np.where(on, valve[k0], valve)
                    flow = np.where(on, flow[k0], flow)
                    s_sup = np.where(
                        on, s_sup + (stuck_heat - heat) / (sec_mdot * CP_KJ_KG_K), s_sup
                    )
                    heat = np.where(on, stuck_heat, heat)
                    s_ret = s_sup - heat / (sec_mdot * CP_KJ_KG_K)
                elif f.fault_class == "curve_not_followed":
                    s_sup = np.where(on, s_sup + f.magnitude, s_sup)
                    s_ret = np.where(on, s_ret + f.magnitude, s_ret)
                elif f.fault_class == "meter_fault":
                    meter = np.where(on, 1 - f.magnitude, meter)
            noise_valve = np.where(
                np.isclose(np.diff(valve, prepend=valve[0]), 0), 0.0, rng.normal(0, 0.6, n)
            )
            vals.update(
                {
                    "valve_opening_pct": np.clip(valve + noise_valve, 0, 100),
                    "secondary_supply_temp_c": s_sup + rng.normal(0, 0.2, n) + _ar1(rng, n, 0.4),
                    "secondary_return_temp_c": s_ret + rng.normal(0, 0.2, n) + _ar1(rng, n, 0.3),
                    "secondary_flow_m3_h": sec_mdot
                    * 3600
                    / RHO_KG_M3
                    * (1 + rng.normal(0, 0.01, n)),
                }
            )
        else:
            meter = np.ones(n)
            vals["pump_power_kw"] = exp["pump_power_kw"] * (1 + rng.normal(0, 0.01, n))
        true_heat = flow * RHO_KG_M3 / 3600 * CP_KJ_KG_K * (sup - ret)
        m_flow = flow * meter * (1 + rng.normal(0, 0.01, n))
        m_heat = true_heat * meter * (1 + rng.normal(0, 0.01, n))
        vals.update(
            {
                "primary_supply_temp_c": sup + rng.normal(0, 0.15, n) + _ar1(rng, n, 0.5),
                "primary_return_temp_c": ret + rng.normal(0, 0.15, n) + _ar1(rng, n, 0.5),
                "primary_flow_m3_h": m_flow,
                "primary_heat_kw": m_heat,
                "primary_heat_gj": np.cumsum(np.maximum(m_heat, 0)) * step_h * 0.0036,
                "primary_supply_pressure_mpa": exp["p_from_mpa"] + rng.normal(0, 0.003, n),
                "primary_return_pressure_mpa": exp["p_to_mpa"] + rng.normal(0, 0.003, n),
                "outdoor_temp_c": outdoor_c + rng.normal(0, 0.1, n),
            }
        )
        for point, v in vals.items():
            parts.append(
                pd.DataFrame(
                    {
                        "site_id": site.site_id,
                        "point": point,
                        "ts": t_utc,
                        "value": np.round(v.astype(float), 4),
                    }
                )
            )
    df = pd.concat(parts, ignore_index=True)
    return pa.Table.from_pandas(df, preserve_index=False)


def expected_series(twin: TwinTable, site: Site, outdoor_c: np.ndarray) -> dict[str, np.ndarray]:
    """The twin's expected values for a site at the given outdoor temperatures, named
    like the telemetry points (for the pages: expected beside measured)."""
    if site.network_element_id is None:
        return {}
    kind = site.kind
    table = twin.stations if kind == "station" else twin.sources
    if site.network_element_id not in table:
        return {}
    exp = twin.at(kind, site.network_element_id, outdoor_c)
    out = {
        "primary_supply_temp_c": exp["primary_supply_temp_c"],
        "primary_return_temp_c": exp["primary_return_temp_c"],
        "primary_heat_kw": exp["heat_kw"],
        "primary_flow_m3_h": exp["primary_mdot_kg_s"] * 3600 / RHO_KG_M3,
    }
    if kind == "station" and site.curve:
        out["secondary_supply_temp_c"] = site.curve_supply_c(outdoor_c)
    return out


def save_labels(store: object, labels: Sequence[InjectedFault]) -> None:
    """Keep the injected faults (``tel_sim_faults``) to score detection against."""
    rows = [[f.site_id, f.fault_class, f.start, f.end] for f in labels]
    with store.write() as w:  # type: ignore[attr-defined]
        w.upsert(
            "tel_sim_faults",
            ["site_id", "fault_class", "start_ts", "end_ts"],
            ["site_id", "fault_class", "start_ts"],
            rows,
        )
