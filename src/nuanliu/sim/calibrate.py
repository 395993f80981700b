"""Calibrate the twin's uncertain parameters against measured station/source data.

Measurements are a long frame with ``site_id`` (a station, consumer or source id of
the network), ``ts`` (tz-aware) and any of ``supply_temp_c``, ``return_temp_c``,
``mdot_kg_s``, ``heat_kw``, ``dp_bar`` (or ``supply_pressure_bar`` and
``return_pressure_bar``) — the telemetry columns, so any source of measurements works.

The forward model is the dynamic twin (:class:`~nuanliu.sim.dynamic.DynamicNetwork`)
over the window, driven by what is measured and not fitted: the stations' and
consumers' heat (``heat_kw``; unmeasured ones follow the measured ones' share of
design) and the sources' supply temperatures. It predicts what the parameters
change: temperatures arriving at and returning from stations (heat loss, UA), flows
(UA) and differential pressures (roughness).

Two stages, both with ``scipy.optimize.least_squares`` (trust-region reflective,
bounded, on log multipliers):

1. network-wide multipliers of the pipes' heat-loss coefficients, the stations' UA
   and the pipes' roughness against every residual of the window;
2. per station (``per_station_ua``): its own UA multiplier against its own return
   temperature, given its measured inlet temperature and heat — independent fits,
   fanned out through :func:`nuanliu.distributed.run_tasks`.

Residuals are scaled to comparable units: 1 K for temperatures, 1 % of the site's
mean for flows and heat, 0.01 bar for pressure differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import least_squares

from nuanliu.errors import InvalidInput
from nuanliu.sim.compile import CompiledNetwork, compile_network
from nuanliu.sim.dynamic import DynamicNetwork, constant_cp_water
from nuanliu.sim.options import SolverOptions
from nuanliu.sim.steady import solve_steady

FloatArray = NDArray[np.float64]
PARAMETERS = ("heat_loss", "station_ua", "roughness")
QUANTITIES = ("supply_temp_c", "return_temp_c", "mdot_kg_s", "heat_kw", "dp_bar")
#: multipliers are searched within [1/BOUND, BOUND]
BOUND = 5.0


@dataclass
class Observations:
    """Measurements on the step grid: per quantity a [steps, sites] array (NaN = none)."""

    times: pd.DatetimeIndex
    sites: list[str]
    values: dict[str, FloatArray]


@dataclass
class CalibrationResult:
    """Fitted multipliers, fit before/after and the calibrated network."""

    multipliers: dict[str, float]
    station_ua: pd.DataFrame  # per station: multiplier, UA before/after (stage 2)
    fit: pd.DataFrame  # per quantity: RMSE before and after, samples
    network: Any  # the calibrated Network (new tables; the input is unchanged)
    optimizer: dict[str, Any] = field(default_factory=dict)


def observations(
    measurements: pd.DataFrame, step: str = "1h", start: Any = None, end: Any = None
) -> Observations:
    """Mean of each quantity per site and step (``ts`` floored to the step)."""
    if "site_id" not in measurements or "ts" not in measurements:
        raise InvalidInput("measurements need site_id and ts columns")
    df = measurements.copy()
    ts = pd.to_datetime(df["ts"])
    if ts.dt.tz is None:
        raise InvalidInput("measurements: ts must be timezone-aware")
    df["ts"] = ts.dt.tz_convert("UTC").dt.floor(step)
    if {"supply_pressure_bar", "return_pressure_bar"} <= set(df) and "dp_bar" not in df:
        df["dp_bar"] = df["supply_pressure_bar"] - df["return_pressure_bar"]
    if start is not None:
        df = df[df["ts"] >= _utc(start)]
    if end is not None:
        df = df[df["ts"] < _utc(end)]
    present = [q for q in QUANTITIES if q in df]
    if df.empty or not present:
        raise InvalidInput("no measurements with a known quantity in the window")
    df["site_id"] = df["site_id"].astype(str)
    grouped = df.groupby(["ts", "site_id"])[present].mean()
    times = pd.date_range(grouped.index.levels[0].min(), grouped.index.levels[0].max(), freq=step)
    sites = sorted(grouped.index.get_level_values(1).unique())
    values = {}
    for q in present:
        wide = grouped[q].unstack("site_id").reindex(index=times, columns=sites)
        values[q] = wide.to_numpy(dtype=float)
    return Observations(times, sites, values)


def _utc(t: Any) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return (ts.tz_localize("Asia/Shanghai") if ts.tz is None else ts).tz_convert("UTC")


def with_multipliers(cn: CompiledNetwork, m: dict[str, float]) -> CompiledNetwork:
    """A copy of the compiled network with parameter multipliers applied."""
    pipes = dict(cn.pipes)
    stations = dict(cn.stations)
    pipes["u_w_per_m_k"] = cn.pipes["u_w_per_m_k"] * m.get("heat_loss", 1.0)
    pipes["roughness_m"] = cn.pipes["roughness_m"] * m.get("roughness", 1.0)
    ua = cn.stations["ua_w_per_k"] * m.get("station_ua", 1.0)
    if "station_ua_each" in m:
        ua = ua * np.asarray(m["station_ua_each"], dtype=float)
    stations["ua_w_per_k"] = ua
    return replace(cn, pipes=pipes, stations=stations)


def predict(cn: CompiledNetwork, obs: Observations, step_s: float) -> dict[str, FloatArray]:
    """The twin's values at the measured sites over the window (same shapes as obs)."""
    cons_ids = list(cn.consumers["ids"])
    stat_ids = list(cn.stations["ids"])
    lift_ids = list(cn.lifts["ids"])
    fsrc_ids = list(cn.sources["ids"])
    idx_c = {s: i for i, s in enumerate(cons_ids)}
    idx_s = {s: i for i, s in enumerate(stat_ids)}
    src_lift = [i for i, s in enumerate(lift_ids) if not cn.lifts["is_station"][i]]
    idx_l = {lift_ids[i]: i for i in src_lift}
    idx_f = {s: i for i, s in enumerate(fsrc_ids)}
    unknown = [
        s
        for s in obs.sites
        if not ({s} & (idx_c.keys() | idx_s.keys() | idx_l.keys() | idx_f.keys()))
    ]
    if unknown:
        raise InvalidInput(f"measurements: site(s) not in the network: {unknown[:10]}")
    n = len(obs.times)
    heat = obs.values.get("heat_kw")
    design = np.r_[cn.consumers["heat_demand_w"], cn.stations["heat_demand_w"]]
    dem_ids = cons_ids + stat_ids
    site_col = {s: j for j, s in enumerate(obs.sites)}
    # demands per step: measured heat where measured, else design × the measured share
    demand = np.zeros((n, len(dem_ids)))
    meas_cols = [(k, site_col[s]) for k, s in enumerate(dem_ids) if s in site_col]
    for k in range(n):  # per step: the window is hours to weeks
        share = 0.5
        if heat is not None and meas_cols:
            got = [(kk, heat[k, j] * 1e3) for kk, j in meas_cols if np.isfinite(heat[k, j])]
            dsum = sum(design[kk] for kk, _ in got)
            if got and dsum > 0:
                share = sum(v for _, v in got) / dsum
            demand[k] = design * share
            for kk, v in got:
                demand[k, kk] = v
        else:
            demand[k] = design * share
    modelled_iso = np.r_[np.zeros(len(cons_ids), bool), cn.stations["modelled"]]
    demand[:, modelled_iso] = 0.0
    # supply temperatures of sources where measured
    sup = obs.values.get("supply_temp_c")
    base_sup = np.r_[cn.lifts["supply_temp_c"], cn.sources["supply_temp_c"]]
    supply = np.tile(base_sup, (n, 1))
    for s, j in site_col.items():
        col = idx_l.get(s)
        col = col if col is not None else (len(lift_ids) + idx_f[s] if s in idx_f else None)
        if col is not None and sup is not None:
            v = sup[:, j]
            ok = np.isfinite(v)
            if ok.any():
                supply[:, col] = np.where(ok, v, np.interp(np.arange(n), np.flatnonzero(ok), v[ok]))
    opts = SolverOptions(water=constant_cp_water())
    nc = len(cons_ids)
    supply_map = {
        str(i): float(supply[0, k])
        for k, i in enumerate(lift_ids + fsrc_ids)
        if (k >= len(lift_ids)) or not cn.lifts["is_station"][k]
    }
    init = solve_steady(
        cn,
        demands={
            dem_ids[k]: float(demand[0, k]) for k in range(len(dem_ids)) if not modelled_iso[k]
        },
        supply_temp_c=supply_map,
        options=opts,
        raise_on_failure=False,
    )
    if init.state is None:
        raise InvalidInput(f"{cn.name}: no steady state to start the calibration window from")
    dyn = DynamicNetwork(cn, options=opts)
    dyn.start_from(init)
    want_dp = "dp_bar" in obs.values
    keys = [q for q in QUANTITIES if q != "dp_bar" or want_dp]
    out = {q: np.full((n, len(obs.sites)), np.nan) for q in keys}
    nr = cn.ref_slice.start
    lsl = cn.lift_slice
    for k in range(n):
        res = dyn.step(
            step_s,
            consumer_demand_w=demand[k, :nc],
            station_demand_w=demand[k, nc:],
            supply_temp_c=supply[k],
            with_pressures=want_dp,
        )
        fin, fout = res.edge_in_c[nr:], res.edge_out_c[nr:]
        for s, j in site_col.items():  # per measured site: tens to hundreds
            if s in idx_c or s in idx_s:
                e = idx_c[s] if s in idx_c else cn.stat_slice.start + idx_s[s]
                vals = {
                    "supply_temp_c": fin[e],
                    "return_temp_c": fout[e],
                    "mdot_kg_s": res.m_fixed_kg_s[e],
                    "heat_kw": res.m_fixed_kg_s[e] * dyn.cp * (fin[e] - fout[e]) / 1e3,
                }
                if want_dp and res.pressure_pa is not None:
                    vals["dp_bar"] = (
                        res.pressure_pa[cn.f_from[e]] - res.pressure_pa[cn.f_to[e]]
                    ) / 1e5
            else:
                if s in idx_l:
                    e = lsl.start + idx_l[s]
                    m = abs(res.q_kg_s[e])
                    t_sup, t_ret = res.edge_out_c[e], res.edge_in_c[e]
                else:
                    e = cn.fsrc_slice.start + idx_f[s]
                    m = res.m_fixed_kg_s[e]
                    t_sup, t_ret = fout[e], fin[e]
                vals = {
                    "supply_temp_c": t_sup,
                    "return_temp_c": t_ret,
                    "mdot_kg_s": m,
                    "heat_kw": m * dyn.cp * (t_sup - t_ret) / 1e3,
                }
            for q in out:
                if q in vals:
                    out[q][k, j] = vals[q]
    return out


