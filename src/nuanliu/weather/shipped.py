"""Weather files shipped inside the package, by short name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from nuanliu.errors import NotFound
from nuanliu.weather.epw import EpwFile, read_epw

DATA_DIR = Path(__file__).resolve().parent / "data"

# short name -> file in DATA_DIR (see DATA_DIR / "README.md" for the sources)
SHIPPED: dict[str, str] = {"hohhot": "hohhot_cswd.epw.gz"}


@lru_cache(maxsize=8)
def shipped_epw(name: str) -> EpwFile:
    """The parsed shipped EPW file ``name`` (cached; treat it as read-only)."""
    key = name.lower()
    if key not in SHIPPED:
        raise NotFound(
            f"no shipped weather named {name!r}; available: {', '.join(sorted(SHIPPED))}",
            details={"name": name, "available": sorted(SHIPPED)},
        )
    return read_epw(DATA_DIR / SHIPPED[key])


def load_weather(
    name_or_path: str | Path, year: int = 2025, tz: str = "Asia/Shanghai"
) -> pd.DataFrame:
    """Hourly weather for calendar ``year``: a shipped name (``"hohhot"``) or an EPW path.

    Returns a DataFrame indexed by tz-aware hour-ending timestamps with columns
    ``temp_c, dew_point_c, rh_pct, pressure_pa, ghi_w_m2, wind_dir_deg, wind_m_s``.
    """
    key = str(name_or_path)
    epw = shipped_epw(key) if key.lower() in SHIPPED else read_epw(name_or_path)
    return epw.for_year(year, tz)
