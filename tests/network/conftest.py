"""Small hand-made networks for the network tests."""

from __future__ import annotations

import pytest

from nuanliu.network.model import Network


def tiny_network() -> Network:
    """One pressure source, a supply and a return pipe, two consumers and a substation.

    ``s_out`` → p_s1 → ``a`` → p_s2 → ``b``; consumers c1 (a→ar), c2 (b→br); return pipes
    br → ar → ``s_in``; substation st1 between ``a`` and ``ar``; a valve on the return.
    """
    return Network.from_tables(
        name="tiny",
        meta={"crs": "EPSG:4326", "design_outdoor_temp_c": -19.0},
        junctions=[
            {"junction_id": j, "x": 111.0 + i * 0.01, "y": 40.0, "elevation_m": 1000.0 + i}
            for i, j in enumerate(["s_out", "a", "b", "br", "ar", "s_in", "v_in"])
        ],
        sources=[
            {
                "source_id": "src",
                "name": "CHP",
                "supply_junction_id": "s_out",
                "return_junction_id": "s_in",
                "control": "pressure",
                "supply_temp_c": 120.0,
                "supply_pressure_bar": 9.0,
                "return_pressure_bar": 3.0,
            }
        ],
        pipes=[
            {
                "pipe_id": "p_s1",
                "from_junction_id": "s_out",
                "to_junction_id": "a",
                "length_m": 800.0,
                "inner_diameter_m": 0.2101,
                "dn_mm": 200,
                "u_w_per_m_k": 0.3,
            },
            {
                "pipe_id": "p_s2",
                "from_junction_id": "a",
                "to_junction_id": "b",
                "length_m": 400.0,
                "inner_diameter_m": 0.1603,
                "dn_mm": 150,
            },
            {
                "pipe_id": "p_r2",
                "side": "return",
                "from_junction_id": "br",
                "to_junction_id": "ar",
                "length_m": 400.0,
                "inner_diameter_m": 0.1603,
            },
            {
                "pipe_id": "p_r1",
                "side": "return",
                "from_junction_id": "ar",
                "to_junction_id": "v_in",
                "length_m": 800.0,
                "inner_diameter_m": 0.2101,
            },
        ],
        valves=[
            {
                "valve_id": "v1",
                "from_junction_id": "v_in",
                "to_junction_id": "s_in",
                "kv_m3_h": 400.0,
                "opening": 0.8,
            }
        ],
        consumers=[
            {
                "consumer_id": "c1",
                "supply_junction_id": "a",
                "return_junction_id": "ar",
                "heat_demand_w": 1.0e6,
                "return_temp_c": 60.0,
                "min_dp_bar": 0.5,
            },
            {
                "consumer_id": "c2",
                "supply_junction_id": "b",
                "return_junction_id": "br",
                "heat_demand_w": 2.0e6,
                "control": "flow",
                "mdot_kg_s": 8.0,
            },
        ],
        stations=[
            {
                "station_id": "st1",
                "primary_supply_junction_id": "a",
                "primary_return_junction_id": "ar",
                "heat_demand_w": 1.5e6,
                "secondary_supply_temp_c": 60.0,
                "secondary_return_temp_c": 45.0,
                "ua_w_per_k": 6.0e4,
                "floor_area_m2": 35000.0,
            }
        ],
    )


@pytest.fixture
def tiny() -> Network:
    return tiny_network()
