"""Hydraulic balancing: the least pump head that gives every station its design flow.

At the design state (or any outdoor temperature) the twin gives each station's
available differential pressure. A station needs ``need_bar`` (its ``min_dp_bar``, or
the need of the control-valve group it belongs to) to pass its design flow; what it has
beyond that its control valve burns — pump head bought and thrown away. The
recommendation:

- each ``dp`` control's set-point lowered (or raised) by the smallest margin over the
  stations it serves, so its critical station sits exactly at its need;
- each station's balancing-valve pre-setting: the Kv that burns the station's excess
  at design flow, so that with valves fully open each station takes its design flow
  (``Kv = V̇ / √Δp``, V̇ in m³/h, Δp in bar);
- the expected effect from the twin, solved with the old and the new set-points:
  flows, pump electricity, worst station — shown before the operator applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.sim import solve_steady
from nuanliu.sim.options import SolverOptions

#: a margin below this (bar) is already balanced
TOL_BAR = 0.01


@dataclass
class BalanceResult:
    setpoints: pd.DataFrame  # control_id, current_bar, recommended_bar, critical_id, margin_bar
    valves: pd.DataFrame  # station_id, mdot_kg_s, dp_bar, need_bar, excess_bar, kv_m3_h
    effect: pd.DataFrame  # metric, before, after
    stations: pd.DataFrame  # station_id, flow and Δp before/after
    notes: list[str] = field(default_factory=list)

    @property
    def recommended(self) -> dict[str, float]:
        """control id → recommended set-point (bar), for those that change."""
        ch = self.setpoints[
            (self.setpoints["recommended_bar"] - self.setpoints["current_bar"]).abs() > TOL_BAR
        ]
        return dict(zip(ch["control_id"], ch["recommended_bar"].round(3), strict=True))


def _ids(text: Any) -> list[str]:
    return [t for t in str(text or "").replace(",", " ").split() if t and t != "nan"]


def station_needs(net: Any) -> pd.Series:
    """Δp (bar) each station needs at design flow: its own minimum or its valve group's."""
    st = net.stations.set_index("station_id")
    need = pd.to_numeric(st["min_dp_bar"], errors="coerce").fillna(0.0).astype(float)
    ctl = getattr(net, "controls", None)
    if ctl is not None and len(ctl):
        for _, c in ctl[(ctl["kind"] == "valves") & ctl["enabled"].astype(bool)].iterrows():
            if c["actuator_kind"] != "station":
                continue
            members = _ids(c["actuator_ids"]) or list(st.index)
            need.loc[members] = np.maximum(need.loc[members], float(c["setpoint_bar"]))
    return need


def _served(net: Any, control: pd.Series) -> list[str]:
    ids = _ids(control["measured_ids"])
    if control["measured_kind"] == "station" and ids:
        return ids
    if not ids:  # every station of the network it feeds: the non-isolation stations
        st = net.stations
        plain = st["secondary_supply_junction_id"].fillna("").astype(str) == ""
        return list(st.loc[plain & st["in_service"].astype(bool), "station_id"].astype(str))
    return []


def _metrics(res: Any, need: pd.Series, design_flow: pd.Series) -> dict[str, Any]:
    st = res.stations.set_index("station_id")
    margin = st["dp_bar"] - need.reindex(st.index).fillna(0.0)
    short = st["shortfall_w"] > 1.0
    flow_ratio = st["mdot_kg_s"] / design_flow.reindex(st.index)
    worst = margin.idxmin()
    return {
        "pump_electricity_kw": float(res.summary.get("pump_electricity_w", np.nan)) / 1e3,
        "throttled_dp_mean_bar": float(st["valve_dp_bar"].mean()),
        "worst_station": str(worst),
        "worst_margin_bar": float(margin.min()),
        "stations_short": int(short.sum()),
        "min_flow_share_of_design": float(flow_ratio.min()),
        "status": res.status,
    }


