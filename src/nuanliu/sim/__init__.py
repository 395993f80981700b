"""Solvers: compile a network once, then solve steady states (many times).

``compile_network(net)`` → :class:`CompiledNetwork`; ``solve_steady(net_or_compiled,
outdoor_temp_c=..., demands=..., warm_start=...)`` → :class:`SteadyResult`.
"""

from nuanliu.sim.compile import CompiledNetwork, compile_network
from nuanliu.sim.options import SolverOptions
from nuanliu.sim.results import write_parquet
from nuanliu.sim.steady import SteadyResult, SteadyState, demand_scale, solve_steady

__all__ = [
    "CompiledNetwork",
    "SolverOptions",
    "SteadyResult",
    "SteadyState",
    "compile_network",
    "demand_scale",
    "solve_steady",
    "write_parquet",
]
