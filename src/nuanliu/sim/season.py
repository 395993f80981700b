"""Season simulation: buildings drive the stations, the dynamic network carries heat.

Each consumer or unmodelled station stands for the flats behind it: a few
representative flats (the 2R2C model of :mod:`nuanliu.buildings`, parameters drawn
per flat) weighted so that their design load equals the element's design heat. Per
step: the secondary supply set-point follows the element's heating curve (quality
regulation for its design secondary temperatures), the flats ask for the heat their
radiators give at that set-point, the network is stepped
(:class:`~nuanliu.sim.dynamic.DynamicNetwork`) with those demands and the sources'
supply temperatures (their set-point, or a given per-hour schedule), and the flats
then receive the share of their demand the station could pass — a station whose
primary water arrives too cold supplies its secondary cooler.

Pump electricity is quasi-steady: the regulated steady solver is run at a handful of
load levels once, and each step interpolates pump power from the sources' flow.

A control strategy can set, per step, every station's secondary supply set-point and
the sources' and isolation stations' supply set-points: a ``station_supply_schedule``
frame, or a ``controller`` callback that sees only what a real platform sees and
returns set-points (:mod:`nuanliu.sim.season_control`: time, weather, the stations'
measured primary supply/return/flow/heat of the last step, the sample households'
measured indoor temperatures). An isolation station whose primary water arrives too
cold for its set-point supplies what it can (set-point − approach); the shortfall is
counted.

``simulate_season`` returns a :class:`SeasonResult` (per-step frames and totals). A
Ctrl-C stops the loop between steps and returns what was simulated
(``interrupted=True``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nuanliu.buildings.heating_curve import HeatingCurve
from nuanliu.buildings.params import DESIGN_INDOOR_C, RoomParams, draw_params
from nuanliu.buildings.rc import (
    advance,
    gains_w,
    internal_gain_multiplier,
    radiator_conductance_w_k,
    steady_state,
    step_matrix,
)
from nuanliu.errors import InvalidInput
from nuanliu.sim.compile import CompiledNetwork, compile_network
from nuanliu.sim.dynamic import DynamicNetwork
from nuanliu.sim.options import SolverOptions
from nuanliu.sim.season_control import (
    Controller,
    ControlLink,
    station_plan_values,
)
from nuanliu.sim.steady import solve_steady

FloatArray = NDArray[np.float64]
Progress = Callable[[int, int], None]

COLD_INDOOR_C = 18.0  # minimum indoor temperature of Chinese heating regulations
OVERHEATED_INDOOR_C = 24.0
DEFAULT_SECONDARY_C = (60.0, 45.0)  # radiators, when an element names none
#: load levels of the regulated steady solves behind the pump-power table
PUMP_TABLE_SCALES = (0.2, 0.45, 0.7, 1.0)


@dataclass
class SeasonResult:
    """Per-step frames and totals of a season run."""

    times: pd.DatetimeIndex
    #: long frames: one row per (ts, element)
    stations: pd.DataFrame
    sources: pd.DataFrame
    households: pd.DataFrame
    network: pd.DataFrame  # one row per step: totals, outdoor temperature
    totals: dict[str, float]
    interrupted: bool = False
    elapsed_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.times)


def _weather_frame(weather: Any, times: pd.DatetimeIndex) -> pd.DataFrame:
    """Outdoor temperature and global horizontal irradiance at ``times``."""
    from nuanliu.weather import TypicalYearWeather, read_epw, shipped_epw
    from nuanliu.weather.shipped import SHIPPED

    if isinstance(weather, pd.DataFrame):
        if "temp_c" not in weather:
            raise InvalidInput("weather frame needs a temp_c column (and optionally ghi_w_m2)")
        idx = pd.DatetimeIndex(weather.index)
        if idx.tz is None:
            raise InvalidInput("weather frame index must be timezone-aware")
        x = idx.tz_convert("UTC").asi8.astype(float)
        xt = times.tz_convert("UTC").asi8.astype(float)
        ghi = weather["ghi_w_m2"] if "ghi_w_m2" in weather else pd.Series(0.0, index=idx)
        return pd.DataFrame(
            {
                "temp_c": np.interp(xt, x, weather["temp_c"].to_numpy(float)),
                "ghi_w_m2": np.interp(xt, x, ghi.to_numpy(float)),
            },
            index=times,
        )
    if isinstance(weather, TypicalYearWeather):
        tyw = weather
    else:
        key = str(weather)
        epw = shipped_epw(key) if key.lower() in SHIPPED else read_epw(key)
        tyw = TypicalYearWeather.from_epw(epw, key)
    w = tyw.at_times(times)
    return pd.DataFrame({"temp_c": w["temp_c"], "ghi_w_m2": w["ghi_w_m2"]}, index=times)


@dataclass
class _Flats:
    """Representative flats of every demand element (consumers then stations)."""

    params: RoomParams
    element: NDArray[np.int64]  # demand element of each flat (compiled order, cons+stat)
    weight: FloatArray  # flats each representative stands for
    curve_supply: list[tuple[NDArray[np.int64], HeatingCurve]]  # element groups → curve
    unit_ids: NDArray[np.object_]


def _flats(
    cn: CompiledNetwork, design_outdoor_c: float, per_element: int, seed: int
) -> tuple[_Flats, NDArray[np.bool_]]:
    cons, stat = cn.consumers, cn.stations
    ids = np.r_[cons["ids"], stat["ids"]]
    design_w = np.r_[cons["heat_demand_w"], stat["heat_demand_w"]]
    sup = np.r_[np.full(len(cons["ids"]), np.nan), stat["sec_supply_c"]]
    ret = np.r_[np.full(len(cons["ids"]), np.nan), stat["sec_return_c"]]
    sup = np.where(np.isfinite(sup), sup, DEFAULT_SECONDARY_C[0])
    ret = np.where(np.isfinite(ret), ret, DEFAULT_SECONDARY_C[1])
    # modelled (isolation) stations pass what their secondary network takes: no flats
    driven = np.r_[np.ones(len(cons["ids"]), bool), ~stat["modelled"]] & (design_w > 0)
    rows = np.flatnonzero(driven)
    elem = np.repeat(rows, per_element)
    units = pd.DataFrame(
        {
            "unit_id": [f"{ids[e]}#{k}" for e in rows for k in range(per_element)],
            "building_id": [f"{ids[e]}#{k}" for e in rows for k in range(per_element)],
            "station_id": ids[elem],
        }
    )
    params_parts: list[RoomParams] = []
    curves: list[tuple[NDArray[np.int64], HeatingCurve]] = []
    order: list[NDArray[np.int64]] = []
    pairs = sorted({(float(sup[e]), float(ret[e])) for e in rows})
    for s, r in pairs:  # a handful of secondary designs (radiators, floor heating)
        grp = np.flatnonzero((sup[elem] == s) & (ret[elem] == r))
        curve = HeatingCurve.quality_regulation(
            design_outdoor_c=design_outdoor_c,
            design_supply_c=s,
            design_return_c=r,
            min_supply_c=min(30.0, r),
        )
        params_parts.append(draw_params(units.iloc[grp], curve, seed=seed))
        curves.append((np.unique(elem[grp]), curve))
        order.append(grp)
    perm = np.concatenate(order)
    params = RoomParams(
        **{
            f: np.concatenate([getattr(p, f) for p in params_parts])
            for f in RoomParams.__dataclass_fields__
        }
    )
    elem = elem[perm]
    unit_design = params.h_total_w_k * (DESIGN_INDOOR_C - design_outdoor_c)
    per_elem = np.bincount(elem, weights=unit_design, minlength=len(ids))
    weight = design_w[elem] / np.where(per_elem[elem] > 0, per_elem[elem], 1.0)
    return _Flats(params, elem, weight, curves, units["unit_id"].to_numpy()[perm]), driven


def pump_power_table(
    cn: CompiledNetwork, options: SolverOptions | None = None, scales=PUMP_TABLE_SCALES
) -> tuple[FloatArray, FloatArray, FloatArray, Any]:
    """Regulated steady solves at several loads: (total source flow kg/s, pump
    electricity W of the whole network, pump power W per source, the steady result at
    the highest load — the design point of the supply-temperature curves)."""
    flows, total, per_src = [], [], []
    warm = None
    top = None
    for s in scales:
        demands = {
            **dict(zip(cn.consumers["ids"], cn.consumers["heat_demand_w"] * s, strict=True)),
            **dict(zip(cn.stations["ids"], cn.stations["heat_demand_w"] * s, strict=True)),
        }
        res = solve_steady(
            cn, demands=demands, warm_start=warm, options=options, raise_on_failure=False
        )
        if not res.solved:
            continue
        warm = top = res
        flows.append(float(res.sources["mdot_kg_s"].abs().sum()))
        total.append(float(res.summary["pump_electricity_w"]))
        per_src.append(res.sources["pump_power_w"].fillna(0.0).to_numpy(float))
    if not flows:
        raise InvalidInput(f"{cn.name}: no steady state solved for the pump-power table")
    order = np.argsort(flows)
    return (
        np.asarray(flows)[order],
        np.asarray(total)[order],
        np.asarray(per_src)[order],
        top,
    )


def supply_curves(
    cn: CompiledNetwork, design: Any, design_outdoor_c: float
) -> list[HeatingCurve | None]:
    """Quality-regulation supply curve of every lift and flow/heat source (None for
    the rest): sources from their set-point and the return temperature of the design
    steady state ``design``, isolation stations' secondaries from their design
    temperatures. The curve never drops below the design return + 10 K (consumers
    holding a return set-point need water hotter than it)."""
    lifts = cn.lifts
    ids = list(lifts["ids"]) + list(cn.sources["ids"])
    sup = np.r_[lifts["supply_temp_c"], cn.sources["supply_temp_c"]]
    ret = np.full(len(ids), np.nan)
    if design is not None and design.sources is not None and len(design.sources):
        by_src = design.sources.set_index("source_id")["return_temp_c"]
        for k, sid in enumerate(ids):
            if sid in by_src.index and (k >= len(lifts["ids"]) or not lifts["is_station"][k]):
                ret[k] = float(by_src.loc[sid])
    stat_ret = dict(zip(cn.stations["ids"], cn.stations["sec_return_c"], strict=True))
    for k in np.flatnonzero(lifts["is_station"]):
        ret[k] = stat_ret.get(lifts["ids"][k], np.nan)
    curves: list[HeatingCurve | None] = []
    for s_c, r_c in zip(sup, ret, strict=True):
        if not (np.isfinite(s_c) and np.isfinite(r_c) and s_c > r_c > DESIGN_INDOOR_C):
            curves.append(None)
            continue
        curves.append(
            HeatingCurve.quality_regulation(
                design_outdoor_c=design_outdoor_c,
                design_supply_c=float(s_c),
                design_return_c=float(r_c),
                min_supply_c=min(float(s_c), float(r_c) + 10.0),
            )
        )
    return curves


def _curve_supply_row(curves: list[HeatingCurve | None], base: FloatArray, t_o: float):
    out = base.copy()
    for k, c in enumerate(curves):  # a handful of sources and isolation stations
        if c is not None:
            out[k] = float(c.supply_temp_c(t_o))
    return out


def simulate_season(
    network: Any,
    weather: Any,
    *,
    start: Any,
    end: Any,
    step: str | pd.Timedelta = "1h",
    source_supply_schedule: pd.DataFrame | None = None,
    station_dp_setpoints: Mapping[str, float] | None = None,
    valve_settings: Mapping[str, float] | None = None,
    on_progress: Progress | None = None,
    flats_per_element: int = 4,
    wall: bool = True,
    seed: int = 0,
    options: SolverOptions | None = None,
    follow_curves: bool = False,
    station_supply_schedule: pd.DataFrame | None = None,
    controller: Controller | None = None,
    sensor_noise_k: float = 0.0,
) -> SeasonResult:
    """Simulate a heating season (or any window) at ``step`` resolution.

    ``network``: a Network, a CompiledNetwork or an example name. ``weather``: a
    shipped name (``"hohhot"``), an EPW path, a TypicalYearWeather or a frame indexed
    by tz-aware time with ``temp_c`` (and ``ghi_w_m2``). ``start``/``end``: tz-aware
    (naive = Asia/Shanghai). ``source_supply_schedule``: °C per source (columns =
    source ids, index = tz-aware times, interpolated; missing sources follow their
    set-point). ``station_dp_setpoints``: control id → set-point (bar) of ``dp``
    controls; ``valve_settings``: valve id → opening 0…1 — both before compiling.
    ``on_progress(done, total)`` after each step. Sources hold their set-point (the
    schema has no source curve) unless ``follow_curves``: then sources and isolation
    stations follow quality-regulation supply curves (:func:`supply_curves`); a
    schedule always wins for the sources it names; its columns may also name isolation
    stations (their secondary, city-side supply).

    ``station_supply_schedule``: °C per element (columns = consumer / station ids; an
    isolation station's column sets its city-side supply; index tz-aware, interpolated;
    NaN = the heating curve). ``controller(observation) -> Setpoints | None`` is asked
    before every step and wins over both schedules; ``sensor_noise_k``: standard
    deviation of the noise on the indoor temperatures it sees (beside each sensor's
    fixed offset).
    """
    t_wall = time.perf_counter()
    net, cn = _network(network, station_dp_setpoints, valve_settings)
    times = _times(start, end, step)
    dt_s = float((times[1] - times[0]).total_seconds()) if len(times) > 1 else 3600.0
    wx = _weather_frame(weather, times)
    design_outdoor_c = float(cn.meta.get("design_outdoor_temp_c", -19.0))
    flats, driven = _flats(cn, design_outdoor_c, flats_per_element, seed)
    n_cons = len(cn.consumers["ids"])
    n_elem = n_cons + len(cn.stations["ids"])
    base = options or SolverOptions()
    dyn = DynamicNetwork(cn, options=base, wall=wall)
    flow_tab, pump_tab, pump_src_tab, design = pump_power_table(cn, dyn.opts)
    elem_ids = np.r_[cn.consumers["ids"], cn.stations["ids"]]
    station_plan, iso_sched = station_plan_values(
        cn, station_supply_schedule, times, driven, elem_ids
    )
    if iso_sched is not None:  # isolation stations' columns join the supply schedule
        source_supply_schedule = (
            iso_sched
            if source_supply_schedule is None
            else pd.concat([source_supply_schedule, iso_sched], axis=1)
            .sort_index()
            .interpolate(method="time")
            .ffill()
            .bfill()
        )
    supply_sched = _supply_plan(
        cn,
        source_supply_schedule,
        times,
        wx["temp_c"].to_numpy(float),
        supply_curves(cn, design, design_outdoor_c) if follow_curves else None,
    )
    if controller is not None and supply_sched is None:
        base_row = np.r_[cn.lifts["supply_temp_c"], cn.sources["supply_temp_c"]]
        supply_sched = np.tile(base_row, (len(times), 1))
    link = ControlLink(cn, flats, elem_ids, driven, controller, sensor_noise_k, seed, design)
    if supply_sched is not None:  # the first hour's isolation set-points within reach too
        supply_sched[0] = link.clamp_isolation(0, supply_sched[0], None)

    # initial state: steady network and flats at rest at the first hour's weather
    p = flats.params
    t_o0 = float(wx["temp_c"].iloc[0])
    set0 = _curve_supply(flats, t_o0, n_elem)
    rooms = steady_state(p, t_o0, set0[flats.element] + p.supply_offset_k)
    demand0 = _element_demand(flats, rooms, set0, n_elem)
    cn_init = cn
    if supply_sched is not None:  # isolation stations' secondaries start on their curve
        n_lift = len(cn.lifts["ids"])
        cn_init = replace(cn, lifts={**cn.lifts, "supply_temp_c": supply_sched[0][:n_lift]})
    init = solve_steady(
        cn_init,
        demands=_demand_map(cn, demand0, driven),
        options=dyn.opts,
        supply_temp_c=_supply_map(cn, supply_sched[0]) if supply_sched is not None else None,
        raise_on_failure=False,
    )
    if init.state is None:
        raise InvalidInput(f"{cn.name}: no initial steady state")
    dyn.start_from(init, 0.0)
    heat0 = dyn.pipe_heat_j()

    n = len(times)
    lifts = cn.lifts
    src_lift = np.flatnonzero(~lifts["is_station"])
    src_ids = np.r_[lifts["ids"][src_lift], cn.sources["ids"]]
    rec = {
        "elem_mdot": np.zeros((n, n_elem), np.float32),
        "elem_sup": np.zeros((n, n_elem), np.float32),
        "elem_ret": np.zeros((n, n_elem), np.float32),
        "elem_heat": np.zeros((n, n_elem), np.float32),
        "elem_demand": np.zeros((n, n_elem), np.float32),
        "elem_sec_sup": np.zeros((n, n_elem), np.float32),
        "src_heat": np.zeros((n, len(src_ids))),
        "src_mdot": np.zeros((n, len(src_ids)), np.float32),
        "src_sup": np.zeros((n, len(src_ids)), np.float32),
        "src_ret": np.zeros((n, len(src_ids)), np.float32),
        "src_pump": np.zeros((n, len(src_ids))),
        "pump": np.zeros(n),
        "loss": np.zeros(n),
        "delivered": np.zeros(n),
        "iso_mismatch": np.zeros(n),
        "iso_shortfall_k": np.zeros(n),
        "supply_set": np.zeros((n, len(link.supply_ids))),
        "indoor": np.zeros((n, len(p)), np.float32),
    }
    nr = cn.ref_slice.start
    cs, ss = cn.cons_slice, cn.stat_slice
    done = 0
    interrupted = False
    local = times.tz_convert("Asia/Shanghai")
    gain_mult = internal_gain_multiplier(local.hour.to_numpy() + 0.5)
    temp_c = wx["temp_c"].to_numpy(float)
    ghi = wx["ghi_w_m2"].to_numpy(float)
    # record indices, computed once: elements' fixed-flow rows, sources' edges
    elem_f = np.concatenate((np.arange(cs.start, cs.stop), np.arange(ss.start, ss.stop)))
    elem_fe = nr + elem_f
    fs = cn.fsrc_slice
    src_fe = np.arange(nr + fs.start, nr + fs.stop)
    lift_src_e = cn.lift_slice.start + src_lift
    end_user = np.concatenate((np.ones(n_cons, bool), ~cn.stations["modelled"]))
    try:
        for k in range(n):
            t_o = temp_c[k]
            set_c = curve_c = _curve_supply(flats, t_o, n_elem)
            if station_plan is not None:
                set_c = np.where(np.isnan(station_plan[k]), curve_c, station_plan[k])
            sup_row = None if supply_sched is None else supply_sched[k]
            if controller is not None:
                set_c, sup_row = link.ask(k, times[k], t_o, curve_c, set_c, sup_row, rec)
            if sup_row is not None:
                sup_row = link.clamp_isolation(k, sup_row, rec)
            unit_set = set_c[flats.element] + p.supply_offset_k
            g = radiator_conductance_w_k(p, rooms.dt_mean_k)
            unit_demand = np.maximum(g * (unit_set - rooms.t_air_c), 0.0)
            demand = np.bincount(
                flats.element, weights=unit_demand * flats.weight, minlength=n_elem
            )
            res = dyn.step(
                dt_s,
                consumer_demand_w=demand[:n_cons],
                station_demand_w=np.where(driven[n_cons:], demand[n_cons:], 0.0),
                supply_temp_c=sup_row,
            )
            heat = np.concatenate((res.consumer_heat_w, res.station_heat_w))
            share = np.where(
                demand > 0, np.clip(heat / np.where(demand > 0, demand, 1.0), 0, 1), 1.0
            )
            unit_sup = rooms.t_air_c + share[flats.element] * (unit_set - rooms.t_air_c)
            unit_sup = np.where(unit_demand > 0, unit_sup, unit_set)
            phi_a, phi_m = gains_w(p, ghi[k], gain_mult[k])
            mat = step_matrix(p, g, dt_s)
            rooms = advance(p, mat, rooms, t_o, unit_sup, phi_a, phi_m)
            # records
            rec["elem_mdot"][k] = res.m_fixed_kg_s[elem_f]
            rec["elem_sup"][k] = res.edge_in_c[elem_fe]
            rec["elem_ret"][k] = res.edge_out_c[elem_fe]
            rec["elem_heat"][k] = heat
            rec["elem_demand"][k] = demand
            rec["elem_sec_sup"][k] = set_c * np.where(demand > 0, 1.0, np.nan)
            lq = res.q_kg_s[lift_src_e]
            rec["src_mdot"][k] = np.concatenate((np.abs(lq), res.m_fixed_kg_s[fs]))
            rec["src_sup"][k] = np.concatenate((res.edge_out_c[lift_src_e], res.edge_out_c[src_fe]))
            rec["src_ret"][k] = np.concatenate((res.edge_in_c[lift_src_e], res.edge_in_c[src_fe]))
            rec["src_heat"][k] = res.source_heat_w
            total_flow = float(np.sum(rec["src_mdot"][k]))
            rec["pump"][k] = np.interp(total_flow, flow_tab, pump_tab)
            for j in range(pump_src_tab.shape[1]):  # per pressure source: a handful
                rec["src_pump"][k, j] = np.interp(total_flow, flow_tab, pump_src_tab[:, j])
            rec["loss"][k] = float(np.sum(res.pipe_loss_w))
            rec["delivered"][k] = float(np.sum(heat[end_user]))
            rec["iso_mismatch"][k] = _isolation_mismatch(cn, res)
            rec["indoor"][k] = rooms.t_air_c
            done = k + 1
            if on_progress is not None:
                on_progress(done, n)
    except KeyboardInterrupt:
        interrupted = True
    heat1 = dyn.pipe_heat_j()
    return _result(
        cn,
        times[:done],
        wx.iloc[:done],
        rec,
        done,
        dt_s,
        flats,
        elem_ids,
        src_ids,
        heat1 - heat0,
        interrupted,
        time.perf_counter() - t_wall,
    )


def _network(network: Any, dp: Mapping[str, float] | None, valves: Mapping[str, float] | None):
    from nuanliu.network.examples import list_examples, load_example
    from nuanliu.network.model import Network

    if isinstance(network, CompiledNetwork):
        if dp or valves:
            raise InvalidInput("set-points and valve settings need a Network, not a compiled one")
        return None, network
    net = (
        load_example(network)
        if isinstance(network, str) and network in list_examples()
        else network
    )
    if not isinstance(net, Network):
        raise InvalidInput(f"not a network: {type(network).__name__}")
    if dp or valves:
        net = net.copy() if hasattr(net, "copy") else net
        if dp:
            ctl = net.controls.copy()
            unknown = sorted(set(dp) - set(ctl["control_id"]))
            if unknown:
                raise InvalidInput(f"station_dp_setpoints: unknown control id(s) {unknown}")
            for cid, v in dp.items():
                ctl.loc[ctl["control_id"] == cid, "setpoint_bar"] = float(v)
            net.controls = ctl
        if valves:
            vv = net.valves.copy()
            unknown = sorted(set(valves) - set(vv["valve_id"]))
            if unknown:
                raise InvalidInput(f"valve_settings: unknown valve id(s) {unknown}")
            for vid, v in valves.items():
                if not 0.0 <= float(v) <= 1.0:
                    raise InvalidInput(f"valve {vid}: opening must be within 0…1, got {v}")
                vv.loc[vv["valve_id"] == vid, "opening"] = float(v)
            net.valves = vv
    return net, compile_network(net)


def _times(start: Any, end: Any, step: str | pd.Timedelta) -> pd.DatetimeIndex:
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    if s.tz is None:
        s = s.tz_localize("Asia/Shanghai")
    if e.tz is None:
        e = e.tz_localize("Asia/Shanghai")
    delta = pd.Timedelta(step)
    if delta <= pd.Timedelta(0):
        raise InvalidInput(f"step must be positive, got {step!r}")
    if e <= s:
        raise InvalidInput(f"end {e} must be after start {s}")
    # step k covers [start + k·step, start + (k+1)·step); stamped at its start
    return pd.date_range(s, e - delta, freq=delta)


def _supply_plan(
    cn: CompiledNetwork,
    schedule: pd.DataFrame | None,
    times: pd.DatetimeIndex,
    outdoor_c: FloatArray,
    curves: list[HeatingCurve | None] | None,
) -> FloatArray | None:
    """Per-step supply set-points in lift-then-flow-source order (None: as compiled):
    the curves at each step's outdoor temperature, then the schedule's columns."""
    if schedule is None and curves is None:
        return None
    lifts = cn.lifts
    base = np.r_[lifts["supply_temp_c"], cn.sources["supply_temp_c"]]
    if curves is not None:
        out = np.array([_curve_supply_row(curves, base, float(t)) for t in outdoor_c])
    else:
        out = np.tile(base, (len(times), 1))
    if schedule is None:
        return out
    ids = np.r_[lifts["ids"], cn.sources["ids"]]
    # sources and isolation stations (every lift and flow source) take a supply schedule
    is_src = np.ones(len(ids), bool)
    known = set(ids[is_src])
    unknown = sorted(set(map(str, schedule.columns)) - known)
    if unknown:
        raise InvalidInput(
            f"source_supply_schedule: unknown source / isolation station id(s) {unknown}"
        )
    idx = pd.DatetimeIndex(schedule.index)
    if idx.tz is None:
        raise InvalidInput("source_supply_schedule: index must be timezone-aware")
    x = idx.tz_convert("UTC").asi8.astype(float)
    xt = times.tz_convert("UTC").asi8.astype(float)
    for col in schedule.columns:  # a handful of sources
        v = pd.to_numeric(schedule[col], errors="coerce").to_numpy(float)
        if not np.all(np.isfinite(v)):
            raise InvalidInput(f"source_supply_schedule: column {col}: not all numbers")
        j = np.flatnonzero(is_src & (ids == str(col)))
        out[:, j] = np.interp(xt, x, v)[:, None]
    return out


def _supply_map(cn: CompiledNetwork, row: FloatArray) -> dict[str, float]:
    lifts = cn.lifts
    ids = np.r_[lifts["ids"], cn.sources["ids"]]
    is_src = np.r_[~lifts["is_station"], np.ones(len(cn.sources["ids"]), bool)]
    return {str(i): float(v) for i, v in zip(ids[is_src], row[is_src], strict=True)}


def _curve_supply(flats: _Flats, outdoor_c: float, n_elem: int) -> FloatArray:
    out = np.full(n_elem, np.nan)
    for elems, curve in flats.curve_supply:
        out[elems] = float(curve.supply_temp_c(outdoor_c))
    return out


def _element_demand(flats: _Flats, rooms, set_c: FloatArray, n_elem: int) -> FloatArray:
    p = flats.params
    g = radiator_conductance_w_k(p, rooms.dt_mean_k)
    q = np.maximum(g * (set_c[flats.element] + p.supply_offset_k - rooms.t_air_c), 0.0)
    return np.bincount(flats.element, weights=q * flats.weight, minlength=n_elem)


def _demand_map(cn: CompiledNetwork, demand: FloatArray, driven: NDArray[np.bool_]):
    ids = np.r_[cn.consumers["ids"], cn.stations["ids"]]
    return {str(i): float(v) for i, v, d in zip(ids, demand, driven, strict=True) if d}


def _isolation_mismatch(cn: CompiledNetwork, res) -> float:
    """Heat the isolation stations' primaries pass minus what their secondaries get (W)."""
    rows = np.flatnonzero(cn.stations["modelled"])
    if not len(rows):
        return 0.0
    lift_rows = cn.stations["lift_row"][rows]
    e = cn.lift_slice.start + lift_rows
    cp = 4190.0
    sec = np.abs(res.q_kg_s[e]) * cp * (res.edge_out_c[e] - res.edge_in_c[e])
    return float(np.sum(res.station_heat_w[rows]) - np.sum(sec))


