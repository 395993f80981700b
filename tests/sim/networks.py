"""Small test networks built from the table contract (docs/interfaces.md §1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nuanliu.network.generate import generate_city
from nuanliu.network.model import Network


def line_network(
    *,
    consumers: int = 3,
    length_m: float = 400.0,
    diameter_m: float = 0.1,
    u_w_per_m_k: float = 0.4,
    demand_w: float = 300e3,
    supply_temp_c: float = 100.0,
    return_temp_c: float = 50.0,
) -> Network:
    """A source and a chain of junctions with one consumer at each (supply + return pipes)."""
    junctions = [{"junction_id": "SS"}, {"junction_id": "SR"}]
    pipes = []
    cons = []
    prev_s, prev_r = "SS", "SR"
    for i in range(consumers):
        s, r = f"J{i}S", f"J{i}R"
        junctions += [{"junction_id": s}, {"junction_id": r}]
        common = {
            "length_m": length_m,
            "inner_diameter_m": diameter_m,
            "u_w_per_m_k": u_w_per_m_k,
            "ambient_temp_c": 8.0,
        }
        pipes.append(
            {
                "pipe_id": f"P{i}S",
                "from_junction_id": prev_s,
                "to_junction_id": s,
                "side": "supply",
                **common,
            }
        )
        pipes.append(
            {
                "pipe_id": f"P{i}R",
                "from_junction_id": r,
                "to_junction_id": prev_r,
                "side": "return",
                **common,
            }
        )
        cons.append(
            {
                "consumer_id": f"C{i}",
                "supply_junction_id": s,
                "return_junction_id": r,
                "heat_demand_w": demand_w,
                "control": "return_temp",
                "return_temp_c": return_temp_c,
            }
        )
        prev_s, prev_r = s, r
    sources = [
        {
            "source_id": "SRC",
            "supply_junction_id": "SS",
            "return_junction_id": "SR",
            "control": "pressure",
            "supply_temp_c": supply_temp_c,
            "supply_pressure_bar": 6.0,
            "return_pressure_bar": 2.0,
        }
    ]
    return Network.from_tables(
        name="line", junctions=junctions, pipes=pipes, consumers=cons, sources=sources
    )


def far_node(net: Network) -> str:
    """The distribution supply junction with the lowest pressure (hydraulically farthest)."""
    from nuanliu.sim import solve_steady

    r = solve_steady(net)
    jp = r.junctions.set_index("junction_id")["pressure_bar"]
    dist = net.junctions["junction_id"]
    dist = dist[dist.str.match(r"N\d+S$")]
    return str(jp.loc[dist].idxmin())


def reverse_flow_city(consumers: int = 200, seed: int = 5, share: float = 0.12) -> Network:
    """A meshed generated city with a second (flow-controlled) source at its far end,
    which pushes part of the network into reverse flow."""
    net = generate_city(consumers, seed=seed, mesh_fraction=0.5)
    far = far_node(net)
    total_kg_s = net.consumers["heat_demand_w"].sum() / (4190.0 * 60.0)
    extra = pd.DataFrame(
        [
            {
                "source_id": "SRC-FAR",
                "name": "Peak boiler at the far end",
                "supply_junction_id": far,
                "return_junction_id": far[:-1] + "R",
                "control": "flow",
                "supply_temp_c": 115.0,
                "mdot_kg_s": share * total_kg_s,
            }
        ]
    )
    tables = net.tables
    tables["sources"] = pd.concat([net.sources, extra], ignore_index=True)
    return Network.from_tables(name=f"{net.name}-reverse", meta=net.meta, **tables)


def relative_error(mine: np.ndarray, ref: np.ndarray, floor: float = 0.0) -> np.ndarray:
    return np.abs(mine - ref) / np.maximum(np.abs(ref), floor)


def _pipe(pid: str, a: str, b: str, side: str, length_m: float, d_m: float, u: float = 0.3) -> dict:
    return {
        "pipe_id": pid,
        "from_junction_id": a,
        "to_junction_id": b,
        "side": side,
        "length_m": length_m,
        "inner_diameter_m": d_m,
        "u_w_per_m_k": u,
        "ambient_temp_c": 6.0,
    }


def relay_network(*, pumps: list[dict], series: bool = False, consumers: int = 4) -> Network:
    """A source, a 12 km transmission line with a relay pump station, and a small town.

    ``pumps``: the pump rows (ids and control/curve columns); they are placed in
    parallel between RA and RB, or one after another (RA → M1 → … → RB) if ``series``.
    """
    junctions = ["SS", "SR", "RA", "RB", "TS", "TR"]
    rows = []
    if series:
        chain = ["RA"] + [f"M{i}" for i in range(len(pumps) - 1)] + ["RB"]
        junctions += chain[1:-1]
        for p, a, b in zip(pumps, chain[:-1], chain[1:], strict=True):
            rows.append({**p, "from_junction_id": a, "to_junction_id": b, "purpose": "relay"})
    else:
        for p in pumps:
            rows.append({**p, "from_junction_id": "RA", "to_junction_id": "RB", "purpose": "relay"})
    pipes = [
        _pipe("T1S", "SS", "RA", "supply", 6000.0, 0.30),
        _pipe("T2S", "RB", "TS", "supply", 6000.0, 0.30),
        _pipe("T1R", "TR", "SR", "return", 12000.0, 0.30),
    ]
    cons = []
    prev_s, prev_r = "TS", "TR"
    for i in range(consumers):
        s, r = f"C{i}S", f"C{i}R"
        junctions += [s, r]
        pipes.append(_pipe(f"D{i}S", prev_s, s, "supply", 300.0, 0.2))
        pipes.append(_pipe(f"D{i}R", r, prev_r, "return", 300.0, 0.2))
        cons.append(
            {
                "consumer_id": f"C{i}",
                "supply_junction_id": s,
                "return_junction_id": r,
                "heat_demand_w": 5e6,
                "return_temp_c": 50.0,
            }
        )
        prev_s, prev_r = s, r
    src = {
        "source_id": "PLANT",
        "supply_junction_id": "SS",
        "return_junction_id": "SR",
        "control": "pressure",
        "supply_temp_c": 115.0,
        "supply_pressure_bar": 9.0,
        "return_pressure_bar": 2.5,
    }
    return Network.from_tables(
        name="relay",
        junctions=[{"junction_id": j} for j in junctions],
        pipes=pipes,
        pumps=rows,
        consumers=cons,
        sources=[src],
    )


def isolation_network(*, ua_w_per_k: float = float("nan"), effectiveness: float = 0.9) -> Network:
    """A transmission loop feeding an isolation station whose secondary city network
    (3 consumers) is modelled; plus one unmodelled substation on the primary."""
    j = ["SS", "SR", "PS", "PR", "XS", "XR", "HS", "HR"]
    pipes = [
        _pipe("L1S", "SS", "PS", "supply", 20000.0, 0.5, 0.5),
        _pipe("L1R", "PR", "SR", "return", 20000.0, 0.5, 0.5),
        _pipe("L2S", "PS", "XS", "supply", 500.0, 0.15),
        _pipe("L2R", "XR", "PR", "return", 500.0, 0.15),
    ]
    cons = []
    prev_s, prev_r = "HS", "HR"
    for i in range(3):
        s, r = f"K{i}S", f"K{i}R"
        j += [s, r]
        pipes.append(_pipe(f"K{i}S", prev_s, s, "supply", 800.0, 0.3))
        pipes.append(_pipe(f"K{i}R", r, prev_r, "return", 800.0, 0.3))
        cons.append(
            {
                "consumer_id": f"K{i}",
                "supply_junction_id": s,
                "return_junction_id": r,
                "heat_demand_w": 8e6,
                "return_temp_c": 45.0,
            }
        )
        prev_s, prev_r = s, r
    stations = [
        {
            "station_id": "ISO",
            "kind": "isolation",
            "primary_supply_junction_id": "PS",
            "primary_return_junction_id": "PR",
            "secondary_supply_junction_id": "HS",
            "secondary_return_junction_id": "HR",
            "secondary_supply_temp_c": 95.0,
            "secondary_supply_pressure_bar": 6.0,
            "secondary_return_pressure_bar": 2.0,
            "ua_w_per_k": ua_w_per_k,
            "effectiveness": effectiveness,
        },
        {
            "station_id": "SUB",
            "kind": "substation",
            "primary_supply_junction_id": "XS",
            "primary_return_junction_id": "XR",
            "heat_demand_w": 3e6,
            "secondary_supply_temp_c": 70.0,
            "secondary_return_temp_c": 45.0,
            "ua_w_per_k": 1.2e5,
        },
    ]
    src = {
        "source_id": "CHP",
        "supply_junction_id": "SS",
        "return_junction_id": "SR",
        "control": "pressure",
        "supply_temp_c": 120.0,
        "supply_pressure_bar": 12.0,
        "return_pressure_bar": 3.0,
    }
    return Network.from_tables(
        name="isolation",
        junctions=[{"junction_id": x} for x in j],
        pipes=pipes,
        consumers=cons,
        stations=stations,
        sources=[src],
    )


def energy_residual(res) -> float:
    """|heat produced − delivered − lost| relative to the heat produced."""
    s = res.summary
    return abs(s["heat_produced_w"] - s["heat_delivered_w"] - s["heat_lost_w"]) / max(
        s["heat_produced_w"], 1.0
    )


def stations_as_consumers(net: Network, return_temp_c: float = 60.0) -> Network:
    """The same network with every unmodelled substation replaced by a consumer holding
    the primary return at ``return_temp_c`` (pandapipes has no UA heat exchanger)."""
    st = net.stations[net.stations["secondary_supply_junction_id"] == ""]
    cons = pd.DataFrame(
        {
            "consumer_id": st["station_id"],
            "name": st["name"],
            "supply_junction_id": st["primary_supply_junction_id"],
            "return_junction_id": st["primary_return_junction_id"],
            "heat_demand_w": st["heat_demand_w"],
            "control": "return_temp",
            "return_temp_c": return_temp_c,
        }
    )
    tables = net.tables
    tables["stations"] = net.stations.drop(st.index)
    tables["consumers"] = pd.concat([net.consumers, cons], ignore_index=True)
    return Network.from_tables(name=f"{net.name}-consumers", meta=net.meta, **tables)
