"""Build a :class:`ScheduleProblem` from a network, station forecasts and weather.

The twin enters through steady solves: a reference state at the horizon's mean load
gives every station's transport delay, temperature drop and return temperature and
every supply network's pipe conductance; a design state gives each station's design
flow (its flow limit once the network is balanced); a handful of states at other loads
and temperatures fit each supply network's pump electricity to its flow. Assumptions
(stated in docs/control.md): return temperatures and delays are held at the reference
state over the horizon; the buildings of a station act as one RC model whose
conductance comes from the design heat and whose time constant from the building
parameter model (:func:`nuanliu.buildings.params.draw_params`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from nuanliu.buildings.heating_curve import HeatingCurve
from nuanliu.control.delays import Delays, steady_delays
from nuanliu.control.problem import PumpModel, ScheduleProblem
from nuanliu.errors import InvalidInput
from nuanliu.sim import compile_network, solve_steady
from nuanliu.sim.options import SolverOptions

DESIGN_INDOOR_C = 18.0
STATION_APPROACH_K = 5.0
#: lowest supply set-point of a root source / an isolation station (°C)
ROOT_MIN_SUPPLY_C = 60.0
ISOLATION_MIN_SUPPLY_C = 50.0
#: load shares (of design) and temperature reductions (K) of the pump-fit solves
#: design supply − return of the supply points' heating curves (K): 130/55 and 120/45 °C
#: for primary (> 100 °C) supply points, else 20 K — typical Chinese design pairs
CURVE_DESIGN_DROP_HOT_K = 75.0
CURVE_DESIGN_DROP_K = 20.0
FIT_SCALES = (0.4, 1.0)
FIT_COOLER_K = 20.0


@dataclass
class Prices:
    """Heat price (元/GJ) and hourly electricity prices (元/kWh, Asia/Shanghai hours)."""

    heat_yuan_per_gj: float = 35.0
    #: time-of-use tariff by local hour; default: valley 23–7 h, peak 8–11 h and 18–22 h
    elec_yuan_per_kwh_by_hour: tuple[float, ...] = field(
        default_factory=lambda: tuple(
            0.30 if (h >= 23 or h < 7) else 0.80 if (8 <= h < 11 or 18 <= h < 22) else 0.55
            for h in range(24)
        )
    )

    def elec_per_mwh(self, idx: pd.DatetimeIndex) -> np.ndarray:
        hours = idx.tz_convert("Asia/Shanghai").hour
        return np.array(self.elec_yuan_per_kwh_by_hour)[hours] * 1000.0

    @property
    def heat_per_mwh(self) -> float:
        return self.heat_yuan_per_gj * 3.6


@dataclass
class TwinModel:
    """What the steady twin tells the scheduler about a network (built once per day)."""

    net: Any
    cn: Any
    sp_ids: list[str]
    sp_parent: np.ndarray
    sp_design_c: np.ndarray
    sp_min_c: np.ndarray
    sp_max_flow_kg_s: np.ndarray
    sp_approach_k: np.ndarray
    st_ids: np.ndarray
    st_design_w: np.ndarray
    st_design_flow_kg_s: np.ndarray
    st_sec_c: np.ndarray  # (n_st, 2) secondary design supply/return
    st_tau_h: np.ndarray
    pumps: list[PumpModel]
    design_outdoor_c: float
    elapsed_s: float = 0.0

    def curve(self, k: int) -> HeatingCurve:
        """Supply point ``k``'s heating curve (quality regulation to its design point)."""
        drop = CURVE_DESIGN_DROP_HOT_K if self.sp_design_c[k] > 100 else CURVE_DESIGN_DROP_K
        ret = self.sp_design_c[k] - drop
        return HeatingCurve.quality_regulation(
            design_outdoor_c=self.design_outdoor_c,
            design_supply_c=float(self.sp_design_c[k]),
            design_return_c=float(max(ret, DESIGN_INDOOR_C + 5.0)),
            min_supply_c=float(self.sp_min_c[k]) + 10.0,
        )

    def curve_schedule(self, outdoor_c: np.ndarray) -> np.ndarray:
        """Supply set-points (n_sp, hours) of the heating curves at ``outdoor_c`` now."""
        return np.array([self.curve(k).supply_temp_c(outdoor_c) for k in range(len(self.sp_ids))])