def recommend(
    net: Any, *, outdoor_temp_c: float | None = None, options: SolverOptions | None = None
) -> BalanceResult:
    """Balancing recommendation at ``outdoor_temp_c`` (default: the design temperature)."""
    opts = options or SolverOptions(raise_on_failure=False)
    ctl = getattr(net, "controls", None)
    if ctl is None or not len(ctl):
        raise InvalidInput("balancing needs a network with controls (dp set-points to tune)")
    t_out = (
        float(net.meta.get("design_outdoor_temp_c", opts.design_outdoor_temp_c))
        if outdoor_temp_c is None
        else outdoor_temp_c
    )
    need = station_needs(net)
    before = solve_steady(net, outdoor_temp_c=t_out, options=opts)
    if not before.solved:
        raise InvalidInput(f"balancing: the network does not solve at {t_out} °C ({before.status})")
    st = before.stations.set_index("station_id")
    rows = []
    for _, c in ctl[(ctl["kind"] == "dp") & ctl["enabled"].astype(bool)].iterrows():
        served = [s for s in _served(net, c) if s in st.index]
        if not served:
            continue
        margin = st.loc[served, "dp_bar"] - need.reindex(served).fillna(0.0)
        crit = str(margin.idxmin())
        cur = float(c["setpoint_bar"])
        rows.append(
            {
                "control_id": str(c["control_id"]),
                "current_bar": cur,
                "recommended_bar": max(cur - float(margin.min()), 0.0),
                "critical_id": crit,
                "margin_bar": float(margin.min()),
            }
        )
    setpoints = pd.DataFrame(
        rows, columns=["control_id", "current_bar", "recommended_bar", "critical_id", "margin_bar"]
    )
    result = BalanceResult(setpoints, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    new_net = apply_setpoints(net, result.recommended)
    after = solve_steady(new_net, outdoor_temp_c=t_out, options=opts, warm_start=before)
    if not after.solved:
        result.notes.append(
            f"the twin does not solve with the new set-points ({after.status});"
            " keep the current ones"
        )
    design_flow = st["mdot_kg_s"]
    ast = after.stations.set_index("station_id")
    excess = (ast["dp_bar"] - need.reindex(ast.index).fillna(0.0)).clip(lower=0.0)
    vol_m3_h = ast["mdot_kg_s"] / 960.0 * 3600.0
    with np.errstate(divide="ignore"):
        kv = np.where(excess > TOL_BAR, vol_m3_h / np.sqrt(excess), np.inf)
    result.valves = pd.DataFrame(
        {
            "station_id": ast.index,
            "mdot_kg_s": ast["mdot_kg_s"].to_numpy(),
            "dp_bar": ast["dp_bar"].to_numpy(),
            "need_bar": need.reindex(ast.index).fillna(0.0).to_numpy(),
            "excess_bar": excess.to_numpy(),
            "kv_m3_h": kv,  # inf: the valve stays fully open (critical station)
        }
    )
    mb, ma = _metrics(before, need, design_flow), _metrics(after, need, design_flow)
    result.effect = pd.DataFrame(
        {"metric": list(mb), "before": list(mb.values()), "after": list(ma.values())}
    )
    result.stations = pd.DataFrame(
        {
            "station_id": st.index,
            "mdot_before_kg_s": st["mdot_kg_s"].to_numpy(),
            "mdot_after_kg_s": ast["mdot_kg_s"].reindex(st.index).to_numpy(),
            "dp_before_bar": st["dp_bar"].to_numpy(),
            "dp_after_bar": ast["dp_bar"].reindex(st.index).to_numpy(),
        }
    )
    if (setpoints["margin_bar"] < -TOL_BAR).any():
        result.notes.append("some stations were below their need: set-points raised to reach them")
    return result


def apply_setpoints(net: Any, setpoints: dict[str, float]) -> Any:
    """A copy of ``net`` with the given dp set-points (control id → bar)."""
    out = net.copy()
    ctl = out.controls.copy()
    unknown = sorted(set(setpoints) - set(ctl["control_id"].astype(str)))
    if unknown:
        raise InvalidInput(f"unknown control id(s) {unknown}")
    for cid, v in setpoints.items():
        ctl.loc[ctl["control_id"] == cid, "setpoint_bar"] = float(v)
    out.controls = ctl
    return out