def _result(
    cn, times, wx, rec, done, dt_s, flats, elem_ids, src_ids, d_stored_j, interrupted, elapsed
) -> SeasonResult:
    n_el = len(elem_ids)
    kind = np.r_[
        np.full(len(cn.consumers["ids"]), "consumer"), np.full(len(cn.stations["ids"]), "station")
    ]
    ts_el = np.repeat(times, n_el)
    stations = pd.DataFrame(
        {
            "ts": ts_el,
            "element_id": np.tile(elem_ids, done),
            "kind": np.tile(kind, done),
            "mdot_kg_s": rec["elem_mdot"][:done].ravel(),
            "supply_temp_c": rec["elem_sup"][:done].ravel(),
            "return_temp_c": rec["elem_ret"][:done].ravel(),
            "heat_w": rec["elem_heat"][:done].ravel(),
            "demand_w": rec["elem_demand"][:done].ravel(),
            "secondary_supply_setpoint_c": rec["elem_sec_sup"][:done].ravel(),
        }
    )
    n_src = len(src_ids)
    sources = pd.DataFrame(
        {
            "ts": np.repeat(times, n_src),
            "source_id": np.tile(src_ids, done),
            "mdot_kg_s": rec["src_mdot"][:done].ravel(),
            "supply_temp_c": rec["src_sup"][:done].ravel(),
            "return_temp_c": rec["src_ret"][:done].ravel(),
            "heat_w": rec["src_heat"][:done].ravel(),
            "pump_power_w": rec["src_pump"][:done].ravel(),
        }
    )
    n_u = len(flats.unit_ids)
    households = pd.DataFrame(
        {
            "ts": np.repeat(times, n_u),
            "household_id": np.tile(flats.unit_ids, done),
            "element_id": np.tile(elem_ids[flats.element], done),
            "weight": np.tile(flats.weight, done).astype(np.float32),
            "indoor_temp_c": rec["indoor"][:done].ravel(),
        }
    )
    hours = dt_s / 3600.0
    indoor = rec["indoor"][:done]
    cold = float(np.sum((indoor < COLD_INDOOR_C) * flats.weight[None, :]) * hours)
    hot = float(np.sum((indoor > OVERHEATED_INDOOR_C) * flats.weight[None, :]) * hours)
    produced = float(np.sum(rec["src_heat"][:done]) * dt_s)
    delivered = float(np.sum(rec["delivered"][:done]) * dt_s)
    lost = float(np.sum(rec["loss"][:done]) * dt_s)
    mismatch = float(np.sum(rec["iso_mismatch"][:done]) * dt_s)
    short_w = np.maximum(rec["elem_demand"][:done] - rec["elem_heat"][:done], 0.0)
    iso_short = rec["iso_shortfall_k"][:done]
    dist = indoor_distribution(indoor, flats.weight)
    totals = {
        "steps": float(done),
        "heat_produced_j": produced,
        "heat_delivered_j": delivered,
        "heat_lost_j": lost,
        "stored_heat_change_j": float(d_stored_j),
        "isolation_exchanger_residual_j": mismatch,
        "energy_balance_residual_j": produced - delivered - lost - float(d_stored_j) - mismatch,
        "pump_electricity_j": float(np.sum(rec["pump"][:done]) * dt_s),
        "cold_household_hours": cold,
        "overheated_household_hours": hot,
        "households": float(np.sum(flats.weight)),
        "station_heat_shortfall_j": float(np.sum(short_w, dtype=np.float64) * dt_s),
        "isolation_shortfall_hours": float(np.count_nonzero(iso_short > 0) * hours),
        "isolation_shortfall_kh": float(np.sum(iso_short) * hours),
        **dist,
    }
    network = pd.DataFrame(
        {
            "ts": times,
            "outdoor_temp_c": wx["temp_c"].to_numpy(float),
            "heat_produced_w": rec["src_heat"][:done].sum(axis=1),
            "heat_delivered_w": rec["delivered"][:done],
            "heat_lost_w": rec["loss"][:done],
            "pump_electricity_w": rec["pump"][:done],
            "cold_households": ((indoor < COLD_INDOOR_C) * flats.weight[None, :]).sum(axis=1),
        }
    )
    return SeasonResult(
        times=times,
        stations=stations,
        sources=sources,
        households=households,
        network=network,
        totals=totals,
        interrupted=interrupted,
        elapsed_s=elapsed,
        meta={
            "network": cn.name,
            "step_s": dt_s,
            # the supply set-points sent (sources and isolation stations, after the
            # reach clamp); all zero when none were scheduled
            "supply_setpoints_c": pd.DataFrame(
                rec["supply_set"][:done],
                index=times,
                columns=np.r_[cn.lifts["ids"], cn.sources["ids"]],
            ),
        },
    )