def _scales(obs: Observations) -> dict[str, FloatArray]:
    sc = {}
    for q, v in obs.values.items():
        if q.endswith("_c"):
            sc[q] = np.ones(v.shape[1])
        elif q == "dp_bar":
            sc[q] = np.full(v.shape[1], 0.01)
        else:
            mean = np.nanmean(np.abs(v), axis=0)
            sc[q] = 0.01 * np.where(np.isfinite(mean) & (mean > 0), mean, 1.0)
    return sc


def residuals(pred: dict[str, FloatArray], obs: Observations, fitted: Sequence[str]) -> FloatArray:
    """Scaled residuals of the quantities the fitted parameters act on."""
    sc = _scales(obs)
    parts = []
    for q in _quantities_for(fitted, obs):
        r = (pred[q] - obs.values[q]) / sc[q][None, :]
        parts.append(np.where(np.isfinite(r), r, 0.0).ravel())
    return np.concatenate(parts) if parts else np.zeros(0)


def _quantities_for(fitted: Sequence[str], obs: Observations) -> list[str]:
    qs = []
    if {"heat_loss", "station_ua"} & set(fitted):
        qs += ["supply_temp_c", "return_temp_c", "mdot_kg_s"]
    if "roughness" in fitted:
        qs += ["dp_bar"]
    return [q for q in dict.fromkeys(qs) if q in obs.values]


