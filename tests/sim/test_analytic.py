"""The full solver against hand calculations on the simplest networks."""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from nuanliu.network.model import Network
from nuanliu.physics.water import WATER, WaterProperties
from nuanliu.sim import SolverOptions, solve_steady

CONST_WATER = WaterProperties(
    ([0.0, 200.0], [980.0, 980.0]), ([0.0, 200.0], [4e-4, 4e-4]), ([0.0, 200.0], [4190.0, 4190.0])
)


def one_pipe(mdot_kg_s: float, *, u: float = 0.6, length_m: float = 3000.0) -> Network:
    """Source → supply pipe → flow-controlled consumer → short return pipe → source."""
    return Network.from_tables(
        name="one-pipe",
        junctions=[{"junction_id": j} for j in ("SS", "A", "B", "SR")],
        sources=[
            {
                "source_id": "S",
                "supply_junction_id": "SS",
                "return_junction_id": "SR",
                "control": "pressure",
                "supply_temp_c": 110.0,
                "supply_pressure_bar": 8.0,
                "return_pressure_bar": 3.0,
            }
        ],
        pipes=[
            {
                "pipe_id": "sup",
                "from_junction_id": "SS",
                "to_junction_id": "A",
                "side": "supply",
                "length_m": length_m,
                "inner_diameter_m": 0.1071,
                "roughness_mm": 0.1,
                "u_w_per_m_k": u,
                "ambient_temp_c": 5.0,
            },
            {
                "pipe_id": "ret",
                "from_junction_id": "B",
                "to_junction_id": "SR",
                "side": "return",
                "length_m": 10.0,
                "inner_diameter_m": 0.1071,
                "u_w_per_m_k": 0.0,
            },
        ],
        consumers=[
            {
                "consumer_id": "C",
                "supply_junction_id": "A",
                "return_junction_id": "B",
                "heat_demand_w": 600e3,
                "control": "flow",
                "mdot_kg_s": mdot_kg_s,
                "return_temp_c": 30.0,
            }
        ],
    )


def test_single_pipe_outlet_temperature_is_the_closed_form_exponential() -> None:
    m = 4.0
    res = solve_steady(one_pipe(m), options=SolverOptions(water=CONST_WATER))
    pipe = res.pipes.set_index("pipe_id").loc["sup"]
    expected = 5.0 + (110.0 - 5.0) * np.exp(-0.6 * 3000.0 / (m * 4190.0))
    assert abs(pipe["temp_out_c"] - expected) < 1e-9
    assert abs(pipe["heat_loss_w"] - m * 4190.0 * (110.0 - expected)) < 1e-6
    # the consumer draws its demand from the cooled water: ΔT = Q / (ṁ c_p)
    cons = res.consumers.iloc[0]
    assert abs(cons["supply_temp_c"] - cons["return_temp_c"] - 600e3 / (m * 4190.0)) < 1e-9


def test_pressure_drop_is_darcy_weisbach_by_hand() -> None:
    m = 12.0
    # 12 kg/s through 3 km of DN100 needs more than the source's 5 bar: the consumer is
    # left with a negative differential pressure (infeasible; the hydraulics still hold)
    res = solve_steady(one_pipe(m, u=0.0), raise_on_failure=False)
    assert res.status == "infeasible" and list(res.violations["element_id"]) == ["C"]
    pipe = res.pipes.set_index("pipe_id").loc["sup"]
    t = 110.0  # adiabatic pipe: the water stays at the supply temperature
    rho, mu = WATER.density(t)[0], WATER.viscosity(t)[0]
    d, k, length = 0.1071, 0.1e-3, 3000.0
    v = m / (rho * np.pi * d * d / 4)
    re = rho * v * d / mu
    # Colebrook–White solved independently (bracketing root finder)
    lam = brentq(
        lambda f: 1 / np.sqrt(f) + 2 * np.log10(k / (3.71 * d) + 2.51 / (re * np.sqrt(f))),
        1e-4,
        0.2,
        xtol=1e-14,
    )
    dp_pa = lam * length / d * rho * v * v / 2
    assert abs(pipe["dp_bar"] * 1e5 - dp_pa) < 1e-6 * dp_pa
    assert abs(pipe["velocity_m_s"] - v) < 1e-9
    # the source holds 8 bar at its outlet: the consumer sees 8 bar minus that drop
    assert abs(res.consumers.iloc[0]["p_supply_bar"] - (8.0 - dp_pa / 1e5)) < 1e-9


def test_laminar_pipe_is_hagen_poiseuille() -> None:
    m = 0.004  # Re ≈ 100 in DN100
    res = solve_steady(one_pipe(m, u=0.0))
    pipe = res.pipes.set_index("pipe_id").loc["sup"]
    rho, mu = WATER.density(110.0)[0], WATER.viscosity(110.0)[0]
    d, length = 0.1071, 3000.0
    dp_pa = 128 * mu * length * (m / rho) / (np.pi * d**4)
    assert pipe["reynolds"] < 2000
    assert abs(pipe["dp_bar"] * 1e5 - dp_pa) < 1e-6 * dp_pa