def indoor_distribution(indoor_c: FloatArray, weight: FloatArray) -> dict[str, float]:
    """Household-hour weighted mean and 5th/50th/95th percentiles of indoor temperature."""
    if indoor_c.size == 0:
        return {}
    v = np.asarray(indoor_c, float).ravel()
    w = np.broadcast_to(np.asarray(weight, float)[None, :], indoor_c.shape).ravel()
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    pick = {q: float(v[order][np.searchsorted(cw, q / 100.0)]) for q in (5, 50, 95)}
    return {
        "indoor_mean_c": float(np.sum(v * w) / np.sum(w)),
        "indoor_p5_c": pick[5],
        "indoor_p50_c": pick[50],
        "indoor_p95_c": pick[95],
    }


def write_season(result: SeasonResult, folder: str | Path) -> None:
    """Write the frames as Parquet files and the totals as JSON into ``folder``."""
    import json

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("stations", "sources", "households", "network"):
        getattr(result, name).to_parquet(out / f"{name}.parquet", index=False)
    info = {
        "totals": result.totals,
        "interrupted": result.interrupted,
        "elapsed_s": result.elapsed_s,
        "steps": result.steps,
        **{k: v for k, v in result.meta.items() if not isinstance(v, pd.DataFrame)},
    }
    sent = result.meta.get("supply_setpoints_c")
    if isinstance(sent, pd.DataFrame) and sent.to_numpy().any():
        sent.rename_axis("ts").reset_index().to_parquet(out / "supply_setpoints.parquet")
    (out / "totals.json").write_text(json.dumps(info, indent=2, ensure_ascii=False))
