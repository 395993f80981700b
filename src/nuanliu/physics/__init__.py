"""Physics of water networks as pure functions on numpy arrays.

Water properties (:mod:`.water`), pipe friction (:mod:`.friction`), heat loss along a
pipe (:mod:`.heat_loss`), heat exchangers (:mod:`.heat_exchanger`), pumps and valves
(:mod:`.machines`). Nothing here knows about networks or DataFrames.
"""

from nuanliu.physics.friction import darcy_dp_pa, friction_factor, reynolds
from nuanliu.physics.heat_loss import pipe_outlet_temp_c
from nuanliu.physics.water import WATER, WaterProperties

__all__ = [
    "WATER",
    "WaterProperties",
    "darcy_dp_pa",
    "friction_factor",
    "pipe_outlet_temp_c",
    "reynolds",
]
