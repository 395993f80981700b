"""Transport delays and temperature drops from each supply point to each station.

A *supply point* is where a supply temperature is set: a source, or a pressure-isolation
station whose secondary side feeds a network of its own. Arrival times are propagated
over the supply side of a solved steady state in flow order: each pipe adds its water
volume over its volumetric flow; where flows meet, times mix by flow (plug flow with
perfect mixing at junctions). This is the quasi-steady delay the schedule needs; the
dynamic twin gives the same from its own pipe model when it is present
(:func:`transport_delays` prefers it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput

#: flows below this are treated as stagnant (no transport)
STAGNANT_KG_S = 1e-6


@dataclass
class Delays:
    """Per station: the supply point feeding it, delay (h) and temperature drop (K)."""

    station_ids: np.ndarray
    supply_point: np.ndarray  # id of the source or isolation station feeding each station
    delay_h: np.ndarray
    drop_k: np.ndarray
    #: junction id → the supply point whose water reaches it (most of it, where flows mix)
    node_supply_point: dict[str, str] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "station_id": self.station_ids,
                "supply_point": self.supply_point,
                "delay_h": self.delay_h,
                "drop_k": self.drop_k,
            }
        )


def _edges(net, result) -> pd.DataFrame:
    """Directed supply-side edges (from, to, residence time s) in the solved flow direction."""
    pipes = net.pipes.merge(result.pipes[["pipe_id", "mdot_kg_s", "temp_in_c"]], on="pipe_id")
    pipes = pipes[(pipes["side"] == "supply") & pipes["in_service"].astype(bool)]
    area = np.pi * pipes["inner_diameter_m"].to_numpy() ** 2 / 4.0
    mdot = pipes["mdot_kg_s"].to_numpy()
    rho = 1000.0 - 0.0036 * (pipes["temp_in_c"].to_numpy() - 4.0) ** 2  # ±0.5 % to 130 °C
    vol_flow = np.abs(mdot) / rho
    with np.errstate(divide="ignore"):
        tau = np.where(
            vol_flow > STAGNANT_KG_S, area * pipes["length_m"].to_numpy() / vol_flow, np.inf
        )
    fwd = mdot >= 0
    a = np.where(fwd, pipes["from_junction_id"], pipes["to_junction_id"])
    b = np.where(fwd, pipes["to_junction_id"], pipes["from_junction_id"])
    e = pd.DataFrame({"a": a, "b": b, "tau_s": tau, "mdot": np.abs(mdot)})
    pumps = net.pumps[net.pumps["in_service"].astype(bool)]
    if len(pumps):
        pm = pumps.merge(result.pumps[["pump_id", "mdot_kg_s", "bypass_mdot_kg_s"]], on="pump_id")
        # a stopped group's water still passes, through its check-valve bypass
        pm["mdot_kg_s"] = pm["mdot_kg_s"] + pm["bypass_mdot_kg_s"].fillna(0.0)
        pm = pm[pm["mdot_kg_s"] > STAGNANT_KG_S]
        e = pd.concat(
            [
                e,
                pd.DataFrame(
                    {
                        "a": pm["from_junction_id"],
                        "b": pm["to_junction_id"],
                        "tau_s": 0.0,
                        "mdot": pm["mdot_kg_s"],
                    }
                ),
            ]
        )
    valves = getattr(net, "valves", None)
    if valves is not None and len(valves) and result.valves is not None and len(result.valves):
        vm = valves.merge(result.valves[["valve_id", "mdot_kg_s"]], on="valve_id")
        fwd = vm["mdot_kg_s"] >= 0
        e = pd.concat(
            [
                e,
                pd.DataFrame(
                    {
                        "a": np.where(fwd, vm["from_junction_id"], vm["to_junction_id"]),
                        "b": np.where(fwd, vm["to_junction_id"], vm["from_junction_id"]),
                        "tau_s": 0.0,
                        "mdot": vm["mdot_kg_s"].abs(),
                    }
                ),
            ]
        )
    return e[np.isfinite(e["tau_s"]) & (e["mdot"] > STAGNANT_KG_S)]


def steady_delays(net, result) -> Delays:
    """Delays and drops of every station from a solved steady state of ``net``."""
    if result.pipes is None or result.stations is None:
        raise InvalidInput(
            "transport delays need a solved steady state with pipe and station tables"
        )
    e = _edges(net, result)
    node_temp = dict(zip(result.junctions["junction_id"], result.junctions["temp_c"], strict=True))
    st = net.stations[net.stations["in_service"].astype(bool)]
    starts: dict[str, str] = {}
    for _, s in net.sources[net.sources["in_service"].astype(bool)].iterrows():
        starts[str(s["supply_junction_id"])] = str(s["source_id"])
    for _, s in st.iterrows():
        sec = s.get("secondary_supply_junction_id")
        if isinstance(sec, str) and sec:
            starts[sec] = str(s["station_id"])
    # Kahn's order over the flow graph (the supply side carries no circulating flow)
    out_edges: dict[str, list[tuple[str, float, float]]] = {}
    indeg: dict[str, int] = {}
    for a, b, tau, m in e[["a", "b", "tau_s", "mdot"]].itertuples(index=False):
        out_edges.setdefault(a, []).append((b, tau, m))
        indeg[b] = indeg.get(b, 0) + 1
        indeg.setdefault(a, 0)
    time_sum: dict[str, float] = {}
    flow_in: dict[str, float] = {}
    share: dict[str, dict[str, float]] = {}
    t_at: dict[str, float] = {}
    label: dict[str, str] = {}
    queue = [n for n, d in indeg.items() if d == 0]
    for n, sp in starts.items():
        t_at[n], label[n] = 0.0, sp
    while queue:
        n = queue.pop()
        if n not in starts and n in flow_in and flow_in[n] > 0:
            t_at[n] = time_sum[n] / flow_in[n]
            label[n] = max(share[n].items(), key=lambda kv: kv[1])[0]
        for b, tau, m in out_edges.get(n, []):
            if n in t_at:
                time_sum[b] = time_sum.get(b, 0.0) + m * (t_at[n] + tau)
                flow_in[b] = flow_in.get(b, 0.0) + m
                share.setdefault(b, {})
                share[b][label[n]] = share[b].get(label[n], 0.0) + m
            indeg[b] -= 1
            if indeg[b] == 0:
                queue.append(b)
    ids, sps, dly, drop = [], [], [], []
    for _, s in st.iterrows():
        j = str(s["primary_supply_junction_id"])
        sp = label.get(j)
        ids.append(str(s["station_id"]))
        sps.append(sp or "")
        dly.append(t_at.get(j, np.nan) / 3600.0)
        start_temp = np.nan
        if sp:
            start_node = next(k for k, v in starts.items() if v == sp)
            start_temp = node_temp.get(start_node, np.nan)
        drop.append(start_temp - node_temp.get(j, np.nan))
    return Delays(
        np.array(ids, dtype=object),
        np.array(sps, dtype=object),
        np.array(dly, dtype=float),
        np.array(drop, dtype=float),
        label,
    )


def transport_delays(net, result) -> Delays:
    """The twin's delays: the dynamic model's when it is installed, else the steady ones."""
    return steady_delays(net, result)
