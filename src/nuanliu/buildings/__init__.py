"""Building thermal models: heating curves, flat parameters, the vectorised 2R2C model."""

from nuanliu.buildings.heating_curve import HeatingCurve, default_heating_curve, heating_curve
from nuanliu.buildings.params import RoomParams, draw_params, specific_heat_loss_w_m2k
from nuanliu.buildings.rc import (
    RoomState,
    internal_gain_multiplier,
    radiator_heat_w,
    steady_state,
    step,
)

__all__ = [
    "HeatingCurve",
    "RoomParams",
    "RoomState",
    "default_heating_curve",
    "draw_params",
    "heating_curve",
    "internal_gain_multiplier",
    "radiator_heat_w",
    "specific_heat_loss_w_m2k",
    "steady_state",
    "step",
]
