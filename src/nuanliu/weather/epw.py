"""EnergyPlus weather (EPW) files: the typical-year hourly weather the models run on.

An EPW file has 8 header lines and 8760 hourly rows. Hour ``h`` (1…24) of a row is the
hour *ending* at ``h``:00 local standard time, so the row labelled 1 January hour 1 is the
value at 01:00 and the last row (31 December hour 24) is the value at 00:00 of the next
1 January. Columns used here (1-based, as in the EnergyPlus documentation):

====  ==========================================  =====================
col   field                                       our column
====  ==========================================  =====================
7     dry-bulb temperature °C                     ``temp_c``
8     dew-point temperature °C                    ``dew_point_c``
9     relative humidity %                         ``rh_pct``
10    atmospheric pressure Pa                     ``pressure_pa``
14    global horizontal radiation Wh/m²           ``ghi_w_m2``
21    wind direction °                            ``wind_dir_deg``
22    wind speed m/s                              ``wind_m_s``
====  ==========================================  =====================
"""

from __future__ import annotations

import calendar
import gzip
import io
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput

HEADER_LINES = 8
HOURS_PER_YEAR = 8760

# (0-based column index, our name, lowest and highest plausible value)
_FIELDS: list[tuple[int, str, float, float]] = [
    (6, "temp_c", -70.0, 70.0),
    (7, "dew_point_c", -90.0, 70.0),
    (8, "rh_pct", 0.0, 110.0),
    (9, "pressure_pa", 31000.0, 120000.0),
    (13, "ghi_w_m2", 0.0, 1500.0),
    (20, "wind_dir_deg", 0.0, 360.0),
    (21, "wind_m_s", 0.0, 60.0),
]
_MIN_COLUMNS = 22


@dataclass(frozen=True)
class EpwLocation:
    """The LOCATION header line."""

    city: str
    region: str
    country: str
    source: str
    wmo: str
    lat_deg: float
    lon_deg: float
    utc_offset_h: float
    elevation_m: float

    @property
    def tz(self) -> timezone:
        """The file's fixed standard-time zone (EPW ignores daylight saving)."""
        return timezone(timedelta(hours=self.utc_offset_h))


@dataclass(frozen=True)
class EpwDesignConditions:
    """Heating design conditions from the DESIGN CONDITIONS header (ASHRAE), if present."""

    source: str
    heating_db996_c: float  # dry bulb exceeded 99.6 % of the year
    heating_db990_c: float  # dry bulb exceeded 99 % of the year


@dataclass
class EpwFile:
    """A parsed EPW file: header facts and the 8760 hourly rows of the typical year."""

    path: str
    location: EpwLocation
    design: EpwDesignConditions | None
    # Columns as in the module docstring plus ``month``, ``day``, ``hour`` (1…24).
    hourly: pd.DataFrame = field(repr=False)

    def for_year(self, year: int, tz: str = "Asia/Shanghai") -> pd.DataFrame:
        """The typical year laid onto calendar ``year``, indexed by tz-aware timestamps.

        Index values are the end of each hour (01:00 1 Jan … 00:00 1 Jan of ``year + 1``),
        converted from the file's standard time to ``tz``. In a leap year 29 February
        repeats 28 February, the usual convention for typical-year data.
        """
        data = self.hourly.drop(columns=["month", "day", "hour"])
        if calendar.isleap(year):
            feb28 = data.iloc[58 * 24 : 59 * 24]
            data = pd.concat([data.iloc[: 59 * 24], feb28, data.iloc[59 * 24 :]])
        start = pd.Timestamp(year=year, month=1, day=1, hour=1, tz=self.location.tz)
        idx = pd.date_range(start, periods=len(data), freq="h", name="ts").tz_convert(tz)
        out = data.set_axis(idx)
        return out


def _where(path: str, line_no: int) -> str:
    return f"{path}:{line_no}"


def _parse_location(line: str, path: str) -> EpwLocation:
    parts = [p.strip() for p in line.split(",")]
    if parts[0].upper() != "LOCATION" or len(parts) < 10:
        raise InvalidInput(
            f"{_where(path, 1)}: first line must be 'LOCATION,city,region,country,source,"
            f"WMO,lat,lon,tz,elevation', got {line[:60]!r}",
            details={"file": path, "line": 1},
        )
    try:
        lat, lon, tz_h, elev = (float(x) for x in parts[6:10])
    except ValueError as exc:
        raise InvalidInput(
            f"{_where(path, 1)}: LOCATION latitude/longitude/time zone/elevation not numeric",
            details={"file": path, "line": 1},
        ) from exc
    if not -12.0 <= tz_h <= 14.0:
        raise InvalidInput(
            f"{_where(path, 1)}: time zone {tz_h} h is outside −12…+14",
            details={"file": path, "line": 1},
        )
    return EpwLocation(*parts[1:6], lat, lon, tz_h, elev)


