"""Solver options with the defaults a heating engineer expects."""

from __future__ import annotations

from dataclasses import dataclass, field

from nuanliu.physics.friction import FrictionModel
from nuanliu.physics.water import WATER, WaterProperties


@dataclass
class SolverOptions:
    """Tolerances, limits and model choices of :func:`nuanliu.sim.solve_steady`."""

    friction_model: FrictionModel = "colebrook"
    water: WaterProperties = field(default_factory=lambda: WATER)
    #: loop pressure residual (Pa) the chord Newton must reach
    tol_pressure_pa: float = 1e-4
    #: largest node-temperature change (K) between coupling iterations at convergence
    tol_temp_k: float = 1e-5
    #: largest relative change of the fixed flows between coupling iterations
    tol_mdot_rel: float = 1e-6
    #: Anderson-acceleration memory of the coupling iteration (0 = plain fixed point)
    anderson_memory: int = 0
    #: property (ρ, μ) temperatures are updated only by more than this (K)
    tol_property_temp_k: float = 0.0
    max_iter_hydraulic: int = 50
    max_iter_coupling: int = 100
    #: wall-clock guard for one solve (s)
    time_limit_s: float = 120.0
    #: a return-temperature consumer's valve opens at most to the flow that would carry
    #: its demand at this temperature drop (K), unless it has its own ``mdot_kg_s`` cap
    min_consumer_delta_t_k: float = 5.0
    #: flow-controlled consumers without a return set-point cool the water at most to this
    min_return_temp_c: float = 20.0
    #: indoor temperature of the demand scaling with outdoor temperature
    indoor_temp_c: float = 18.0
    #: design outdoor temperature when ``net.meta`` has none
    design_outdoor_temp_c: float = -19.0
    #: efficiency of a pressure source's own circulation pump (not in the schema)
    source_pump_efficiency: float = 0.75
    raise_on_failure: bool = True
