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
