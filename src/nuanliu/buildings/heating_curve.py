"""Heating curves: the station's secondary supply temperature as a function of outdoor temperature.

Chinese stations mostly run *quality regulation* (质调节): constant flow, supply temperature
set from the outdoor temperature so radiators deliver exactly the heat the building loses.
The textbook formula (《供热工程》, radiator exponent ``b``) is::

    Q̄  = (t_i − t_o) / (t_i − t_o,d)
    t_s = t_i + ½ (t_s,d + t_r,d − 2 t_i) Q̄^(1/(1+b)) + ½ (t_s,d − t_r,d) Q̄
    t_r = t_i + ½ (t_s,d + t_r,d − 2 t_i) Q̄^(1/(1+b)) − ½ (t_s,d − t_r,d) Q̄

Operators also publish their own set-point tables (e.g. the Jiexiu platform's
``jiexiu_supply_temp_curves.csv``: per station, outdoor ``tem`` → ``max``/``min`` °C);
``HeatingCurve.from_operator_csv`` reads those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput


@dataclass(frozen=True)
class HeatingCurve:
    """Piecewise-linear supply (and return) temperature vs outdoor temperature.

    Outside the tabulated range the end values are held (operators clamp their curves).
    ``design_*`` are the design point the building radiators are sized for.
    """

    outdoor_c: np.ndarray  # increasing
    supply_c: np.ndarray
    return_c: np.ndarray
    design_outdoor_c: float
    design_supply_c: float
    design_return_c: float
    name: str = ""

    def __post_init__(self) -> None:
        x = np.asarray(self.outdoor_c, dtype=float)
        if x.ndim != 1 or len(x) < 2 or np.any(np.diff(x) <= 0):
            raise InvalidInput(f"heating curve {self.name!r}: outdoor temperatures must increase")
        if len(self.supply_c) != len(x) or len(self.return_c) != len(x):
            raise InvalidInput(f"heating curve {self.name!r}: columns differ in length")
        if np.any(np.asarray(self.supply_c) < np.asarray(self.return_c)):
            raise InvalidInput(f"heating curve {self.name!r}: supply below return somewhere")

    def supply_temp_c(self, outdoor_c: np.ndarray | float) -> np.ndarray:
        return np.interp(outdoor_c, self.outdoor_c, self.supply_c)

    def return_temp_c(self, outdoor_c: np.ndarray | float) -> np.ndarray:
        return np.interp(outdoor_c, self.outdoor_c, self.return_c)

    @classmethod
    def quality_regulation(
        cls,
        design_outdoor_c: float = -17.0,
        design_supply_c: float = 60.0,
        design_return_c: float = 42.0,
        indoor_c: float = 18.0,
        radiator_exponent_b: float = 0.3,
        cutoff_outdoor_c: float = 12.0,
        min_supply_c: float = 30.0,
    ) -> HeatingCurve:
        """The quality-regulation curve for radiators; clamped at the design point and above
        ``cutoff_outdoor_c``, never below ``min_supply_c`` (operators keep a minimum)."""
        if not design_outdoor_c < indoor_c:
            raise InvalidInput("design outdoor temperature must be below the indoor temperature")
        if not design_supply_c > design_return_c > indoor_c:
            raise InvalidInput("need design supply > design return > indoor temperature")
        t_o = np.arange(np.floor(design_outdoor_c), np.ceil(cutoff_outdoor_c) + 1.0)
        t_o = np.clip(t_o, design_outdoor_c, cutoff_outdoor_c)
        t_o = np.unique(t_o)
        q = (indoor_c - t_o) / (indoor_c - design_outdoor_c)
        mean_excess = 0.5 * (design_supply_c + design_return_c - 2 * indoor_c)
        half_drop = 0.5 * (design_supply_c - design_return_c)
        s = indoor_c + mean_excess * q ** (1 / (1 + radiator_exponent_b)) + half_drop * q
        r = indoor_c + mean_excess * q ** (1 / (1 + radiator_exponent_b)) - half_drop * q
        s = np.maximum(s, min_supply_c)
        r = np.minimum(np.maximum(r, indoor_c + 1.0), s)
        return cls(
            t_o,
            s,
            r,
            design_outdoor_c,
            design_supply_c,
            design_return_c,
            name=f"quality {design_supply_c:g}/{design_return_c:g} at {design_outdoor_c:g} °C",
        )

    @classmethod
    def from_operator_csv(
        cls,
        path: str | Path,
        station: str | None = None,
        kind: int | None = None,
        column: str = "max",
        design_drop_k: float = 15.0,
    ) -> HeatingCurve:
        """An operator's curve table (columns ``type,tem,max,min,name``).

        Picks one station's rows (``station``), or the median over all stations of
        ``kind`` (``type``), or over all rows. The return curve is not in such tables: it
        is taken as supply minus ``design_drop_k`` scaled with the load.
        """
        p = Path(path)
        try:
            df = pd.read_csv(p)
        except (OSError, pd.errors.ParserError) as exc:
            raise InvalidInput(f"{p}: cannot read heating curve table: {exc}") from exc
        need = {"tem", column}
        if not need <= set(df.columns):
            raise InvalidInput(f"{p}: needs columns {sorted(need)}, has {list(df.columns)}")
        if station is not None:
            df = df[df["name"] == station]
        elif kind is not None:
            df = df[df["type"] == kind]
        if df.empty:
            raise InvalidInput(f"{p}: no rows for station={station!r} kind={kind!r}")
        if df[column].isna().any() or df["tem"].isna().any():
            raise InvalidInput(f"{p}: empty cells in 'tem' or {column!r}")
        curve = df.groupby("tem")[column].median().sort_index()
        t_o = curve.index.to_numpy(dtype=float)
        s = curve.to_numpy(dtype=float)
        design_o = float(t_o[0])
        load = np.clip((18.0 - t_o) / (18.0 - design_o), 0.0, 1.0)
        r = s - design_drop_k * load
        label = station or (f"type {kind}" if kind is not None else "all")
        return cls(t_o, s, r, design_o, float(s[0]), float(r[0]), name=f"{p.name} {label}")


DATA_DIR = Path(__file__).resolve().parent / "data"


def heating_curve(name: str = "default") -> HeatingCurve:
    """A curve by name: ``default`` (quality regulation 60/42 °C at −17 °C), ``jiexiu``
    (the shipped Jiexiu operator curve for radiator stations) or an operator CSV path."""
    if name == "default":
        return default_heating_curve()
    if name == "jiexiu":
        return HeatingCurve.from_operator_csv(DATA_DIR / "jiexiu_radiator_curve.csv")
    if Path(name).is_file():
        return HeatingCurve.from_operator_csv(name)
    raise InvalidInput(
        f"unknown heating curve {name!r}: use 'default', 'jiexiu' or an operator CSV file"
    )


def default_heating_curve(design_outdoor_c: float = -17.0) -> HeatingCurve:
    """Our default: quality regulation, 60/42 °C at the design outdoor temperature.

    60/42 °C matches what Chinese operators run on radiator systems today (the Jiexiu
    operator curves for radiator stations reach 53–56 °C at −15 °C).
    """
    return HeatingCurve.quality_regulation(design_outdoor_c=design_outdoor_c)
