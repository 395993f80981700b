"""Replay a measured pipe test through the plug-flow model and score it.

A series gives time, mass flow and inlet temperature, and optionally measured
temperatures at the end of each pipe of a chain (the ULg bench: one 39 m pipe). The
model (:mod:`nuanliu.sim.pipe_transport`) is stepped between consecutive samples with
the mean flow and mean inlet temperature of the interval; its mean outlet temperature
over an interval is placed at the interval's middle and interpolated to the sample
times. Scores per measured point: RMSE, mean error (model − measured), worst error,
worst error at the arrival front and the front's arrival-time error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.physics.water import WATER, WaterProperties
from nuanliu.sim.pipe_transport import (
    STEEL_CP_J_KG_K,
    STEEL_DENSITY_KG_M3,
    PlugFlowPipes,
    wall_heat_capacity_j_per_m_k,
)

#: Column names of the ULg bench files (van der Heijde et al. 2017).
ULG_COLUMNS = {
    "time": "time_s",
    "flow": "m_flow_kg_per_s",
    "inlet": "T_water_in_C",
    "outlets": ("T_water_out_C",),
    # wall thermocouples near the inlet and near the outlet (151202 logs 0: not fitted)
    "walls": ("T_pipe_in_C", "T_pipe_out_C"),
}


@dataclass(frozen=True)
class PipeSegment:
    """One pipe of a tested chain (SI units)."""

    length_m: float
    inner_diameter_m: float
    wall_thickness_m: float
    insulation_thickness_m: float
    insulation_conductivity_w_m_k: float = 0.04
    outer_surface_w_m2_k: float = 5.0
    wall_density_kg_m3: float = STEEL_DENSITY_KG_M3
    wall_cp_j_kg_k: float = STEEL_CP_J_KG_K
    #: only the resolved bench model (:mod:`nuanliu.sim.pipe_resolved`) uses these three:
    #: carbon steel ~50 W/(m·K); polyethylene foam insulation (e.g. Armacell Tubolit, the
    #: ULg bench's) ~30 kg/m³ of PE at ~2000 J/(kg·K)
    wall_conductivity_w_m_k: float = 50.0
    insulation_density_kg_m3: float = 30.0
    insulation_cp_j_kg_k: float = 2000.0

    def __post_init__(self) -> None:
        for name in (
            "length_m",
            "inner_diameter_m",
            "insulation_conductivity_w_m_k",
            "wall_conductivity_w_m_k",
        ):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise InvalidInput(f"pipe segment: {name} must be > 0, got {v!r}")
        for name in (
            "wall_thickness_m",
            "insulation_thickness_m",
            "outer_surface_w_m2_k",
            "insulation_density_kg_m3",
            "insulation_cp_j_kg_k",
        ):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise InvalidInput(f"pipe segment: {name} must be ≥ 0, got {v!r}")

    @property
    def u_w_per_m_k(self) -> float:
        """Heat-loss coefficient per metre: insulation plus outer surface in series."""
        r_o = 0.5 * self.inner_diameter_m + self.wall_thickness_m
        r_i = r_o + self.insulation_thickness_m
        r = np.log(r_i / r_o) / (2 * np.pi * self.insulation_conductivity_w_m_k)
        if self.outer_surface_w_m2_k > 0:
            r += 1.0 / (self.outer_surface_w_m2_k * 2 * np.pi * r_i)
        return float(1.0 / r)

    @property
    def wall_capacity_j_m_k(self) -> float:
        return float(
            wall_heat_capacity_j_per_m_k(
                self.inner_diameter_m,
                self.wall_thickness_m,
                self.wall_density_kg_m3,
                self.wall_cp_j_kg_k,
            )
        )


@dataclass
class PipeTestResult:
    """Modelled against measured temperatures and the scores per measured point."""

    series: pd.DataFrame  # time_s, inlet, and per point measured_<i>, modelled_<i>
    scores: pd.DataFrame  # one row per measured point


def read_series(
    path: str,
    *,
    time_col: str | None = None,
    flow_col: str | None = None,
    inlet_col: str | None = None,
    outlet_cols: Sequence[str] | None = None,
    wall_cols: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Read a test CSV into columns time_s, mdot_kg_s, inlet_c, the measured points
    ``measured_<i>`` and the wall readings ``wall_<j>`` (j = 0 at the chain's inlet,
    j = i + 1 at the end of segment i; they set the initial state, see
    :func:`start_profile_c`).

    Defaults are the ULg bench's column names (its wall columns are used when present);
    missing columns raise :class:`InvalidInput` naming them. A wall column that reads 0
    throughout is a thermocouple that was not logged and is left out.
    """
    df = pd.read_csv(path)
    time_col = time_col or ULG_COLUMNS["time"]
    flow_col = flow_col or ULG_COLUMNS["flow"]
    inlet_col = inlet_col or ULG_COLUMNS["inlet"]
    if outlet_cols is None:
        outlet_cols = [c for c in ULG_COLUMNS["outlets"] if c in df.columns]
    missing = [c for c in (time_col, flow_col, inlet_col, *outlet_cols) if c not in df.columns]
    if missing:
        raise InvalidInput(
            f"{path}: column(s) {', '.join(missing)} not found (have {', '.join(df.columns)})"
        )
    out = pd.DataFrame(
        {
            "time_s": pd.to_numeric(df[time_col], errors="coerce"),
            "mdot_kg_s": pd.to_numeric(df[flow_col], errors="coerce"),
            "inlet_c": pd.to_numeric(df[inlet_col], errors="coerce"),
        }
    )
    for i, c in enumerate(outlet_cols):
        out[f"measured_{i}"] = pd.to_numeric(df[c], errors="coerce")
    if wall_cols is None:
        wall_cols = [c for c in ULG_COLUMNS["walls"] if c in df.columns]
    for j, c in enumerate(wall_cols):
        if c not in df.columns:
            raise InvalidInput(f"{path}: wall column {c} not found")
        wall = pd.to_numeric(df[c], errors="coerce")
        if not (wall.fillna(0.0) == 0.0).all():
            out[f"wall_{j}"] = wall
    bad = out[["time_s", "mdot_kg_s", "inlet_c"]].isna().any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInput(f"{path}: row {row + 2}: time, flow or inlet temperature not a number")
    if np.any(np.diff(out["time_s"].to_numpy()) <= 0):
        row = int(np.flatnonzero(np.diff(out["time_s"].to_numpy()) <= 0)[0])
        raise InvalidInput(f"{path}: row {row + 3}: time does not increase")
    return out, list(outlet_cols)


