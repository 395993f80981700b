"""What a control strategy sees and sets in a season run, and the link between it and
the step loop of :func:`nuanliu.sim.season.simulate_season`: station set-point
schedules, the controller's :class:`Observation` and :class:`Setpoints`, and the
isolation stations held to what their primary water allows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nuanliu.errors import InvalidInput
from nuanliu.sim.compile import CompiledNetwork

FloatArray = NDArray[np.float64]


#: an isolation station's secondary supply cannot exceed its primary supply minus this (K)
ISOLATION_APPROACH_K = 5.0


@dataclass
class Observation:
    """What a dispatch platform sees before step ``k`` (arrays in element order:
    consumers then stations; measurements are of step ``k - 1``, NaN at ``k = 0``)."""

    k: int
    ts: pd.Timestamp
    outdoor_c: float  # observed now
    element_ids: NDArray[np.object_]
    driven: NDArray[np.bool_]  # elements with flats (the ones a secondary set-point drives)
    curve_supply_c: FloatArray  # each element's heating curve now (NaN: not driven)
    supply_c: FloatArray  # measured primary supply temperature
    return_c: FloatArray
    mdot_kg_s: FloatArray
    heat_w: FloatArray
    secondary_supply_c: FloatArray  # the set-point applied in step k - 1
    household_ids: NDArray[np.object_]  # the sample households (representative flats)
    household_element: NDArray[np.int64]  # element row of each sample household
    household_weight: FloatArray  # households each sample stands for
    indoor_c: FloatArray  # measured indoor temperature (sensor offset + noise), k - 1
    supply_ids: NDArray[np.object_]  # sources and isolation stations (lift then flow order)
    supply_setpoint_c: FloatArray  # their set-points in step k - 1


@dataclass
class Setpoints:
    """A controller's answer for one step. ``station_supply_c``: secondary supply
    set-point (°C) per element — an array in element order (NaN: its heating curve) or
    a mapping id → °C; ``supply_c``: source / isolation station id → supply set-point."""

    station_supply_c: FloatArray | Mapping[str, float] | None = None
    supply_c: Mapping[str, float] | None = None


Controller = Callable[[Observation], "Setpoints | None"]


def _schedule_values(name: str, schedule: pd.DataFrame, times: pd.DatetimeIndex) -> FloatArray:
    """The frame's columns interpolated at ``times`` (NaN stays NaN: "not set")."""
    idx = pd.DatetimeIndex(schedule.index)
    if idx.tz is None:
        raise InvalidInput(f"{name}: index must be timezone-aware")
    x = idx.tz_convert("UTC").asi8.astype(float)
    xt = times.tz_convert("UTC").asi8.astype(float)
    out = np.full((len(times), schedule.shape[1]), np.nan)
    for j, col in enumerate(schedule.columns):
        v = pd.to_numeric(schedule[col], errors="coerce").to_numpy(float)
        ok = np.isfinite(v)
        if not ok.any():
            raise InvalidInput(f"{name}: column {col}: no numbers")
        # a gap (NaN) in the schedule means "the curve" from that time to the next value
        vals = np.interp(xt, x[ok], v[ok])
        held = np.clip(np.searchsorted(x, xt, side="right") - 1, 0, len(x) - 1)
        vals = np.where(ok[held], vals, np.nan)
        out[:, j] = vals
    return out


