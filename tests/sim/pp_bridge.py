"""Test helper: run a Nuanliu network through pandapipes (the independent oracle).

Written here (not in nuanliu.network.io) so the cross-validation controls exactly how
each element is mapped:

* junctions → junctions (height = elevation);
* pipes → pipes with k = roughness, ζ = minor loss, u_w_per_m2k = U/(π d_inner)
  (pandapipes multiplies its area-specific coefficient by π times the diameter);
* a `pressure` source → ``circ_pump_const_pressure`` (p at the outlet, lift, T);
* a `flow` source → a sink at its inlet, a source at its outlet and an ext_grid of
  type "t" holding its supply temperature;
* consumers → ``heat_consumer`` with ``qext_w`` and ``treturn_k`` (return-temperature
  control) or ``controlled_mdot_kg_per_s`` (flow control).

Water properties: :func:`pandapipes_water` loads pandapipes' own tables into a
:class:`nuanliu.physics.water.WaterProperties` so both engines use the same water.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from nuanliu.physics.water import WaterProperties

KELVIN = 273.15


def pandapipes_water() -> WaterProperties:
    import pandapipes

    base = Path(pandapipes.__file__).parent / "properties" / "water"

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        a = np.loadtxt(base / f"{name}.txt")
        return a[:, 0] - KELVIN, a[:, 1]

    return WaterProperties(load("density"), load("viscosity"), load("heat_capacity"), "pandapipes")


def to_pandapipes(net) -> tuple[object, dict[str, int]]:
    """A pandapipes net equivalent to ``net``; returns it and junction id → index."""
    import pandapipes as pp

    ppn = pp.create_empty_network(fluid="water")
    j = net.junctions
    hot = float(np.nanmax(net.sources["supply_temp_c"])) + KELVIN
    idx = pp.create_junctions(
        ppn,
        len(j),
        pn_bar=5.0,
        tfluid_k=hot,
        height_m=j["elevation_m"].to_numpy(),
        name=j["junction_id"].tolist(),
    )
    jix = dict(zip(j["junction_id"], idx, strict=True))
    p = net.pipes[net.pipes["in_service"]]
    if len(p):
        d = p["inner_diameter_m"].to_numpy()
        pp.create_pipes_from_parameters(
            ppn,
            [jix[x] for x in p["from_junction_id"]],
            [jix[x] for x in p["to_junction_id"]],
            length_km=p["length_m"].to_numpy() / 1000.0,
            diameter_m=d,
            k_mm=p["roughness_mm"].to_numpy(),
            loss_coefficient=p["minor_loss_zeta"].to_numpy(),
            u_w_per_m2k=p["u_w_per_m_k"].to_numpy() / (np.pi * d),
            text_k=p["ambient_temp_c"].to_numpy() + KELVIN,
            name=p["pipe_id"].tolist(),
        )
    for _, s in net.sources[net.sources["in_service"]].iterrows():
        if s["control"] == "pressure":
            pp.create_circ_pump_const_pressure(
                ppn,
                jix[s["return_junction_id"]],
                jix[s["supply_junction_id"]],
                p_flow_bar=s["supply_pressure_bar"],
                plift_bar=s["supply_pressure_bar"] - s["return_pressure_bar"],
                t_flow_k=s["supply_temp_c"] + KELVIN,
                name=s["source_id"],
            )
        elif s["control"] == "flow":
            pp.create_sink(ppn, jix[s["return_junction_id"]], s["mdot_kg_s"])
            pp.create_source(ppn, jix[s["supply_junction_id"]], s["mdot_kg_s"])
            pp.create_ext_grid(
                ppn, jix[s["supply_junction_id"]], t_k=s["supply_temp_c"] + KELVIN, type="t"
            )
        else:
            raise ValueError("the pandapipes bridge maps pressure and flow sources only")
    c = net.consumers[net.consumers["in_service"]]
    if len(c):
        rt = c["control"] == "return_temp"
        cr = c[rt]
        if len(cr):
            pp.create_heat_consumers(
                ppn,
                [jix[x] for x in cr["supply_junction_id"]],
                [jix[x] for x in cr["return_junction_id"]],
                qext_w=cr["heat_demand_w"].to_numpy(),
                treturn_k=cr["return_temp_c"].to_numpy() + KELVIN,
                name=cr["consumer_id"].tolist(),
            )
        cf = c[~rt]
        if len(cf):
            pp.create_heat_consumers(
                ppn,
                [jix[x] for x in cf["supply_junction_id"]],
                [jix[x] for x in cf["return_junction_id"]],
                qext_w=cf["heat_demand_w"].to_numpy(),
                controlled_mdot_kg_per_s=cf["mdot_kg_s"].to_numpy(),
                name=cf["consumer_id"].tolist(),
            )
    return ppn, jix


def run_pandapipes(
    ppn,
    *,
    mode: str = "bidirectional",
    tight: bool = True,
    ambient_k: float = 283.15,
    use_numba: bool = True,
) -> dict[str, float]:
    """Run pandapipes' pipeflow with Colebrook–White; returns timings in seconds.

    Tests pass ``use_numba=False``: numba's first-call compilation costs ~25 s and the
    results are the same.
    """
    import pandapipes as pp

    kw = dict(
        mode=mode, friction_model="colebrook", use_numba=use_numba, ambient_temperature=ambient_k
    )
    if tight:
        kw.update(
            tol_p=1e-8,
            tol_m=1e-8,
            tol_T=1e-7,
            tol_res=1e-5,  # absolute: 1e-7 is below round-off at ~1000 kg/s
            max_iter_hyd=100,
            max_iter_therm=100,
            max_iter_bidirect=100,
            max_iter_colebrook=100,
            tolerance_colebrook=1e-12,
        )
    t0 = time.perf_counter()
    pp.pipeflow(ppn, **kw)
    return {"total_s": time.perf_counter() - t0}


def pandapipes_results(net, ppn, jix: dict[str, int]) -> dict[str, pd.DataFrame]:
    """pandapipes results keyed like Nuanliu's (ids, °C, bar)."""
    p = net.pipes[net.pipes["in_service"]]
    rp = ppn.res_pipe
    pipes = pd.DataFrame(
        {
            "pipe_id": p["pipe_id"].to_numpy(),
            "mdot_kg_s": rp["mdot_from_kg_per_s"].to_numpy(),
            "temp_from_c": rp["t_from_k"].to_numpy() - KELVIN,
            "temp_to_c": rp["t_to_k"].to_numpy() - KELVIN,
        }
    )
    rj = ppn.res_junction
    jun = pd.DataFrame(
        {
            "junction_id": list(jix.keys()),
            "pressure_bar": rj.loc[list(jix.values()), "p_bar"].to_numpy(),
            "temp_c": rj.loc[list(jix.values()), "t_k"].to_numpy() - KELVIN,
        }
    )
    out = {"pipes": pipes, "junctions": jun}
    if "heat_consumer" in ppn and len(ppn.heat_consumer):
        hc = ppn.heat_consumer
        rc = ppn.res_heat_consumer
        out["consumers"] = pd.DataFrame(
            {
                "consumer_id": hc["name"].to_numpy(),
                "mdot_kg_s": rc["mdot_from_kg_per_s"].to_numpy(),
                "heat_w": rc["qext_w"].to_numpy(),
            }
        )
    return out


