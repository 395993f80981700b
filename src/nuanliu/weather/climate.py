"""Climate facts heating engineers work with: degree days, heating season, design temperature."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nuanliu.errors import NotFound
from nuanliu.weather.epw import EpwFile


def daily_mean_temp_c(hourly: pd.DataFrame) -> pd.Series:
    """Daily mean dry-bulb temperature from an hourly frame (``for_year`` output).

    Hour-ending stamps are shifted back one hour first so each calendar day averages its
    own 24 values (00:00–01:00 … 23:00–24:00).
    """
    t = hourly["temp_c"]
    shifted = t.set_axis(t.index - pd.Timedelta(hours=1))
    return shifted.groupby(shifted.index.normalize()).mean().rename("temp_c")


def heating_degree_days(hourly: pd.DataFrame, base_c: float = 18.0) -> float:
    """Annual heating degree days K·d: Σ over days of max(0, base − daily mean)."""
    daily = daily_mean_temp_c(hourly)
    return float(np.clip(base_c - daily.to_numpy(), 0.0, None).sum())


def monthly_heating_degree_days(hourly: pd.DataFrame, base_c: float = 18.0) -> pd.Series:
    """Heating degree days per calendar month (index 1…12)."""
    daily = daily_mean_temp_c(hourly)
    hdd = (base_c - daily).clip(lower=0.0)
    return hdd.groupby(hdd.index.month).sum().rename(f"hdd{base_c:g}")


@dataclass(frozen=True)
class HeatingPeriod:
    """The climatic heating period: days with the 5-day running mean ≤ threshold (GB 50736)."""

    first_day: pd.Timestamp
    last_day: pd.Timestamp
    days: int
    mean_temp_c: float
    degree_days_18: float  # Σ (18 − daily mean) over the period, as Chinese codes use


def heating_period(hourly: pd.DataFrame, threshold_c: float = 5.0) -> HeatingPeriod:
    """Longest spell of days whose centred 5-day mean is ≤ ``threshold_c`` (wraps New Year)."""
    daily = daily_mean_temp_c(hourly)
    v = daily.to_numpy()
    n = len(v)
    ext = np.concatenate([v[-2:], v, v[:2]])
    run5 = np.convolve(ext, np.ones(5) / 5.0, mode="valid")
    cold = run5 <= threshold_c
    if not cold.any():
        raise NotFound(f"no day with a 5-day mean at or below {threshold_c} °C")
    if cold.all():
        idx = np.arange(n)
    else:
        # Roll so the series starts on a warm day; the heating spell then does not wrap.
        start = int(np.flatnonzero(~cold)[0])
        rolled = np.roll(cold, -start)
        best, best_len, i = (0, 0), 0, 0
        while i < n:
            if rolled[i]:
                j = i
                while j < n and rolled[j]:
                    j += 1
                if j - i > best_len:
                    best, best_len = (i, j), j - i
                i = j
            else:
                i += 1
        idx = (np.arange(best[0], best[1]) + start) % n
    temps = v[idx]
    return HeatingPeriod(
        first_day=daily.index[idx[0]],
        last_day=daily.index[idx[-1]],
        days=len(idx),
        mean_temp_c=float(temps.mean()),
        degree_days_18=float((18.0 - temps).sum()),
    )


@dataclass(frozen=True)
class DesignFacts:
    """Heating design facts for a city.

    ``gb_design_temp_c`` is the heating outdoor design temperature of GB 50736-2012
    (供暖室外计算温度); ``ashrae_db996_c`` / ``ashrae_db990_c`` come from the weather file's
    DESIGN CONDITIONS header when present; the statutory heating season is the city's
    regulation (Hohhot: 15 October – 15 April).
    """

    city: str
    gb_design_temp_c: float
    ashrae_db996_c: float | None
    ashrae_db990_c: float | None
    season_start_mmdd: str
    season_end_mmdd: str
    standard_indoor_temp_c: float = 18.0


# GB 50736-2012 Appendix A, heating outdoor design temperature; city heating regulations.
_GB_FACTS: dict[str, tuple[float, str, str]] = {
    "hohhot": (-17.0, "10-15", "04-15"),
    "harbin": (-24.2, "10-20", "04-20"),
}


def design_facts(city: str, epw: EpwFile | None = None) -> DesignFacts:
    """Design facts for ``city`` (``hohhot``, ``harbin``), with ASHRAE values from ``epw``."""
    key = city.lower()
    if key not in _GB_FACTS:
        raise NotFound(
            f"no design facts for city {city!r}; known: {', '.join(sorted(_GB_FACTS))}",
            details={"city": city},
        )
    gb, start, end = _GB_FACTS[key]
    design = epw.design if epw is not None else None
    return DesignFacts(
        city=key,
        gb_design_temp_c=gb,
        ashrae_db996_c=design.heating_db996_c if design else None,
        ashrae_db990_c=design.heating_db990_c if design else None,
        season_start_mmdd=start,
        season_end_mmdd=end,
    )
