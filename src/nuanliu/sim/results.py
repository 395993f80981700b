"""Result tables per element kind, the summary and the physical-limit violations of a
steady solve; Parquet output.

Units follow the network tables: bar (gauge) for pressures, °C, kg/s, W, m/s.
Temperatures of an element are given in the direction the water actually flows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from nuanliu.errors import InvalidInput
from nuanliu.physics.machines import hydraulic_power_w
from nuanliu.sim.compile import BAR_PA, CompiledNetwork
from nuanliu.sim.hydraulics import PUMP_BYPASSED, PUMP_RUNNING, HydraulicResult
from nuanliu.sim.limits import LimitSettings, check_limits
from nuanliu.sim.options import SolverOptions
from nuanliu.sim.steady import SteadyResult, SteadyState

FloatArray = NDArray[np.float64]


def build_result(
    cn: CompiledNetwork,
    st: SteadyState,
    hyd: HydraulicResult,
    opts: SolverOptions,
    status: str,
    iterations: int,
    history: list[dict[str, float]],
    q_cons_w: FloatArray,
    q_stat_w: FloatArray,
    stations_passed_w: FloatArray,
    demand_scale: float,
) -> SteadyResult:
    water = opts.water
    nr = cn.ref_slice.start
    q = hyd.q_kg_s
    p_bar = hyd.p_pa / BAR_PA
    tn = st.node_temp_c
    t_in, t_out = st.edge_in_c, st.edge_out_c
    m_all = np.r_[q[:nr], st.m_fixed]
    heat_drop_w = np.abs(m_all) * water.dh(t_in, t_out)  # >0: heat leaves the water

    jfull = len(cn.junction_ids)
    jp = np.full(jfull, np.nan)
    jt = np.full(jfull, np.nan)
    jp[cn.node_junction] = p_bar
    jt[cn.node_junction] = tn
    junctions = pd.DataFrame({"junction_id": cn.junction_ids, "pressure_bar": jp, "temp_c": jt})

    def branch(sl: slice, ids: Any, fixed: bool = False) -> dict[str, Any]:
        off = nr if fixed else 0
        e = np.arange(sl.start, sl.stop)
        frm = (cn.f_from if fixed else cn.e_from)[e]
        to = (cn.f_to if fixed else cn.e_to)[e]
        m = st.m_fixed[e] if fixed else q[e]
        return {
            "ids": ids,
            "mdot_kg_s": m,
            "p_from_bar": p_bar[frm],
            "p_to_bar": p_bar[to],
            "temp_in_c": t_in[off + e],
            "temp_out_c": t_out[off + e],
            "heat_w": heat_drop_w[off + e],
        }

    # pipes
    b = branch(cn.pipe_slice, cn.pipes["ids"])
    pp = cn.pipes
    rho = water.density(0.5 * (b["temp_in_c"] + b["temp_out_c"]))
    area = 0.25 * np.pi * pp["diameter_m"] ** 2
    pipes = pd.DataFrame(
        {
            "pipe_id": b["ids"],
            "side": pp["side"],
            "mdot_kg_s": b["mdot_kg_s"],
            "velocity_m_s": b["mdot_kg_s"] / (rho * area),
            "p_from_bar": b["p_from_bar"],
            "p_to_bar": b["p_to_bar"],
            "dp_bar": b["p_from_bar"] - b["p_to_bar"],
            "temp_in_c": b["temp_in_c"],
            "temp_out_c": b["temp_out_c"],
            "heat_loss_w": b["heat_w"],
            "reynolds": hyd.law.reynolds,
            "friction_factor": hyd.law.friction,
            "reverse_flow": b["mdot_kg_s"] < 0,
        }
    )
    # valves
    b = branch(cn.valve_slice, cn.valves["ids"])
    valves = pd.DataFrame(
        {
            "valve_id": b["ids"],
            "mdot_kg_s": b["mdot_kg_s"],
            "p_from_bar": b["p_from_bar"],
            "p_to_bar": b["p_to_bar"],
            "dp_bar": b["p_from_bar"] - b["p_to_bar"],
            "temp_c": b["temp_in_c"],
            "opening": cn.valves["opening"],
        }
    )
    # pumps
    b = branch(cn.pump_slice, cn.pumps["ids"])
    lift_pa = (b["p_to_bar"] - b["p_from_bar"]) * BAR_PA
    rho_p = water.density(b["temp_in_c"])
    # staging (part-load control) may stop pumps: a stopped pump draws no power; with its
    # group's bypass open, the edge's flow is the bypass's, not the pump's
    state = cn.pumps["state"]
    running = state == PUMP_RUNNING
    bypassed = state == PUMP_BYPASSED
    hyd_w = np.maximum(hydraulic_power_w(b["mdot_kg_s"], lift_pa, rho_p), 0.0) * running
    pumps = pd.DataFrame(
        {
            "pump_id": b["ids"],
            "running": running,
            # a stopped pump's closed check valve is a resistance (hydraulics.
            # STOPPED_PA_PER_KG_S) whose numerical leak, ~1e-3 kg/s per bar, is not flow
            "mdot_kg_s": np.where(running, b["mdot_kg_s"], 0.0),
            "bypass_mdot_kg_s": np.where(bypassed, b["mdot_kg_s"], 0.0),
            "p_from_bar": b["p_from_bar"],
            "p_to_bar": b["p_to_bar"],
            "lift_bar": lift_pa / BAR_PA,
            "temp_c": b["temp_in_c"],
            "hydraulic_power_w": hyd_w,
            "electric_power_w": hyd_w / cn.pumps["efficiency"],
        }
    )

    # sources: pressure sources (lifts) then flow/heat sources
    lifts = cn.lifts
    b = branch(cn.lift_slice, lifts["ids"])
    is_src = ~lifts["is_station"]
    lift_w = np.maximum(
        hydraulic_power_w(
            b["mdot_kg_s"],
            (b["p_to_bar"] - b["p_from_bar"]) * BAR_PA,
            water.density(b["temp_in_c"]),
        ),
        0.0,
    )
    lift_heat_w = -b["heat_w"]  # heat added to the water
    bf = branch(cn.fsrc_slice, cn.sources["ids"], fixed=True)
    src_cap = cn.sources["capacity_w"]
    p_src_tab = cn.tables["p_sources"]
    p_cap = (
        pd.to_numeric(p_src_tab["capacity_w"], errors="coerce").to_numpy(dtype=float)
        if "capacity_w" in p_src_tab.columns
        else np.full(len(p_src_tab), np.nan)
    )
    src_heat = np.r_[lift_heat_w[is_src], -bf["heat_w"]]
    cap = np.r_[p_cap, src_cap]
    sources = pd.DataFrame(
        {
            "source_id": np.r_[b["ids"][is_src], bf["ids"]],
            "control": np.r_[
                np.full(int(is_src.sum()), "pressure", dtype=object),
                np.where(cn.sources["heat_control"], "heat", "flow").astype(object),
            ],
            "mdot_kg_s": np.r_[b["mdot_kg_s"][is_src], bf["mdot_kg_s"]],
            "supply_temp_c": np.r_[b["temp_out_c"][is_src], bf["temp_out_c"]],
            "return_temp_c": np.r_[b["temp_in_c"][is_src], bf["temp_in_c"]],
            "p_supply_bar": np.r_[b["p_to_bar"][is_src], bf["p_to_bar"]],
            "p_return_bar": np.r_[b["p_from_bar"][is_src], bf["p_from_bar"]],
            "heat_w": src_heat,
            "pump_power_w": np.r_[
                lift_w[is_src] / opts.source_pump_efficiency, np.zeros(len(bf["ids"]))
            ],
            "over_capacity": np.where(np.isnan(cap), False, src_heat > cap),
        }
    )

    # stations
    bs = branch(cn.stat_slice, cn.stations["ids"], fixed=True)
    stat = cn.stations
    kind = cn.tables["stations"]["kind"].astype(str).to_numpy() if len(stat["ids"]) else []
    sec_mdot = np.full(len(stat["ids"]), np.nan)
    sec_sup = stat["sec_supply_c"].copy()
    sec_ret = stat["sec_return_c"].copy()
    rows = np.flatnonzero(stat["modelled"])
    if len(rows):
        lr = stat["lift_row"][rows]
        e = cn.lift_slice.start + lr
        sec_mdot[rows] = q[e]
        sec_sup[rows] = st.lift_temp_c[lr]
        sec_ret[rows] = tn[cn.e_from[e]]
    un = ~stat["modelled"]
    dts = np.where(un, sec_sup - sec_ret, np.nan)
    sec_mdot = np.where(
        un,
        q_stat_w / (water.cp(0.5 * (sec_sup + sec_ret)) * np.where(dts > 0, dts, np.nan)),
        sec_mdot,
    )
    st_heat = bs["heat_w"]
    stations = pd.DataFrame(
        {
            "station_id": bs["ids"],
            "kind": kind,
            "secondary_modelled": stat["modelled"],
            "mdot_kg_s": bs["mdot_kg_s"],
            "p_from_bar": bs["p_from_bar"],
            "p_to_bar": bs["p_to_bar"],
            "dp_bar": bs["p_from_bar"] - bs["p_to_bar"],
            "temp_in_c": bs["temp_in_c"],
            "temp_out_c": bs["temp_out_c"],
            "heat_demand_w": q_stat_w,
            "heat_w": st_heat,
            "shortfall_w": np.maximum(q_stat_w - st_heat, 0.0),
            "secondary_mdot_kg_s": sec_mdot,
            "secondary_supply_temp_c": sec_sup,
            "secondary_return_temp_c": sec_ret,
        }
    )

    # consumers
    bc = branch(cn.cons_slice, cn.consumers["ids"], fixed=True)
    dp_c = bc["p_from_bar"] - bc["p_to_bar"]
    min_dp = cn.consumers["min_dp_pa"] / BAR_PA
    consumers = pd.DataFrame(
        {
            "consumer_id": bc["ids"],
            "mdot_kg_s": bc["mdot_kg_s"],
            "p_supply_bar": bc["p_from_bar"],
            "p_return_bar": bc["p_to_bar"],
            "dp_bar": dp_c,
            "dp_ok": dp_c >= min_dp,
            "supply_temp_c": bc["temp_in_c"],
            "return_temp_c": bc["temp_out_c"],
            "heat_demand_w": q_cons_w,
            "heat_w": bc["heat_w"],
            "shortfall_w": np.maximum(q_cons_w - bc["heat_w"], 0.0),
        }
    )

    produced = float(sources["heat_w"].sum())
    delivered_final = float(
        consumers["heat_w"].sum() + stations.loc[~stat["modelled"], "heat_w"].sum()
    )
    lost = float(pipes["heat_loss_w"].sum())
    # Isolation stations pass heat on: the primary extraction minus the secondary
    # injection is zero at convergence and is part of the balance check.
    iso_net = (
        float(st_heat[stat["modelled"]].sum() - lift_heat_w[~is_src].sum()) if len(rows) else 0.0
    )
    other = float(heat_drop_w[:nr].sum() - pipes["heat_loss_w"].sum() + lift_heat_w.sum())
    residual = produced - delivered_final - lost - iso_net - other
    pump_el = float(pumps["electric_power_w"].sum() + sources["pump_power_w"].sum())
    # Worst differential pressure over everything that draws from the network:
    # consumers and heat-exchange stations (primary side).
    dp_all = np.r_[dp_c, bs["p_from_bar"] - bs["p_to_bar"]]
    need_all = np.r_[min_dp, np.zeros(len(bs["ids"]))]
    ids_all = np.r_[bc["ids"], bs["ids"]]
    if len(dp_all):
        worst = int(np.argmin(dp_all - need_all))
        worst_id, worst_dp = str(ids_all[worst]), float(dp_all[worst])
    else:
        worst_id, worst_dp = "", float("nan")
    summary = {
        "status": status,
        "iterations": iterations,
        "demand_scale": demand_scale,
        "heat_produced_w": produced,
        "heat_delivered_w": delivered_final,
        "heat_lost_w": lost,
        "heat_demand_w": float(q_cons_w.sum() + q_stat_w[~stat["modelled"]].sum()),
        "shortfall_w": float(
            consumers["shortfall_w"].sum() + stations.loc[~stat["modelled"], "shortfall_w"].sum()
        ),
        # short = more than 0.01 % of its demand missing (solver tolerance is far below)
        "consumers_short": int((consumers["shortfall_w"] > 1e-4 * np.maximum(q_cons_w, 1.0)).sum()),
        "pump_electricity_w": pump_el,
        "worst_consumer_dp_bar": worst_dp,
        "worst_consumer_id": worst_id,
        "consumers_below_min_dp": int((~consumers["dp_ok"]).sum()),
        "reverse_flow_pipes": int(pipes["reverse_flow"].sum()),
        "energy_balance_residual_w": residual,
        "max_velocity_m_s": float(np.abs(pipes["velocity_m_s"]).max()) if len(pipes) else 0.0,
    }
    result = SteadyResult(
        status=status,
        iterations=iterations,
        residual_history=history,
        junctions=junctions,
        pipes=pipes,
        pumps=pumps,
        valves=valves,
        sources=sources,
        stations=stations,
        consumers=consumers,
        summary=summary,
        state=st,
    )
    # A converged state that breaks a physical limit is infeasible, never "converged".
    result.violations = check_limits(cn, result, LimitSettings.from_meta(cn.meta), water)
    if status == "converged" and len(result.violations):
        result.status = summary["status"] = "infeasible"
    summary["violations"] = len(result.violations)
    return result


def write_parquet(result: SteadyResult, path: str | Path) -> Path:
    """All result tables in one Parquet file, one row per element with an ``element`` kind
    column; the summary goes into the file's key-value metadata (``nuanliu.summary``)."""
    import json

    path = Path(path)
    frames = []
    for kind, df in result.tables().items():
        if df is None or not len(df):
            continue
        d = df.copy()
        idcol = d.columns[0]
        d = d.rename(columns={idcol: "element_id"})
        d.insert(0, "element", kind)
        frames.append(d)
    if not frames:
        raise InvalidInput("nothing to write: the result has no elements")
    table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"nuanliu.summary"] = json.dumps(result.summary, default=float).encode()
    if result.violations is not None and len(result.violations):
        meta[b"nuanliu.violations"] = result.violations.to_json(
            orient="records", force_ascii=False
        ).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path