def fit_table(pred0, pred1, obs: Observations) -> pd.DataFrame:
    """RMSE per quantity before and after (in the quantity's unit)."""
    rows = []
    for q, v in obs.values.items():
        ok = np.isfinite(v) & np.isfinite(pred0[q]) & np.isfinite(pred1[q])
        if not ok.any():
            continue
        rows.append(
            {
                "quantity": q,
                "samples": int(ok.sum()),
                "rmse_before": float(np.sqrt(np.mean((pred0[q][ok] - v[ok]) ** 2))),
                "rmse_after": float(np.sqrt(np.mean((pred1[q][ok] - v[ok]) ** 2))),
            }
        )
    return pd.DataFrame(rows)


def calibrate(
    network: Any,
    measurements: pd.DataFrame,
    *,
    parameters: Sequence[str] = ("heat_loss", "station_ua"),
    start: Any = None,
    end: Any = None,
    step: str = "1h",
    per_station_ua: bool = False,
    scheduler: str | None = None,
    workers: int = 0,
    max_nfev: int = 60,
) -> CalibrationResult:
    """Fit ``parameters`` (any of heat_loss, station_ua, roughness) over the window."""
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise InvalidInput(f"unknown calibration parameter(s) {unknown}; known: {PARAMETERS}")
    if not parameters:
        raise InvalidInput("nothing to calibrate: give at least one parameter")
    net = network
    cn = network if isinstance(network, CompiledNetwork) else compile_network(network)
    obs = observations(measurements, step, start, end)
    if not _quantities_for(parameters, obs):
        raise InvalidInput(
            f"the measurements hold none of the quantities {parameters} act on "
            "(temperatures and flows for heat_loss/station_ua, dp_bar for roughness)"
        )
    step_s = pd.Timedelta(step).total_seconds()
    names = list(parameters)

    def run(x: FloatArray) -> dict[str, FloatArray]:
        return predict(with_multipliers(cn, dict(zip(names, np.exp(x), strict=True))), obs, step_s)

    pred0 = run(np.zeros(len(names)))
    sol = least_squares(
        lambda x: residuals(run(x), obs, names),
        np.zeros(len(names)),
        bounds=(-np.log(BOUND), np.log(BOUND)),
        diff_step=1e-3,
        x_scale=0.1,
        max_nfev=max_nfev,
        method="trf",
    )
    mult = dict(zip(names, np.exp(sol.x).tolist(), strict=True))
    fitted_cn = with_multipliers(cn, mult)
    pred1 = predict(fitted_cn, obs, step_s)
    each = pd.DataFrame(
        columns=["station_id", "multiplier", "ua_before_w_per_k", "ua_after_w_per_k"]
    )
    if per_station_ua and "station_ua" in names:
        each = fit_station_ua(fitted_cn, obs, pred1, scheduler=scheduler, workers=workers)
        if len(each):
            ratio = pd.Series(1.0, index=list(cn.stations["ids"]))
            ratio.loc[each["station_id"]] = each["multiplier"].to_numpy()
            mult_each = {**mult, "station_ua_each": ratio.to_numpy()}
            pred1 = predict(with_multipliers(cn, mult_each), obs, step_s)
            each["ua_before_w_per_k"] = cn.stations["ua_w_per_k"][
                [list(cn.stations["ids"]).index(s) for s in each["station_id"]]
            ]
            each["ua_after_w_per_k"] = (
                each["ua_before_w_per_k"] * mult.get("station_ua", 1.0) * each["multiplier"]
            )
    calibrated = (
        apply_to_network(net, cn, mult, each) if not isinstance(net, CompiledNetwork) else None
    )
    return CalibrationResult(
        multipliers=mult,
        station_ua=each,
        fit=fit_table(pred0, pred1, obs),
        network=calibrated,
        optimizer={
            "nfev": int(sol.nfev),
            "status": int(sol.status),
            "message": str(sol.message),
            "cost": float(sol.cost),
        },
    )