def station_plan_values(
    cn: CompiledNetwork,
    schedule: pd.DataFrame | None,
    times: pd.DatetimeIndex,
    driven: NDArray[np.bool_],
    elem_ids: NDArray[np.object_],
) -> tuple[FloatArray | None, pd.DataFrame | None]:
    """(per-step secondary set-points in element order, NaN = curve; the isolation
    stations' columns as a supply schedule frame)."""
    if schedule is None:
        return None, None
    name = "station_supply_schedule"
    if not isinstance(schedule, pd.DataFrame):
        raise InvalidInput(f"{name}: a DataFrame expected, got {type(schedule).__name__}")
    pos = {str(e): i for i, e in enumerate(elem_ids)}
    iso_ids = set(map(str, cn.stations["ids"][cn.stations["modelled"]]))
    cols = [str(c) for c in schedule.columns]
    unknown = sorted(c for c in cols if c not in pos)
    if unknown:
        raise InvalidInput(f"{name}: unknown station / consumer id(s) {unknown}")
    undriven = sorted(c for c in cols if c not in iso_ids and not driven[pos[c]])
    if undriven:
        raise InvalidInput(f"{name}: id(s) {undriven} have no heat demand to control")
    frame = schedule.copy()
    frame.columns = cols
    iso_cols = [c for c in cols if c in iso_ids]
    iso = frame[iso_cols] if iso_cols else None
    rest = [c for c in cols if c not in iso_ids]
    if iso is not None and not np.all(np.isfinite(iso.to_numpy(float))):
        raise InvalidInput(f"{name}: isolation station column(s) {iso_cols}: not all numbers")
    if not rest:
        return None, iso
    vals = frame[rest].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    if np.isinf(vals).any():
        raise InvalidInput(f"{name}: infinite set-point(s)")
    if np.isnan(vals).all(axis=0).any():
        bad = [c for c, b in zip(rest, np.isnan(vals).all(axis=0), strict=True) if b]
        raise InvalidInput(f"{name}: column(s) {bad}: no numbers (NaN)")
    plan = np.full((len(times), len(elem_ids)), np.nan)
    plan[:, [pos[c] for c in rest]] = _schedule_values(name, frame[rest], times)
    return plan, iso


