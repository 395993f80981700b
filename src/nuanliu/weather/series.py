"""Weather at any instant: the typical year interpolated and repeated over calendar years."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from nuanliu.weather.epw import HOURS_PER_YEAR, EpwFile
from nuanliu.weather.shipped import shipped_epw

_NS_PER_H = 3_600_000_000_000
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class TypicalYearWeather:
    """Typical-year hourly weather evaluated at arbitrary tz-aware times.

    Each instant is mapped to its position in the typical year (local standard time of
    the file; 29 February reuses 28 February) and interpolated linearly between the
    hour-ending values; the year wraps, so any date of any year works. This is what the
    building model and the sensor simulator use for "the weather now".
    """

    utc_offset_h: float
    # Hourly values at positions 0…8760 h after 1 Jan 00:00 (position 0 = last row).
    temp_c: np.ndarray
    rh_pct: np.ndarray
    ghi_w_m2: np.ndarray
    wind_m_s: np.ndarray
    name: str = ""

    @classmethod
    def from_epw(cls, epw: EpwFile, name: str = "") -> TypicalYearWeather:
        h = epw.hourly

        def wrap(col: str) -> np.ndarray:
            v = h[col].to_numpy(dtype=np.float64)
            return np.concatenate([v[-1:], v])

        return cls(
            utc_offset_h=epw.location.utc_offset_h,
            temp_c=wrap("temp_c"),
            rh_pct=wrap("rh_pct"),
            ghi_w_m2=wrap("ghi_w_m2"),
            wind_m_s=wrap("wind_m_s"),
            name=name or epw.location.city,
        )

    @classmethod
    def shipped(cls, name: str = "hohhot") -> TypicalYearWeather:
        return cls.from_epw(shipped_epw(name), name)

    def year_hours(self, ts_utc_ns: np.ndarray) -> np.ndarray:
        """Fractional hours since 1 Jan 00:00 (file standard time), in 0…8760."""
        local = pd.DatetimeIndex(
            np.asarray(ts_utc_ns, dtype="int64") + int(self.utc_offset_h * _NS_PER_H)
        )
        jan1 = pd.DatetimeIndex(local.year.astype(str) + "-01-01").asi8
        hours = (local.asi8 - jan1) / _NS_PER_H
        # Leap years: from 29 Feb on, shift back a day so 29 Feb repeats 28 Feb and
        # 31 Dec stays 31 Dec.
        leap = local.is_leap_year & (local.dayofyear > 59)
        hours = np.where(leap, hours - 24.0, hours)
        return np.clip(hours, 0.0, float(HOURS_PER_YEAR))

    def at(self, ts_utc_ns: np.ndarray) -> dict[str, np.ndarray]:
        """Weather at instants given as int64 ns since the epoch (UTC)."""
        x = self.year_hours(ts_utc_ns)
        grid = np.arange(HOURS_PER_YEAR + 1, dtype=np.float64)
        return {
            "temp_c": np.interp(x, grid, self.temp_c),
            "rh_pct": np.interp(x, grid, self.rh_pct),
            "ghi_w_m2": np.interp(x, grid, self.ghi_w_m2),
            "wind_m_s": np.interp(x, grid, self.wind_m_s),
        }

    def at_instant(self, t_ns: int) -> dict[str, float]:
        """Weather at one instant (ns since the epoch, UTC) without pandas overhead."""
        local = _EPOCH + timedelta(microseconds=(t_ns + int(self.utc_offset_h * _NS_PER_H)) // 1000)
        hours = (local - datetime(local.year, 1, 1)).total_seconds() / 3600.0
        if calendar.isleap(local.year) and local.timetuple().tm_yday > 59:
            hours -= 24.0
        hours = min(max(hours, 0.0), float(HOURS_PER_YEAR))
        i = min(int(hours), HOURS_PER_YEAR - 1)
        f = hours - i
        return {
            name: float(arr[i] + (arr[i + 1] - arr[i]) * f)
            for name, arr in (
                ("temp_c", self.temp_c),
                ("rh_pct", self.rh_pct),
                ("ghi_w_m2", self.ghi_w_m2),
                ("wind_m_s", self.wind_m_s),
            )
        }

    def at_times(self, times: pd.DatetimeIndex | pd.Timestamp) -> dict[str, np.ndarray]:
        """Weather at tz-aware pandas times."""
        idx = pd.DatetimeIndex([times] if isinstance(times, pd.Timestamp) else times)
        if idx.tz is None:
            raise ValueError("times must be timezone-aware")
        return self.at(idx.tz_convert("UTC").asi8)