@dataclass(frozen=True)
class _StationFit:
    station_id: str
    inlet_c: FloatArray
    heat_w: FloatArray
    return_c: FloatArray
    sec_supply_c: float
    sec_return_c: float
    ua_w_per_k: float


def _fit_one_station(task: _StationFit) -> dict[str, Any]:
    """One station's UA multiplier from its inlet temperature, heat and return."""
    from nuanliu.sim.controls import station_flows

    water = constant_cp_water()
    ok = np.isfinite(task.inlet_c) & np.isfinite(task.heat_w) & np.isfinite(task.return_c)
    if ok.sum() < 2:
        return {"station_id": task.station_id, "multiplier": 1.0, "samples": int(ok.sum())}
    tin, q, tr = task.inlet_c[ok], task.heat_w[ok], task.return_c[ok]
    ones = np.ones(len(tin))

    def resid(x: FloatArray) -> FloatArray:
        law, _ = station_flows(
            tin,
            q,
            task.sec_supply_c * ones,
            task.sec_return_c * ones,
            task.ua_w_per_k * np.exp(x[0]) * ones,
            np.full(len(tin), np.nan),
            min_delta_t_k=5.0,
            water=water,
        )
        pred = np.where(law.alpha == 0.0, law.beta, law.alpha * tin + law.beta)
        return pred - tr

    sol = least_squares(resid, [0.0], bounds=(-np.log(BOUND), np.log(BOUND)), diff_step=1e-3)
    return {
        "station_id": task.station_id,
        "multiplier": float(np.exp(sol.x[0])),
        "samples": int(ok.sum()),
    }


