"""On-demand station control: set-points from the heating curve, corrected by the
indoor temperatures the sample households report.

Every smart station takes its secondary supply set-point from the dispatch centre.
The set-point is the station's heating curve shifted by a per-station offset; once a
day (local midnight) the offset moves so that the coldest sample household of the
station sits at ``target_c`` (its low hours: the ``low_quantile`` of the last day's
hours), and within the day a sample household reported below ``guard_c`` raises it at
once. The isolation station's city-side supply is held just hot enough for the
stations that need the most (their set-point + approach + margin), never above its
own curve. Only what a real platform sees is used (:class:`~nuanliu.sim.season.
Observation`): measured indoor temperatures (with the sensors' offsets and noise),
the outdoor temperature now, the curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.sim.season_control import Observation, Setpoints


@dataclass
class FeedbackSettings:
    """Tuning of the indoor feedback (K of supply per K of indoor error, limits)."""

    target_c: float = 18.5
    guard_c: float = 18.1
    low_quantile: float = 0.1
    gain: float = 2.0
    max_daily_step_k: float = 5.0
    guard_step_k: float = 1.0
    min_offset_k: float = -25.0
    max_offset_k: float = 10.0
    min_secondary_c: float = 25.0
    #: isolation station: city supply above the hottest station set-point (K)
    city_margin_k: float = 8.0
    #: lowest city supply the controller asks of an isolation station (°C): the steady
    #: twin of Tuoketuo–Hohhot has not been shown to start below it
    min_city_supply_c: float = 90.0

    def check(self) -> None:
        if not 16.0 <= self.target_c <= 24.0:
            raise InvalidInput(f"target_c: 16…24 °C expected, got {self.target_c}")
        if not 0.0 <= self.low_quantile <= 0.5:
            raise InvalidInput(f"low_quantile: 0…0.5 expected, got {self.low_quantile}")
        if self.gain <= 0 or self.max_daily_step_k <= 0:
            raise InvalidInput("gain and max_daily_step_k must be positive")


@dataclass
class OnDemandController:
    """Callable for :func:`~nuanliu.sim.season.simulate_season` ``controller=``.

    ``isolation_curve_c``: (isolation station id → callable outdoor °C → its curve's
    supply) — the city supply never exceeds it; empty: isolation stations untouched.
    """

    settings: FeedbackSettings = field(default_factory=FeedbackSettings)
    isolation_curve_c: dict = field(default_factory=dict)
    tz: str = "Asia/Shanghai"
    offsets_k: np.ndarray | None = None
    history: list[np.ndarray] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings.check()

    def __call__(self, obs: Observation) -> Setpoints:
        s = self.settings
        n = len(obs.element_ids)
        if self.offsets_k is None:
            self.offsets_k = np.zeros(n)
        if obs.k > 0:
            self.history.append(obs.indoor_c)
            self.history = self.history[-24:]
            self._guard(obs)
        local = pd.Timestamp(obs.ts).tz_convert(self.tz)
        if local.hour == 0 and len(self.history) >= 12:
            self._daily(obs)
        set_c = obs.curve_supply_c + self.offsets_k
        set_c = np.where(obs.driven, np.maximum(set_c, s.min_secondary_c), np.nan)
        supply = {}
        for sid, curve in self.isolation_curve_c.items():
            need = float(np.nanmax(set_c)) + s.city_margin_k
            supply[sid] = max(min(float(curve(obs.outdoor_c)), need), s.min_city_supply_c)
        return Setpoints(station_supply_c=set_c, supply_c=supply or None)

    def _per_station_low(self, values: np.ndarray, elem: np.ndarray, n: int) -> np.ndarray:
        low = np.full(n, np.inf)
        np.minimum.at(low, elem, values)
        return low

    def _guard(self, obs: Observation) -> None:
        """A sample household reported cold now: raise its station at once."""
        s = self.settings
        low = self._per_station_low(obs.indoor_c, obs.household_element, len(obs.element_ids))
        cold = np.isfinite(low) & (low < s.guard_c)
        self.offsets_k[cold] = np.minimum(self.offsets_k[cold] + s.guard_step_k, s.max_offset_k)

    def _daily(self, obs: Observation) -> None:
        """Move each station so its coldest sample household's low hours sit at target."""
        s = self.settings
        hist = np.vstack(self.history)  # (hours, households)
        flat_low = np.quantile(hist, s.low_quantile, axis=0)
        low = self._per_station_low(flat_low, obs.household_element, len(obs.element_ids))
        ok = np.isfinite(low)
        step = np.clip(s.gain * (s.target_c - low[ok]), -s.max_daily_step_k, s.max_daily_step_k)
        self.offsets_k[ok] = np.clip(self.offsets_k[ok] + step, s.min_offset_k, s.max_offset_k)
        self.log.append(
            {
                "ts": obs.ts,
                "mean_offset_k": float(np.mean(self.offsets_k[ok])),
                "coldest_low_c": float(np.min(low[ok])),
                "median_low_c": float(np.median(low[ok])),
            }
        )