def run_native(ppn, *, ambient_k: float) -> object:
    """Run a native pandapipes net (a copy; bidirectional, tight, Colebrook–White)."""
    import copy

    ran = copy.deepcopy(ppn)
    run_pandapipes(ran, ambient_k=ambient_k, use_numba=False)
    return ran


def nuanliu_pressure_bar(ppn, ref_junction: int) -> pd.Series:
    """pandapipes' junction pressures in Nuanliu's convention.

    pandapipes reports gauge pressure against the local barometric air pressure at each
    junction's height (``p_correction_height_air``); Nuanliu's gauge is against one
    constant atmosphere, equal to pandapipes' at the pressure reference (the junction
    whose pressure the plant holds): p = p_pandapipes + p_air(h) − p_air(h_ref).
    """
    from pandapipes.component_models.component_toolbox import p_correction_height_air

    h = ppn.junction["height_m"].astype(float)
    air = pd.Series(p_correction_height_air(h.to_numpy()), index=h.index)
    return ppn.res_junction["p_bar"] + air - air[ref_junction]


def native_results(ppn, ref_junction: int) -> dict[str, pd.Series]:
    """pandapipes results of a native net keyed by the ids the importer gives."""

    def keyed(table: str, col: str, prefix: str) -> pd.Series:
        res = ppn[f"res_{table}"]
        return pd.Series(res[col].to_numpy(float), index=[f"{prefix}{i}" for i in res.index])

    out = {
        "pipe_mdot": keyed("pipe", "mdot_from_kg_per_s", "P"),
        "junction_p": pd.Series(
            nuanliu_pressure_bar(ppn, ref_junction).to_numpy(),
            index=[f"J{i}" for i in ppn.junction.index],
        ),
        "junction_t": keyed("junction", "t_k", "J") - KELVIN,
    }
    if "heat_consumer" in ppn and len(ppn.heat_consumer):
        out["consumer_mdot"] = keyed("heat_consumer", "mdot_from_kg_per_s", "C")
    if "pump" in ppn and len(ppn.pump):
        out["pump_mdot"] = keyed("pump", "mdot_from_kg_per_s", "PU")
        out["pump_lift"] = keyed("pump", "deltap_bar", "PU")
    if "valve" in ppn and len(ppn.valve):
        out["valve_mdot"] = keyed("valve", "mdot_from_kg_per_s", "V")
    return out