def fit_station_ua(
    cn: CompiledNetwork,
    obs: Observations,
    pred: dict[str, FloatArray],
    *,
    scheduler: str | None = None,
    workers: int = 0,
) -> pd.DataFrame:
    """Per-station UA multipliers (stage 2), fanned out through run_tasks."""
    from nuanliu.distributed import run_tasks

    if "return_temp_c" not in obs.values:
        return pd.DataFrame(columns=["station_id", "multiplier", "samples"])
    stat_ids = list(cn.stations["ids"])
    tasks = []
    for j, s in enumerate(obs.sites):
        if s not in stat_ids:
            continue
        i = stat_ids.index(s)
        if cn.stations["modelled"][i] or not np.isfinite(cn.stations["ua_w_per_k"][i]):
            continue
        inlet = (
            obs.values["supply_temp_c"][:, j]
            if "supply_temp_c" in obs.values
            else pred["supply_temp_c"][:, j]
        )
        if "heat_kw" in obs.values:
            heat = obs.values["heat_kw"][:, j] * 1e3
        else:
            continue
        tasks.append(
            _StationFit(
                s,
                inlet,
                heat,
                obs.values["return_temp_c"][:, j],
                float(cn.stations["sec_supply_c"][i]),
                float(cn.stations["sec_return_c"][i]),
                float(cn.stations["ua_w_per_k"][i]),
            )
        )
    rows = run_tasks(_fit_one_station, tasks, scheduler=scheduler, workers=workers)
    return pd.DataFrame(rows, columns=["station_id", "multiplier", "samples"])


def apply_to_network(net: Any, cn: CompiledNetwork, mult: dict[str, float], each: pd.DataFrame):
    """A new Network with the fitted values written into its tables."""
    from nuanliu.network.model import Network

    tables = {k: v.copy() for k, v in net.tables.items()}
    pipes = tables["pipes"]
    if "heat_loss" in mult:
        pipes["u_w_per_m_k"] = pd.to_numeric(pipes["u_w_per_m_k"]) * mult["heat_loss"]
    if "roughness" in mult:
        rough = pd.to_numeric(pipes.get("roughness_mm", pd.Series(0.05, index=pipes.index)))
        pipes["roughness_mm"] = rough.fillna(0.05) * mult["roughness"]
    stations = tables["stations"]
    if "station_ua" in mult and len(stations):
        ua = pd.to_numeric(stations["ua_w_per_k"]) * mult["station_ua"]
        if len(each):
            per = each.set_index("station_id")["multiplier"]
            ua = ua * stations["station_id"].map(per).fillna(1.0).astype(float)
        stations["ua_w_per_k"] = ua
    meta = dict(net.meta or {})
    meta["calibration"] = {k: v for k, v in mult.items() if k != "station_ua_each"}
    return Network.from_tables(name=net.name, meta=meta, **tables)