def _station_tau_h(st_ids: np.ndarray, units_per_station: int = 40) -> np.ndarray:
    """Mean building time constant (h) of each station from the building-parameter model."""
    from nuanliu.buildings.heating_curve import default_heating_curve
    from nuanliu.buildings.params import draw_params

    sid = np.repeat(st_ids.astype(str), units_per_station)
    units = pd.DataFrame(
        {
            "unit_id": [
                f"{s}-{i}"
                for s, i in zip(
                    sid, np.tile(np.arange(units_per_station), len(st_ids)), strict=True
                )
            ],
            "station_id": sid,
        }
    )
    p = draw_params(units, default_heating_curve())
    tau = (p.c_air_j_k + p.c_mass_j_k) / p.h_total_w_k / 3600.0
    return pd.Series(tau).groupby(sid).mean().reindex(st_ids.astype(str)).to_numpy()


def _flows(net: Any, res: Any, sp_ids: list[str]) -> np.ndarray:
    """Primary flow drawn by each supply point's network (kg/s)."""
    st = res.stations.set_index("station_id")
    out = np.zeros(len(sp_ids))
    for k, sid in enumerate(sp_ids):
        if sid in st.index:
            out[k] = float(st.loc[sid, "secondary_mdot_kg_s"])
        else:
            out[k] = float(res.sources.set_index("source_id").loc[sid, "mdot_kg_s"])
    return out


def pump_power_w(twin_or_ids: Any, cn: Any, res: Any) -> np.ndarray:
    """Pump electricity (W) attributed to each supply point's network.

    A root's network: every pump and source circulation pump of the solve
    (``summary["pump_electricity_w"]``). An isolation station's secondary circulation
    (its lift) is not in that summary, so it is computed here from the lift the
    controls found, the secondary flow and the lift's efficiency.
    """
    sp_ids = twin_or_ids.sp_ids if hasattr(twin_or_ids, "sp_ids") else list(twin_or_ids)
    out = np.zeros(len(sp_ids))
    lift_ids = list(cn.lifts["ids"])
    ctl = res.controls
    st = res.stations.set_index("station_id")
    for k, sid in enumerate(sp_ids):
        if sid not in st.index:
            out[k] = float(res.summary.get("pump_electricity_w", 0.0))
            continue
        i = lift_ids.index(sid)
        lift_pa = float(cn.lifts["lift_pa"][i])
        if ctl is not None and len(ctl):
            row = ctl[
                (ctl["actuator_kind"] == "station")
                & (ctl["kind"] == "dp")
                & (ctl["actuator_ids"].astype(str) == sid)
            ]
            if len(row):
                lift_pa = float(row["actuator_value"].iloc[0]) * 1e5
        m = float(st.loc[sid, "secondary_mdot_kg_s"])
        out[k] = lift_pa * m / 960.0 / float(cn.lifts["efficiency"][i])
    return out