def start_profile_c(series: pd.DataFrame, n_segments: int) -> np.ndarray:
    """Measured initial temperatures at the chain's ends (inlet, end of segment 0, …).

    The pipe is at rest before the test, water and wall in equilibrium, so a wall
    thermocouple's first reading (``wall_<j>``) is the temperature of water and wall
    there; where none was logged, the first water reading at that point (``inlet_c``
    or ``measured_<i>``), else the previous end's value. Between the ends the initial
    profile is linear.
    """
    ends = []
    for j in range(n_segments + 1):
        water = "inlet_c" if j == 0 else f"measured_{j - 1}"
        value = np.nan
        for col in (f"wall_{j}", water):
            if col in series and np.isfinite(series[col].iloc[0]):
                value = float(series[col].iloc[0])
                break
        ends.append(value if np.isfinite(value) else ends[-1])
    return np.asarray(ends)


def replay(
    series: pd.DataFrame,
    segments: Sequence[PipeSegment],
    *,
    ambient_c: float = 20.0,
    wall: bool = True,
    wall_lumped_share: float = 1.0,
    water: WaterProperties = WATER,
) -> PipeTestResult:
    """Run the chain of ``segments`` through the measured inputs of ``series``.

    ``series`` has ``time_s``, ``mdot_kg_s``, ``inlet_c`` and ``measured_0..`` (°C at
    the end of segment 0, 1, …; fewer points than segments is fine). ``wall=False``
    drops the wall's heat capacity (the comparison the validation table makes).
    ``wall_lumped_share``: share of the wall capacity lumped in a mixing volume at the
    outlet (1, the default, as the IBPSA PlugFlowPipe does); the rest is carried in
    thermal equilibrium with the plug (0: a sharp front retarded by the wall).
    """
    if not segments:
        raise InvalidInput("pipe test: at least one pipe segment is needed")
    t = series["time_s"].to_numpy(dtype=float)
    mdot = series["mdot_kg_s"].to_numpy(dtype=float)
    t_in = series["inlet_c"].to_numpy(dtype=float)
    if len(t) < 2:
        raise InvalidInput("pipe test: need at least two samples")
    t_ref = float(np.mean(t_in))
    rho = float(water.density(t_ref)[0])
    cp = float(water.cp(t_ref)[0])
    area = np.array([0.25 * np.pi * s.inner_diameter_m**2 for s in segments])
    length = np.array([s.length_m for s in segments])
    c_wall = np.array([s.wall_capacity_j_m_k if wall else 0.0 for s in segments])
    u = np.array([s.u_w_per_m_k for s in segments])
    per_m = rho * area * cp + c_wall
    if not 0.0 <= wall_lumped_share <= 1.0:
        raise InvalidInput(f"wall_lumped_share must be within 0…1, got {wall_lumped_share}")
    lumped = wall_lumped_share * c_wall * length
    plug_per_m = per_m - wall_lumped_share * c_wall  # the plug carries the heat loss
    pipes = PlugFlowPipes(
        thermal_mass_kg=(length * per_m - lumped) / cp,
        tau_loss_s=np.where(u > 0, plug_per_m / np.where(u > 0, u, 1.0), np.inf),
        ambient_c=np.full(len(segments), float(ambient_c)),
        cp_j_kg_k=cp,
        volume_j_k=lumped,
    )
    measured = [c for c in series.columns if c.startswith("measured_")]
    # initial state: linear between the measured temperatures at the ends (the lumped
    # wall volume starts at the outlet end's)
    ends = start_profile_c(series, len(segments))
    pipes.fill(ends[:-1], float(t[0]), outlet_temp_c=ends[1:], parcels=8)

    n_steps = len(t) - 1
    out = np.empty((n_steps, len(segments)))
    for k in range(n_steps):  # one step per measured interval (the model is vectorised
        # over pipes; a chain must be walked in order within the step)
        dt = t[k + 1] - t[k]
        m = 0.5 * (mdot[k] + mdot[k + 1])
        plan = pipes.plan(np.full(len(segments), m), t[k], dt)
        temps = np.empty(len(segments))
        temp = 0.5 * (t_in[k] + t_in[k + 1])
        inlets = np.empty(len(segments))
        for s in range(len(segments)):
            inlets[s] = temp
            temp = plan.alpha[s] * temp + plan.beta[s]
            temps[s] = temp
        pipes.commit(plan, inlets)
        out[k] = temps
    mid = 0.5 * (t[1:] + t[:-1])
    result = pd.DataFrame({"time_s": t, "mdot_kg_s": mdot, "inlet_c": t_in})
    rows = []
    for i, col in enumerate(measured):
        if i >= len(segments):
            break
        modelled = np.interp(t, mid, out[:, i])
        modelled[0] = ends[i + 1]  # the model's own initial state
        result[col] = series[col].to_numpy(dtype=float)
        result[f"modelled_{i}"] = modelled
        rows.append({"point": i, **score(t, result[col].to_numpy(), modelled)})
    return PipeTestResult(result, pd.DataFrame(rows))


