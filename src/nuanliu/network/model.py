"""The :class:`Network`: one pandas DataFrame per element kind, plus name and meta.

Tables always carry every schema column (in schema order, missing ones filled with
their defaults) with a fixed dtype: ``str`` columns are ``object`` holding Python
``str`` (never NaN: empty string = none), ``float`` columns ``float64``, ``bool``
columns ``bool``. Columns outside the schema are kept after the schema columns.
"""

from __future__ import annotations

import copy as _copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.schema import ELEMENT_KINDS, ID_COLUMN, SCHEMA, Column

TableLike = pd.DataFrame | Mapping[str, Iterable[Any]] | Iterable[Mapping[str, Any]] | None

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _as_frame(kind: str, data: TableLike) -> pd.DataFrame:
    if data is None:
        return pd.DataFrame()
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True).copy()
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    rows = list(data)
    if rows and not all(isinstance(r, Mapping) for r in rows):
        raise InvalidInput(f"{kind}: expected a DataFrame, a dict of columns or a list of rows")
    return pd.DataFrame(rows)


def _str_value(v: Any, default: str) -> str:
    if v is None or v is pd.NA:
        return default
    if isinstance(v, float):
        if math.isnan(v):
            return default
        # ids read as numbers (e.g. CSV "12" → 12.0) must come back as "12"
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, np.floating):
        return _str_value(float(v), default)
    return str(v)


def _coerce_str(kind: str, col: Column, s: pd.Series) -> pd.Series:
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=False) == "string":
        return s
    return pd.Series([_str_value(v, col.default) for v in s.array], index=s.index, dtype=object)


def _coerce_float(kind: str, col: Column, s: pd.Series) -> pd.Series:
    if s.dtype != np.float64:
        values = [np.nan if (v is None or v is pd.NA or v == "") else v for v in s.array]
        try:
            # numpy parses text with Python's float(): exact round trip of repr() output
            # (pandas.to_numeric's fast parser is not)
            s = pd.Series(np.array(values, dtype=np.float64), index=s.index)
        except (ValueError, TypeError):
            bad = [v for v in values if _not_number(v)]
            raise InvalidInput(
                f"{kind}.{col.name}: not a number: {bad[0]!r}"
                if bad
                else f"{kind}.{col.name}: not a number",
                details=[
                    {"kind": kind, "column": col.name, "value": repr(bad[0]) if bad else None}
                ],
            ) from None
    return s if math.isnan(col.default) else s.fillna(col.default)


def _not_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return True
    return False


def _bool_value(kind: str, col: Column, v: Any) -> bool:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v == "":
        return bool(col.default)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer | float | np.floating) and v in (0, 1):
        return bool(v)
    text = str(v).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(
        f"{kind}.{col.name}: not a boolean: {v!r}",
        details=[{"kind": kind, "column": col.name, "value": repr(v)}],
    )


def _coerce_bool(kind: str, col: Column, s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return pd.Series([_bool_value(kind, col, v) for v in s.array], index=s.index, dtype=bool)


_COERCE = {"str": _coerce_str, "float": _coerce_float, "bool": _coerce_bool}


def _empty_series(col: Column, n: int) -> pd.Series:
    if col.dtype == "str":
        return pd.Series([col.default] * n, dtype=object)
    if col.dtype == "float":
        return pd.Series(np.full(n, col.default, dtype=np.float64))
    return pd.Series(np.full(n, bool(col.default), dtype=bool))


def normalize_table(kind: str, data: TableLike) -> pd.DataFrame:
    """``data`` as a table of ``kind``: schema columns in order with defaults and dtypes."""
    cols = SCHEMA[kind]
    df = _as_frame(kind, data)
    n = len(df)
    out: dict[str, pd.Series] = {}
    for col in cols:
        if col.name in df.columns:
            s = df[col.name].reset_index(drop=True)
            out[col.name] = _COERCE[col.dtype](kind, col, s)
        else:
            out[col.name] = _empty_series(col, n)
    known = {c.name for c in cols}
    for extra in df.columns:
        if extra not in known:
            out[str(extra)] = df[extra].reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(n))


