"""The schedule's data: supply points, stations, buildings, prices (SI at the edges,
MW and °C inside the optimiser).

A *supply point* sets a supply temperature: the root source, or an isolation station
fed by a parent supply point (its secondary supply can be at most what arrives from
the parent, minus its approach). Each station is fed by one supply point, after a
transport delay and with a temperature drop. Its buildings are one aggregate
first-order RC model: with ``Q`` the heat delivered, ``Q_fc`` the forecast load (the
heat that would hold ``forecast_indoor_c``), ``H`` the conductance and ``τ`` the time
constant, ``T_in(t+1) = a T_in(t) + (1 − a)(forecast_indoor_c + (Q − Q_fc)/H)`` with
``a = exp(−1 h / τ)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput

CP_MJ_PER_KG_K = 4.19e-3  # MW per (kg/s · K)


@dataclass
class PumpModel:
    """Pump electricity (MW) of a supply point's network vs its flow (kg/s):
    ``P = k2 M² + k3 M³`` (convex, fitted on steady solves)."""

    k2: float = 0.0
    k3: float = 0.0

    def power_mw(self, m_kg_s: np.ndarray) -> np.ndarray:
        m = np.maximum(np.asarray(m_kg_s, dtype=float), 0.0)
        return self.k2 * m**2 + self.k3 * m**3

    def slope(self, m_kg_s: np.ndarray) -> np.ndarray:
        m = np.maximum(np.asarray(m_kg_s, dtype=float), 0.0)
        return 2 * self.k2 * m + 3 * self.k3 * m**2


@dataclass
class ScheduleProblem:
    """Everything one schedule optimisation needs (arrays, no DataFrames inside)."""

    start: pd.Timestamp  # first scheduled hour (UTC)
    hours: int
    # supply points (index 0 is a root source; parents precede children)
    sp_ids: list[str]
    sp_parent: np.ndarray  # int, −1 for a root
    sp_delay_h: np.ndarray  # from the parent's supply to this point's primary inlet
    sp_drop_k: np.ndarray
    sp_approach_k: np.ndarray
    sp_return_c: np.ndarray  # primary return temperature leaving this point's inlet side
    sp_max_flow_kg_s: np.ndarray  # primary flow limit at the inlet (line velocity), inf root
    sp_min_c: np.ndarray
    sp_max_c: np.ndarray
    sp_loss_mw_per_k: np.ndarray  # supply-side pipe conductance of the network it feeds
    sp_history_c: np.ndarray  # (n_sp, n_hist) set-points of the hours before start
    pumps: list[PumpModel]
    # stations
    st_ids: np.ndarray
    st_sp: np.ndarray  # index of the feeding supply point
    st_delay_h: np.ndarray
    st_drop_k: np.ndarray
    st_return_c: np.ndarray
    st_max_flow_kg_s: np.ndarray
    st_min_supply_c: np.ndarray  # (n_st, hours) lowest primary supply the station accepts
    st_forecast_mw: np.ndarray  # (n_st, hours)
    st_h_mw_per_k: np.ndarray
    st_tau_h: np.ndarray
    st_indoor_start_c: np.ndarray
    # settings and prices
    ground_temp_c: float = 5.0
    forecast_indoor_c: float = 20.0
    indoor_min_c: float = 19.0  # standard (18 °C) + margin for the spread of households
    ramp_k_per_h: float = 6.0
    heat_price_per_mwh: float = 126.0  # 35 元/GJ
    elec_price_per_mwh: np.ndarray = field(default_factory=lambda: np.full(1, 600.0))
    source_capacity_mw: float = float("inf")

    @property
    def n_sp(self) -> int:
        return len(self.sp_ids)

    @property
    def n_st(self) -> int:
        return len(self.st_ids)

    def check(self) -> None:
        h = self.hours
        if not 1 <= h <= 168:
            raise InvalidInput(f"schedule hours must be 1…168, got {h}")
        for name in ("st_forecast_mw", "st_min_supply_c"):
            arr = getattr(self, name)
            if arr.shape != (self.n_st, h):
                raise InvalidInput(f"{name}: expected shape {(self.n_st, h)}, got {arr.shape}")
            bad = ~np.isfinite(arr)
            if bad.any():
                j, t = np.argwhere(bad)[0]
                raise InvalidInput(
                    f"{name}: station {self.st_ids[j]!r} hour {t} is {arr[j, t]!r}"
                    " (forecast missing: fill it with a fallback first)"
                )
        for j in range(self.n_st):
            if not np.isfinite(self.st_delay_h[j]) or self.st_delay_h[j] < 0:
                raise InvalidInput(
                    f"station {self.st_ids[j]!r}: transport delay {self.st_delay_h[j]!r} h"
                    " (not reached by any supply point in the steady state?)"
                )
        prices = np.broadcast_to(self.elec_price_per_mwh, (h,))
        if not np.all(np.isfinite(prices)):
            raise InvalidInput("electricity prices must be finite")

    def history_hours(self) -> int:
        """Hours before ``start`` whose set-points still reach a station in the horizon."""
        total = self.st_delay_h + self.sp_delay_h[self.st_sp]
        return int(np.ceil(np.nanmax(total, initial=0.0))) + 2
