"""Where the simulator gets its sensors: the store's registry or a registry CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.sensors.simulate import REQUIRED_COLUMNS, check_sensors

SENSOR_QUERY = """
SELECT s.sensor_id, s.household_id, s.room, h.building_id, b.station_id,
       h.floor_area_m2, h.address, b.floors, b.year_built
FROM sensors s
JOIN households h ON h.household_id = s.household_id
JOIN buildings b ON b.building_id = h.building_id
ORDER BY s.sensor_id
"""

# "…3单元502室": unit 3, floor 5, door 02 (the demo registry's and common Chinese form)
_FLOOR_RE = r"(\d+)单元(\d{1,2})(\d{2})室"


def floor_from_address(address: pd.Series) -> pd.Series:
    """Storey of a flat parsed from a Chinese address (NaN where it does not parse)."""
    parts = address.astype("string").str.extract(_FLOOR_RE)
    return pd.to_numeric(parts[1], errors="coerce")


def sensors_from_store(store: Any) -> pd.DataFrame:
    """Every registered sensor with its household's and building's facts."""
    with store.read() as q:
        df = q.df(SENSOR_QUERY, [])
    if df.empty:
        raise InvalidInput(
            "the registry has no sensors; import one (nuanliu registry import) or build the "
            "demo (nuanliu registry demo)"
        )
    df["floor"] = floor_from_address(df["address"])
    return check_sensors(df.drop(columns=["address"]))


def sensors_from_csv(path: str | Path) -> pd.DataFrame:
    """A sensor table from CSV: at least ``sensor_id, household_id, building_id``."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype={c: "string" for c in REQUIRED_COLUMNS})
    except FileNotFoundError as exc:
        raise InvalidInput(f"{p}: sensor file not found", details={"file": str(p)}) from exc
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{p}: cannot read sensor CSV: {exc}", details={"file": str(p)}) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidInput(
            f"{p}: missing columns {missing}; a sensor CSV needs {list(REQUIRED_COLUMNS)}",
            details={"file": str(p), "missing": missing},
        )
    if "floor" not in df.columns and "address" in df.columns:
        df["floor"] = floor_from_address(df["address"])
    for c in REQUIRED_COLUMNS:
        empty = df[c].isna() | (df[c].astype("string").str.strip() == "")
        if empty.any():
            line = int(np.flatnonzero(empty.to_numpy())[0]) + 2  # header is line 1
            raise InvalidInput(f"{p}:{line}: {c} is empty", details={"file": str(p), "line": line})
    return check_sensors(df)
