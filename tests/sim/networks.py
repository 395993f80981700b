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


# -- networks built natively in pandapipes (as a user would), imported by Nuanliu --------

PP_AMBIENT_K = 283.15  # pipes' ground temperature and pandapipes' ambient option


class _PPBuilder:
    """Small helper to build pandapipes nets street by street (pandapipes units)."""

    def __init__(self, name: str, *, text_k: float | None = PP_AMBIENT_K) -> None:
        import pandapipes as pp

        self.pp = pp
        self.net = pp.create_empty_network(name=name, fluid="water")
        self.text_k = text_k  # None: pandapipes' default ambient temperature

    def junction(self, height_m: float = 0.0) -> int:
        return int(self.pp.create_junction(self.net, 5.0, 353.15, height_m=height_m))

    def pair(self, height_m: float = 0.0) -> tuple[int, int]:
        """A supply and a return junction at one place."""
        return self.junction(height_m), self.junction(height_m)

    def pipe(self, a: int, b: int, length_m: float, d_mm: float, *, u: float = 0.6) -> int:
        """A pre-insulated pipe: roughness 0.05 mm, U = ``u`` W/(m K) per metre of pipe."""
        return int(
            self.pp.create_pipe_from_parameters(
                self.net,
                a,
                b,
                length_km=length_m / 1000.0,
                inner_diameter_mm=d_mm,
                k_mm=0.05,
                u_w_per_m2k=u / (np.pi * d_mm / 1000.0),
                text_k=self.text_k,
            )
        )

    def pipes(self, s0: tuple[int, int], s1: tuple[int, int], length_m: float, d_mm: float):
        """Supply (s0 → s1) and return (s1 → s0) pipes between two places."""
        self.pipe(s0[0], s1[0], length_m, d_mm)
        self.pipe(s1[1], s0[1], length_m, d_mm)

    def consumer(self, at: tuple[int, int], heat_w: float, return_c: float = 50.0) -> int:
        return int(
            self.pp.create_heat_consumer(
                self.net, at[0], at[1], qext_w=heat_w, treturn_k=return_c + 273.15
            )
        )

    def street(
        self,
        start: tuple[int, int],
        heats_w: list[float],
        *,
        length_m: float = 120.0,
        d_mm: float = 100.0,
        heights_m: list[float] | None = None,
    ) -> list[tuple[int, int]]:
        """A street of consumers off ``start``; returns their places."""
        places = []
        prev = start
        for i, q in enumerate(heats_w):
            here = self.pair(heights_m[i] if heights_m else 0.0)
            self.pipes(prev, here, length_m, d_mm)
            self.consumer(here, q)
            places.append(here)
            prev = here
        return places

    def plant(self, at: tuple[int, int], p_flow_bar: float, lift_bar: float, t_c: float = 95.0):
        self.pp.create_circ_pump_const_pressure(
            self.net, at[1], at[0], p_flow_bar=p_flow_bar, plift_bar=lift_bar, t_flow_k=t_c + 273.15
        )

    def pump(self, a: int, b: int, name: str, lifts_bar: list[float], flows_m3_h: list[float]):
        self.pp.create_pump_from_parameters(
            self.net,
            a,
            b,
            name,
            pressure_list=lifts_bar,
            flowrate_list=flows_m3_h,
            reg_polynomial_degree=2,
        )