@dataclass(eq=False)  # DataFrames have no truth value: compare with .equals()
class Network:
    """A district-heating network: element tables + ``name`` + free-form ``meta``.

    Build one with :meth:`from_tables` (fills defaults, coerces dtypes) or
    :meth:`empty`; access tables by attribute (``net.pipes``) or ``net[kind]``.
    """

    junctions: pd.DataFrame
    sources: pd.DataFrame
    pumps: pd.DataFrame
    pipes: pd.DataFrame
    valves: pd.DataFrame
    stations: pd.DataFrame
    consumers: pd.DataFrame
    controls: pd.DataFrame = field(default_factory=pd.DataFrame)
    name: str = "network"
    meta: dict[str, Any] = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, name: str = "network", meta: dict[str, Any] | None = None) -> Network:
        return cls.from_tables(name=name, meta=meta)

    @classmethod
    def from_tables(
        cls,
        *,
        name: str = "network",
        meta: dict[str, Any] | None = None,
        **tables: TableLike,
    ) -> Network:
        """A network from tables given by kind (DataFrame, dict of columns or list of rows).

        Missing kinds become empty tables, missing columns get their defaults and values
        are coerced to the schema dtypes (``InvalidInput`` names kind and column if not).
        """
        unknown = set(tables) - set(ELEMENT_KINDS)
        if unknown:
            raise InvalidInput(
                f"unknown element kind(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(ELEMENT_KINDS)}"
            )
        # __post_init__ normalizes each table (once; normalizing here too doubled the work)
        given = {kind: tables.get(kind) for kind in ELEMENT_KINDS}
        return cls(**given, name=str(name), meta=dict(meta or {}))

    def __post_init__(self) -> None:
        # Direct construction (Network(junctions=..., ...)) gets the same guarantees.
        for kind in ELEMENT_KINDS:
            setattr(self, kind, normalize_table(kind, getattr(self, kind)))

    # -- access -------------------------------------------------------------------------
    def __getitem__(self, kind: str) -> pd.DataFrame:
        if kind not in SCHEMA:
            raise KeyError(f"unknown element kind {kind!r}; known: {', '.join(ELEMENT_KINDS)}")
        return getattr(self, kind)

    def __setitem__(self, kind: str, data: TableLike) -> None:
        if kind not in SCHEMA:
            raise KeyError(f"unknown element kind {kind!r}; known: {', '.join(ELEMENT_KINDS)}")
        setattr(self, kind, normalize_table(kind, data))

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Element kind → table (the live DataFrames, not copies)."""
        return {kind: getattr(self, kind) for kind in ELEMENT_KINDS}

    def element_ids(self, kind: str) -> pd.Series:
        """The ids of ``kind`` as a string Series (in table order)."""
        return self[kind][ID_COLUMN[kind]]

    def n_elements(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def copy(self) -> Network:
        """A deep copy (tables and meta)."""
        return Network(
            **{k: t.copy(deep=True) for k, t in self.tables.items()},
            name=self.name,
            meta=_copy.deepcopy(self.meta),
        )

    def normalized(self) -> Network:
        """A copy with every table re-coerced to the schema (after in-place edits)."""
        return Network.from_tables(name=self.name, meta=self.meta, **self.copy().tables)

    def junction_xy(self) -> pd.DataFrame:
        """Junction coordinates indexed by junction id (columns ``x``, ``y``)."""
        return self.junctions.set_index("junction_id")[["x", "y"]]

    # -- figures ------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts per kind and the key design figures a heating engineer asks for first."""
        pipes = self.pipes[self.pipes["in_service"]]
        length_m = pipes["length_m"].sum()
        supply_len = pipes.loc[pipes["side"] == "supply", "length_m"].sum()
        cons = self.consumers[self.consumers["in_service"]]
        st = self.stations[self.stations["in_service"]]
        # Isolation stations pass heat on to consumers inside the model: not a final demand.
        final_st = st[st["secondary_supply_junction_id"] == ""]
        design_w = float(np.nansum(cons["heat_demand_w"]) + np.nansum(final_st["heat_demand_w"]))
        area = float(np.nansum(st["floor_area_m2"]) + np.nansum(cons["floor_area_m2"]))
        out: dict[str, Any] = {"name": self.name}
        out.update({kind: int(len(t)) for kind, t in self.tables.items()})
        out.update(
            {
                "pipe_length_km": float(length_m) / 1000.0,
                "supply_pipe_length_km": float(supply_len) / 1000.0,
                "design_heat_mw": design_w / 1e6,
                "floor_area_m2": area,
                "pressure_sources": int(
                    (self.sources["in_service"] & (self.sources["control"] == "pressure")).sum()
                ),
            }
        )
        return out

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(t)}" for k, t in self.tables.items())
        return f"Network(name={self.name!r}, {counts})"

    def equals(self, other: Network) -> bool:
        """True when name, meta and every table are identical (dtypes and NaNs included)."""
        if self.name != other.name or self.meta != other.meta:
            return False
        return all(self[k].equals(other[k]) for k in ELEMENT_KINDS) and all(
            list(self[k].columns) == list(other[k].columns) for k in ELEMENT_KINDS
        )