def score(time_s: np.ndarray, measured: np.ndarray, modelled: np.ndarray) -> dict[str, float]:
    """RMSE, mean error, worst error, and at the front: worst error and arrival error.

    The *front* is where the measured temperature moves between 10 % and 90 % of its
    largest change from the start; the arrival error is the difference between the
    times model and measurement first pass 50 % of that change (s; > 0 = late).
    """
    ok = np.isfinite(measured) & np.isfinite(modelled)
    t, y, f = time_s[ok], measured[ok], modelled[ok]
    if not len(y):
        keys = ("rmse_k", "mean_error_k", "max_abs_error_k", "front_max_abs_error_k")
        return {**dict.fromkeys(keys, np.nan), "arrival_error_s": np.nan}
    err = f - y
    change = y - y[0]
    extreme = change[np.argmax(np.abs(change))] if len(change) else 0.0
    front_err = np.nan
    arrival = np.nan
    if abs(extreme) > 1e-9:
        share = change / extreme
        first_lo = np.flatnonzero(share >= 0.1)
        first_hi = np.flatnonzero(share >= 0.9)
        if len(first_lo) and len(first_hi):
            window = slice(first_lo[0], first_hi[0] + 1)
            front_err = float(np.max(np.abs(err[window])))
        t_meas = _first_crossing(t, share)
        t_mod = _first_crossing(t, (f - y[0]) / extreme)
        arrival = t_mod - t_meas
    return {
        "rmse_k": float(np.sqrt(np.mean(err**2))),
        "mean_error_k": float(np.mean(err)),
        "max_abs_error_k": float(np.max(np.abs(err))),
        "front_max_abs_error_k": front_err,
        "arrival_error_s": float(arrival),
    }


def _first_crossing(t: np.ndarray, share: np.ndarray, level: float = 0.5) -> float:
    above = np.flatnonzero(share >= level)
    if not len(above):
        return np.nan
    i = int(above[0])
    if i == 0:
        return float(t[0])
    s0, s1 = share[i - 1], share[i]
    w = (level - s0) / (s1 - s0) if s1 != s0 else 1.0
    return float(t[i - 1] + w * (t[i] - t[i - 1]))