def pp_pump_stations_net():
    """A plant, a 2.5 km transmission main with a relay station of two pumps in series on
    the supply and a booster of two pumps in parallel on the return, a district of
    three streets; one street hangs off a throttled valve (ζ = 40)."""
    b = _PPBuilder("pump-stations")
    plant = b.pair()
    b.plant(plant, p_flow_bar=5.0, lift_bar=1.5)
    relay_in, relay_out = b.junction(), b.junction()
    b.pipe(plant[0], relay_in, 2500.0, 250.0)
    mid = b.junction()
    b.pump(relay_in, mid, "relay-1", [1.4, 1.3, 0.9], [0.0, 120.0, 240.0])
    b.pump(mid, relay_out, "relay-2", [1.2, 1.1, 0.8], [0.0, 120.0, 240.0])
    boost_in, boost_out = b.junction(), b.junction()
    b.pump(boost_in, boost_out, "booster-a", [1.0, 0.9, 0.5], [0.0, 60.0, 120.0])
    b.pump(boost_in, boost_out, "booster-b", [1.0, 0.9, 0.5], [0.0, 60.0, 120.0])
    b.pipe(boost_out, plant[1], 2500.0, 250.0)
    hub = (relay_out, boost_in)
    b.street(hub, [4e5, 6e5, 3e5, 5e5], d_mm=150.0)
    b.street(hub, [7e5, 2e5, 4e5], d_mm=125.0)
    # a throttled branch: supply hub → valve → street
    v_s = b.junction()
    b.pp.create_valve(b.net, hub[0], v_s, et="ju", inner_diameter_mm=100.0, loss_coefficient=40.0)
    b.street((v_s, hub[1]), [5e5, 5e5, 3e5], d_mm=125.0)
    return b.net


def pp_two_sources_net(boiler: str = "heat_consumer"):
    """A meshed district fed by a pressure-holding plant and, at its far end, a peak
    boiler injecting a fixed flow — a heat_consumer run backwards (return → supply), or
    a ``circ_pump_mass`` of type "t" (fixed flow and outlet temperature, no pressure) —;
    one vacant building takes no heat (qext_w = 0)."""
    b = _PPBuilder(f"two-sources ({boiler})")
    plant = b.pair()
    b.plant(plant, p_flow_bar=6.0, lift_bar=2.5)
    west = b.street(plant, [3e5, 4e5, 0.0, 5e5, 3e5], d_mm=150.0, length_m=150.0)
    east = b.street(plant, [6e5, 2e5, 4e5, 3e5], d_mm=150.0, length_m=150.0)
    b.pipes(west[-1], east[-1], 200.0, 100.0)  # closes the loop
    far = b.pair()
    b.pipes(east[-1], far, 250.0, 100.0)
    b.street(far, [2e5, 3e5], d_mm=80.0)
    if boiler == "heat_consumer":
        b.pp.create_heat_consumer(
            b.net, far[1], far[0], controlled_mdot_kg_per_s=4.0, treturn_k=273.15 + 90.0
        )
    else:
        b.pp.create_circ_pump_const_mass_flow(
            b.net, far[1], far[0], 6.0, 4.0, t_flow_k=273.15 + 90.0, type="t"
        )
    return b.net


def pp_hills_net():
    """A plant in a valley feeding streets that climb 40 m and fall 40 m below it; the
    pipes leave their ambient temperature to pandapipes' default (no ``text_k``)."""
    b = _PPBuilder("hills", text_k=None)
    plant = b.pair(0.0)
    b.plant(plant, p_flow_bar=8.5, lift_bar=3.0)
    up = b.pair(20.0)
    b.pipes(plant, up, 600.0, 200.0)
    b.street(up, [5e5, 4e5, 6e5, 3e5], d_mm=125.0, heights_m=[28.0, 34.0, 40.0, 38.0])
    down = b.pair(-20.0)
    b.pipes(plant, down, 600.0, 200.0)
    b.street(down, [4e5, 6e5, 5e5], d_mm=125.0, heights_m=[-30.0, -40.0, -36.0])
    return b.net


def pp_fixed_flow_plant_net():
    """A plant circulating a fixed flow and holding its outlet pressure
    (``circ_pump_mass``), a differential-pressure bypass at the far end, hills."""
    b = _PPBuilder("fixed-flow-plant")
    plant = b.pair(0.0)
    b.pp.create_circ_pump_const_mass_flow(
        b.net, plant[1], plant[0], p_flow_bar=6.0, mdot_flow_kg_per_s=18.0, t_flow_k=368.15
    )
    places = b.street(
        plant,
        [4e5, 6e5, 5e5, 3e5, 4e5],
        d_mm=150.0,
        length_m=200.0,
        heights_m=[5.0, 12.0, 25.0, 18.0, 10.0],
    )
    end = places[-1]
    b.pp.create_valve(b.net, end[0], end[1], et="ju", inner_diameter_mm=60.0, loss_coefficient=6.0)
    return b.net