class ControlLink:
    """Between the step loop and a controller: what it sees, what it may set."""

    def __init__(
        self, cn, flats: Any, elem_ids, driven, controller, noise_k: float, seed: int, design
    ):
        lifts = cn.lifts
        self.supply_ids = np.r_[lifts["ids"], cn.sources["ids"]].astype(object)
        self.supply_pos = {str(i): j for j, i in enumerate(self.supply_ids)}
        self.elem_ids = elem_ids
        self.elem_pos = {str(e): i for i, e in enumerate(elem_ids)}
        self.driven = driven
        self.flats = flats
        self.controller = controller
        self.noise_k = float(noise_k)
        self.rng = np.random.default_rng(seed + 7919)
        self.n_cons = len(cn.consumers["ids"])
        rows = np.flatnonzero(cn.stations["modelled"])
        self.iso_elem = self.n_cons + rows  # element rows of the isolation stations
        self.iso_supply = cn.stations["lift_row"][rows]  # their lift rows (supply order)
        # the exchanger's approach at design load (primary in − secondary supply): an
        # upper bound at part load, so a clamped set-point is always reachable
        self.iso_approach_k = np.full(len(rows), ISOLATION_APPROACH_K)
        self.iso_design_w = np.full(len(rows), np.nan)
        if design is not None and design.stations is not None and len(rows):
            d = design.stations.set_index("station_id")
            for j, sid in enumerate(cn.stations["ids"][rows]):
                if sid in d.index:
                    gap = float(d.loc[sid, "temp_in_c"] - d.loc[sid, "secondary_supply_temp_c"])
                    if np.isfinite(gap):
                        self.iso_approach_k[j] = max(gap, ISOLATION_APPROACH_K)
                    self.iso_design_w[j] = float(d.loc[sid, "heat_w"])
        self.is_src = np.r_[~cn.lifts["is_station"], np.ones(len(cn.sources["ids"]), bool)]

    def ask(self, k, ts, t_o, curve_c, set_c, sup_row, rec):
        """The controller's set-points for step ``k`` (validated) over the schedules'."""
        prev = k - 1
        nan_e = np.full(len(self.elem_ids), np.nan)
        if prev >= 0:
            meas = rec["indoor"][prev] + self.flats.params.sensor_offset_k
            if self.noise_k > 0:
                meas = meas + self.rng.normal(0.0, self.noise_k, len(meas))
        obs = Observation(
            k=k,
            ts=ts,
            outdoor_c=float(t_o),
            element_ids=self.elem_ids,
            driven=self.driven,
            curve_supply_c=curve_c,
            supply_c=rec["elem_sup"][prev].astype(float) if prev >= 0 else nan_e,
            return_c=rec["elem_ret"][prev].astype(float) if prev >= 0 else nan_e,
            mdot_kg_s=rec["elem_mdot"][prev].astype(float) if prev >= 0 else nan_e,
            heat_w=rec["elem_heat"][prev].astype(float) if prev >= 0 else nan_e,
            secondary_supply_c=rec["elem_sec_sup"][prev].astype(float) if prev >= 0 else nan_e,
            household_ids=self.flats.unit_ids,
            household_element=self.flats.element,
            household_weight=self.flats.weight,
            indoor_c=np.asarray(meas, float)
            if prev >= 0
            else np.full(len(self.flats.weight), np.nan),
            supply_ids=self.supply_ids,
            supply_setpoint_c=rec["supply_set"][prev] if prev >= 0 else sup_row.copy(),
        )
        act = self.controller(obs)
        if act is None:
            return set_c, sup_row
        if not isinstance(act, Setpoints):
            raise InvalidInput(f"controller: Setpoints expected, got {type(act).__name__}")
        out_set, out_sup = set_c, sup_row
        if act.station_supply_c is not None:
            out_set = self._station_row(act.station_supply_c, set_c)
        if act.supply_c is not None:
            out_sup = sup_row.copy()
            for sid, v in act.supply_c.items():
                j = self.supply_pos.get(str(sid))
                if j is None:
                    raise InvalidInput(
                        f"controller: supply_c: unknown source / isolation station id {sid!r}"
                    )
                if not np.isfinite(float(v)):
                    raise InvalidInput(f"controller: supply_c[{sid}]: not a number ({v})")
                out_sup[j] = float(v)
        return out_set, out_sup

    def _station_row(self, given, set_c):
        if isinstance(given, Mapping):
            row = set_c.copy()
            for eid, v in given.items():
                i = self.elem_pos.get(str(eid))
                if i is None:
                    raise InvalidInput(f"controller: station_supply_c: unknown station id {eid!r}")
                if not np.isfinite(float(v)):
                    raise InvalidInput(f"controller: station_supply_c[{eid}]: not a number ({v})")
                row[i] = float(v)
            return row
        arr = np.asarray(given, dtype=float)
        if arr.shape != set_c.shape:
            raise InvalidInput(
                f"controller: station_supply_c: {len(set_c)} values expected (element order)"
            )
        if np.isinf(arr).any():
            raise InvalidInput("controller: station_supply_c: infinite set-point")
        return np.where(np.isnan(arr), set_c, arr)

    def clamp_isolation(self, k, sup_row, rec):
        """An isolation station passes what its primary supply allows (approach below)."""
        if len(self.iso_elem):
            approach = self.iso_approach_k
            if k > 0:
                arriving = rec["elem_sup"][k - 1][self.iso_elem].astype(float)
                # with flows held, the approach shrinks with the load (≥ the floor)
                share = rec["elem_heat"][k - 1][self.iso_elem] / self.iso_design_w
                share = np.where(np.isfinite(share), np.clip(share, 0.0, 1.0), 1.0)
                approach = np.maximum(approach * share, ISOLATION_APPROACH_K)
            else:  # before the first step: the hottest source set-point, 1 K line drop
                arriving = np.full(len(self.iso_elem), np.max(sup_row[self.is_src]) - 1.0)
            cap = arriving - approach
            want = sup_row[self.iso_supply]
            short = np.where(np.isfinite(cap), np.maximum(want - cap, 0.0), 0.0)
            if short.any():
                sup_row = sup_row.copy()
                sup_row[self.iso_supply] = want - short
                if rec is not None:
                    rec["iso_shortfall_k"][k] = float(short.max())
        if rec is not None:
            rec["supply_set"][k] = sup_row
        return sup_row