def build_twin(net: Any, *, options: SolverOptions | None = None) -> TwinModel:
    """Design flows, curves and the pump-electricity fit from a few steady solves."""
    t0 = time.perf_counter()
    opts = options or SolverOptions(raise_on_failure=False)
    cn = compile_network(net)
    design_out = float(net.meta.get("design_outdoor_temp_c", opts.design_outdoor_temp_c))
    src = net.sources[net.sources["in_service"].astype(bool)]
    st = net.stations[net.stations["in_service"].astype(bool)]
    iso = st[st["secondary_supply_junction_id"].fillna("").astype(str) != ""]
    plain = st[st["secondary_supply_junction_id"].fillna("").astype(str) == ""]
    if len(src) == 0:
        raise InvalidInput("schedule: the network has no source in service")
    sp_ids = [str(s) for s in src["source_id"]] + [str(s) for s in iso["station_id"]]
    sp_design = np.concatenate(
        [src["supply_temp_c"].to_numpy(float), iso["secondary_supply_temp_c"].to_numpy(float)]
    )
    design = solve_steady(cn, outdoor_temp_c=design_out, options=opts)
    if not design.solved:
        raise InvalidInput(
            f"schedule: the design state of the network does not solve ({design.status})"
        )
    dl = steady_delays(net, design)
    parent = []
    for sid in sp_ids:
        if sid in set(src["source_id"].astype(str)):
            parent.append(-1)
        else:
            feeder = dl.supply_point[list(dl.station_ids).index(sid)]
            parent.append(sp_ids.index(feeder) if feeder in sp_ids else -1)
    # flow limit of an isolation station's primary: the velocity limit of the trunk
    # pipes that carry all of its flow
    pipes = net.pipes.merge(design.pipes[["pipe_id", "mdot_kg_s"]], on="pipe_id")
    vmax = (
        pipes["max_velocity_m_s"].to_numpy(float)
        if "max_velocity_m_s" in pipes
        else np.full(len(pipes), np.nan)
    )
    cap_pipe = np.pi * pipes["inner_diameter_m"].to_numpy(float) ** 2 / 4 * vmax * 960.0
    dst = design.stations.set_index("station_id")
    sp_max = np.full(len(sp_ids), np.inf)
    for k, sid in enumerate(sp_ids):
        if parent[k] >= 0:
            m_in = float(dst.loc[sid, "mdot_kg_s"])
            trunk = (pipes["mdot_kg_s"].abs().to_numpy() >= 0.99 * m_in) & np.isfinite(cap_pipe)
            sp_max[k] = float(cap_pipe[trunk].min()) if trunk.any() else m_in
    st_ids = plain["station_id"].astype(str).to_numpy()
    design_flow = dst.loc[st_ids, "mdot_kg_s"].to_numpy(float)
    # pump electricity vs flow: steady solves at several loads and cooler supplies
    rows, power = [], []
    for scale in FIT_SCALES:
        t_out = DESIGN_INDOOR_C - scale * (DESIGN_INDOOR_C - design_out)
        for cooler in (0.0, FIT_COOLER_K):
            temps = {
                sid: float(sp_design[k] - cooler) for k, sid in enumerate(sp_ids) if parent[k] < 0
            }
            if scale == 1.0 and cooler == 0.0:
                r = design  # already solved
            else:
                cn_k = _with_iso_supply(cn, sp_ids, parent, sp_design - cooler)
                r = solve_steady(cn_k, outdoor_temp_c=t_out, options=opts, supply_temp_c=temps)
            if not r.solved:
                continue
            rows.append(_flows(net, r, sp_ids))
            power.append(pump_power_w(sp_ids, cn, r) / 1e6)
    flows, pw = np.array(rows), np.array(power)
    pumps = []
    for k in range(len(sp_ids)):  # P = k2 M² + k3 M³, k2, k3 ≥ 0 (convex)
        a = np.column_stack([flows[:, k] ** 2, flows[:, k] ** 3])
        col = np.maximum(a.max(axis=0), 1e-30)
        coef, _ = nnls(a / col, pw[:, k])
        coef = coef / col
        pumps.append(PumpModel(k2=float(coef[0]), k3=float(coef[1])))
    sp_min = np.array(
        [ROOT_MIN_SUPPLY_C if p < 0 else ISOLATION_MIN_SUPPLY_C for p in parent], dtype=float
    )
    return TwinModel(
        net=net,
        cn=cn,
        sp_ids=sp_ids,
        sp_parent=np.array(parent),
        sp_design_c=sp_design,
        sp_min_c=sp_min,
        sp_max_flow_kg_s=sp_max,
        sp_approach_k=np.array([0.0 if p < 0 else STATION_APPROACH_K for p in parent]),
        st_ids=st_ids,
        st_design_w=plain["heat_demand_w"].to_numpy(float),
        st_design_flow_kg_s=design_flow,
        st_sec_c=plain[["secondary_supply_temp_c", "secondary_return_temp_c"]].to_numpy(float),
        st_tau_h=_station_tau_h(st_ids),
        pumps=pumps,
        design_outdoor_c=design_out,
        elapsed_s=time.perf_counter() - t0,
    )


def _with_iso_supply(
    cn: Any, sp_ids: list[str], parent: list[int] | np.ndarray, temps: np.ndarray
) -> Any:
    """A shallow copy of a compiled network with isolation stations' secondary supply set."""
    import copy

    out = copy.copy(cn)
    out.lifts = dict(cn.lifts)
    out.lifts["supply_temp_c"] = cn.lifts["supply_temp_c"].copy()
    out.stations = dict(cn.stations)
    out.stations["sec_supply_c"] = cn.stations["sec_supply_c"].copy()
    lift_ids = list(cn.lifts["ids"])
    st_ids = list(cn.stations["ids"])
    for k, sid in enumerate(sp_ids):
        if parent[k] >= 0:
            if sid in lift_ids:
                out.lifts["supply_temp_c"][lift_ids.index(sid)] = temps[k]
            if sid in st_ids:
                out.stations["sec_supply_c"][st_ids.index(sid)] = temps[k]
    return out