def _parse_design(line: str) -> EpwDesignConditions | None:
    parts = [p.strip() for p in line.split(",")]
    try:
        i = [p.lower() for p in parts].index("heating")
        # Heating,<coldest month>,<DB99.6>,<DB99>,...
        return EpwDesignConditions(
            source=parts[2] if len(parts) > 2 else "",
            heating_db996_c=float(parts[i + 2]),
            heating_db990_c=float(parts[i + 3]),
        )
    except (ValueError, IndexError):
        return None  # design conditions are optional in EPW


def parse_epw(text: str, path: str = "<epw>") -> EpwFile:
    """Parse EPW text; raise ``InvalidInput`` naming the file and line of any problem."""
    lines = text.splitlines()
    if len(lines) < HEADER_LINES + HOURS_PER_YEAR:
        raise InvalidInput(
            f"{path}: {len(lines)} lines; an EPW file needs {HEADER_LINES} header lines and "
            f"{HOURS_PER_YEAR} hourly rows",
            details={"file": path, "lines": len(lines)},
        )
    location = _parse_location(lines[0], path)
    design = _parse_design(lines[1]) if lines[1].upper().startswith("DESIGN CONDITIONS") else None
    rows = lines[HEADER_LINES : HEADER_LINES + HOURS_PER_YEAR]
    extra = [ln for ln in lines[HEADER_LINES + HOURS_PER_YEAR :] if ln.strip()]
    if extra:
        raise InvalidInput(
            f"{_where(path, HEADER_LINES + HOURS_PER_YEAR + 1)}: unexpected data after "
            f"{HOURS_PER_YEAR} hourly rows (sub-hourly EPW files are not supported)",
            details={"file": path, "line": HEADER_LINES + HOURS_PER_YEAR + 1},
        )
    values = np.empty((HOURS_PER_YEAR, len(_FIELDS)), dtype=np.float64)
    stamps = np.empty((HOURS_PER_YEAR, 3), dtype=np.int64)
    for i, row in enumerate(rows):
        line_no = HEADER_LINES + i + 1
        parts = row.split(",")
        if len(parts) < _MIN_COLUMNS:
            raise InvalidInput(
                f"{_where(path, line_no)}: {len(parts)} columns, need at least {_MIN_COLUMNS}",
                details={"file": path, "line": line_no},
            )
        try:
            stamps[i] = (int(parts[1]), int(parts[2]), int(parts[3]))
        except ValueError as exc:
            raise InvalidInput(
                f"{_where(path, line_no)}: month/day/hour not integers: {parts[1:4]}",
                details={"file": path, "line": line_no},
            ) from exc
        for j, (col, name, lo, hi) in enumerate(_FIELDS):
            try:
                v = float(parts[col])
            except ValueError as exc:
                raise InvalidInput(
                    f"{_where(path, line_no)}: column {col + 1} ({name}) is not a number: "
                    f"{parts[col]!r}",
                    details={"file": path, "line": line_no, "column": col + 1},
                ) from exc
            if not lo <= v <= hi:
                raise InvalidInput(
                    f"{_where(path, line_no)}: column {col + 1} ({name}) = {v} is outside "
                    f"{lo}…{hi} (missing-value codes are not allowed in the fields we use)",
                    details={"file": path, "line": line_no, "column": col + 1},
                )
            values[i, j] = v
    _check_calendar(stamps, path)
    df = pd.DataFrame(values, columns=[name for _, name, _, _ in _FIELDS])
    df.insert(0, "hour", stamps[:, 2])
    df.insert(0, "day", stamps[:, 1])
    df.insert(0, "month", stamps[:, 0])
    return EpwFile(path=path, location=location, design=design, hourly=df)


def _check_calendar(stamps: np.ndarray, path: str) -> None:
    """Rows must run 1 Jan hour 1 … 31 Dec hour 24 of a 365-day year, hour by hour."""
    expected = pd.date_range("2001-01-01", periods=365, freq="D")
    exp_month = np.repeat(expected.month.to_numpy(), 24)
    exp_day = np.repeat(expected.day.to_numpy(), 24)
    exp_hour = np.tile(np.arange(1, 25), 365)
    bad = np.flatnonzero(
        (stamps[:, 0] != exp_month) | (stamps[:, 1] != exp_day) | (stamps[:, 2] != exp_hour)
    )
    if bad.size:
        i = int(bad[0])
        raise InvalidInput(
            f"{_where(path, HEADER_LINES + i + 1)}: expected month/day/hour "
            f"{exp_month[i]}/{exp_day[i]}/{exp_hour[i]}, got "
            f"{stamps[i, 0]}/{stamps[i, 1]}/{stamps[i, 2]} (rows must be one typical "
            f"non-leap year, hour by hour)",
            details={"file": path, "line": HEADER_LINES + i + 1},
        )


def read_epw(path: str | Path) -> EpwFile:
    """Read an EPW file (plain or ``.gz``)."""
    p = Path(path)
    try:
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"{p}: weather file not found", details={"file": str(p)}) from exc
    except OSError as exc:  # includes gzip.BadGzipFile
        raise InvalidInput(
            f"{p}: cannot read weather file: {exc}", details={"file": str(p)}
        ) from exc
    text = io.TextIOWrapper(io.BytesIO(raw), encoding="latin-1").read()
    return parse_epw(text, str(p))