def solve_hour(
    twin: TwinModel,
    supply_c: np.ndarray,
    demands_w: dict[str, float] | None,
    *,
    outdoor_temp_c: float | None = None,
    warm_start: Any = None,
    options: SolverOptions | None = None,
) -> Any:
    """The steady twin at one hour's supply set-points and station demands."""
    opts = options or SolverOptions(raise_on_failure=False)
    temps = {sid: float(supply_c[k]) for k, sid in enumerate(twin.sp_ids) if twin.sp_parent[k] < 0}
    cn = _with_iso_supply(twin.cn, twin.sp_ids, twin.sp_parent, supply_c)
    return solve_steady(
        cn,
        outdoor_temp_c=outdoor_temp_c,
        demands=demands_w,
        supply_temp_c=temps,
        warm_start=warm_start,
        options=opts,
    )


def problem_from_twin(
    twin: TwinModel,
    *,
    start: datetime | pd.Timestamp,
    forecast_w: np.ndarray,
    history_outdoor_c: np.ndarray,
    prices: Prices | None = None,
    history_supply_c: np.ndarray | None = None,
    indoor_start_c: np.ndarray | None = None,
    forecast_indoor_c: float = 20.0,
    indoor_min_c: float = 19.0,
    max_flow_ratio: float = 1.0,
    ramp_k_per_h: float = 6.0,
    ground_temp_c: float = 5.0,
    fixed_supply_c: dict[str, float] | None = None,
) -> tuple[ScheduleProblem, Delays]:
    """The schedule problem for ``forecast_w`` (n_st, hours) from ``start`` (UTC hour).

    ``history_outdoor_c``: outdoor temperatures of the hours before ``start`` (the
    heating curve ran then, unless ``history_supply_c`` (n_sp, n) says what ran).
    """
    prices = prices or Prices()
    fc = np.asarray(forecast_w, dtype=float)
    n_st = len(twin.st_ids)
    if fc.ndim != 2 or fc.shape[0] != n_st:
        raise InvalidInput(f"forecast: expected ({n_st}, hours) values, got {fc.shape}")
    bad = ~np.isfinite(fc)
    if bad.any():
        j, t = np.argwhere(bad)[0]
        raise InvalidInput(
            f"forecast for station {twin.st_ids[j]!r} hour {t} is missing; fill it with a"
            " fallback (design-heat degree-hour estimate) before scheduling"
        )
    hours = fc.shape[1]
    start = pd.Timestamp(start).tz_convert("UTC").floor("h")
    idx = pd.date_range(start, periods=hours, freq="h")
    # reference state: the horizon's mean station loads at the design supply temperatures
    mean_w = dict(zip(twin.st_ids, fc.mean(axis=1), strict=True))
    ref = solve_hour(twin, twin.sp_design_c, mean_w)
    if not ref.solved:
        raise InvalidInput(f"schedule: the reference state does not solve ({ref.status})")
    dl = steady_delays(twin.net, ref)
    pos = {s: i for i, s in enumerate(dl.station_ids)}
    sp_pos = {s: k for k, s in enumerate(twin.sp_ids)}
    st_rows = [pos[s] for s in twin.st_ids]
    st_sp = np.array([sp_pos.get(dl.supply_point[i], -1) for i in st_rows])
    if (st_sp < 0).any():
        lost = twin.st_ids[st_sp < 0]
        raise InvalidInput(
            f"schedule: station(s) {', '.join(lost[:5])} are not reached by any supply point"
        )
    rst = ref.stations.set_index("station_id")
    sp_delay = np.zeros(len(twin.sp_ids))
    sp_drop = np.zeros(len(twin.sp_ids))
    sp_ret = np.zeros(len(twin.sp_ids))
    for k, sid in enumerate(twin.sp_ids):
        if twin.sp_parent[k] >= 0:
            sp_delay[k] = dl.delay_h[pos[sid]]
            sp_drop[k] = dl.drop_k[pos[sid]]
            sp_ret[k] = float(rst.loc[sid, "temp_out_c"])
    # supply-side pipe conductance per supply network (from the reference losses)
    pipes = twin.net.pipes.merge(
        ref.pipes[["pipe_id", "temp_in_c", "temp_out_c", "heat_loss_w"]], on="pipe_id"
    )
    pipes = pipes[pipes["side"] == "supply"]
    mean_t = 0.5 * (pipes["temp_in_c"] + pipes["temp_out_c"]) - pipes["ambient_temp_c"].fillna(
        ground_temp_c
    )
    ua = (pipes["heat_loss_w"] / mean_t.where(mean_t.abs() > 1.0)).fillna(0.0) / 1e6
    owner = pipes["from_junction_id"].map(dl.node_supply_point).fillna("")
    sp_loss = np.array([float(ua[owner == sid].sum()) for sid in twin.sp_ids])
    # lowest acceptable primary supply: the station's secondary heating curve + approach
    share = fc / twin.st_design_w[:, None]
    t_eq = DESIGN_INDOOR_C - share * (DESIGN_INDOOR_C - twin.design_outdoor_c)
    min_sup = np.empty_like(fc)
    for sec in np.unique(twin.st_sec_c, axis=0):
        rows = np.all(twin.st_sec_c == sec, axis=1)
        curve = HeatingCurve.quality_regulation(
            design_outdoor_c=twin.design_outdoor_c,
            design_supply_c=float(sec[0]),
            design_return_c=float(sec[1]),
        )
        min_sup[rows] = curve.supply_temp_c(t_eq[rows]) + STATION_APPROACH_K
    n_hist = len(history_outdoor_c)
    hist = (
        np.asarray(history_supply_c, dtype=float)
        if history_supply_c is not None
        else twin.curve_schedule(np.asarray(history_outdoor_c, dtype=float)).reshape(
            len(twin.sp_ids), n_hist
        )
    )
    hist = np.array(hist, dtype=float)  # a copy: fixed points are written into it
    st_h = twin.st_design_w / (DESIGN_INDOOR_C - twin.design_outdoor_c) / 1e6
    # supply points held at a fixed set-point (e.g. an isolation station whose secondary
    # supply the operator does not schedule): their range collapses to that value
    sp_min, sp_max = twin.sp_min_c.copy(), twin.sp_design_c.copy()
    for sid, v in (fixed_supply_c or {}).items():
        if sid not in twin.sp_ids:
            raise InvalidInput(f"fixed_supply_c: {sid!r} is not a supply point ({twin.sp_ids})")
        sp_min[twin.sp_ids.index(sid)] = sp_max[twin.sp_ids.index(sid)] = float(v)
        hist[twin.sp_ids.index(sid)] = float(v)
    p = ScheduleProblem(
        start=start,
        hours=hours,
        sp_ids=list(twin.sp_ids),
        sp_parent=twin.sp_parent,
        sp_delay_h=sp_delay,
        sp_drop_k=sp_drop,
        sp_approach_k=twin.sp_approach_k,
        sp_return_c=sp_ret,
        sp_max_flow_kg_s=twin.sp_max_flow_kg_s,
        sp_min_c=sp_min,
        sp_max_c=sp_max,
        sp_loss_mw_per_k=sp_loss,
        sp_history_c=hist,
        pumps=twin.pumps,
        st_ids=twin.st_ids,
        st_sp=st_sp,
        st_delay_h=dl.delay_h[st_rows],
        st_drop_k=dl.drop_k[st_rows],
        st_return_c=rst.loc[twin.st_ids, "temp_out_c"].to_numpy(float),
        st_max_flow_kg_s=twin.st_design_flow_kg_s * max_flow_ratio,
        st_min_supply_c=min_sup,
        st_forecast_mw=fc / 1e6,
        st_h_mw_per_k=st_h,
        st_tau_h=twin.st_tau_h,
        st_indoor_start_c=(
            np.full(n_st, forecast_indoor_c)
            if indoor_start_c is None
            else np.asarray(indoor_start_c, float)
        ),
        ground_temp_c=ground_temp_c,
        forecast_indoor_c=forecast_indoor_c,
        indoor_min_c=indoor_min_c,
        ramp_k_per_h=ramp_k_per_h,
        heat_price_per_mwh=prices.heat_per_mwh,
        elec_price_per_mwh=prices.elec_per_mwh(idx),
    )
    return p, dl
