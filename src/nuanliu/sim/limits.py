"""Physical limits of a steady result: a state that breaks one is infeasible.

The solver finds *a* steady state of the equations; whether real water and steel can be
in it is checked here, vectorised over every element (see docs/solver.md, "Physical
limits"):

* cavitation: absolute pressure at every junction ≥ vapour pressure at the local
  temperature + a margin;
* pressure rating: gauge pressure ≤ PN of every junction, pipe, valve and pump;
* velocity: |v| ≤ the pipe's ``max_velocity_m_s``, by default a table over DN;
* differential pressure: every consumer and station drawing flow has at least its
  ``min_dp_bar`` (a negative Δp is always a violation: no valve passes flow uphill);
* pump operating range: flow within the declared range (default: 0 to the curve's
  zero-head flow) and a non-negative head;
* heat-exchanger temperature cross at stations: primary supply ≥ secondary supply and
  primary return ≥ secondary return (within a tolerance).

Network-wide settings come from ``net.meta["limits"]`` (keys of :class:`LimitSettings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nuanliu.errors import InvalidInput
from nuanliu.network.schema import DEFAULT_PN_BAR, SINGULAR
from nuanliu.physics.machines import curve_density_kg_m3
from nuanliu.physics.water import ATMOSPHERE_PA, WATER, WaterProperties, saturation_pressure_pa
from nuanliu.sim.compile import BAR_PA, CompiledNetwork

FloatArray = NDArray[np.float64]

#: Default highest velocity (m/s) by nominal diameter DN (mm): the upper velocities of
#: district-heating design practice, ≈ 1 m/s in the smallest service pipes rising to
#: 3–3.5 m/s in trunk mains of DN400 and more. Small pipes are allowed a little more than
#: 1 m/s because service pipes are sized by friction gradient (200–300 Pa/m, which is
#: 1.0–1.4 m/s in DN32–DN80). Linear between the points, constant beyond the ends.
VELOCITY_TABLE: tuple[tuple[float, float], ...] = (
    (25.0, 1.0),
    (50.0, 1.3),
    (80.0, 1.5),
    (100.0, 1.6),
    (200.0, 2.0),
    (300.0, 2.5),
    (400.0, 3.0),
    (1000.0, 3.5),
)

#: Columns of the violations table.
COLUMNS = (
    "check",
    "kind",
    "element_id",
    "quantity",
    "value",
    "limit",
    "unit",
    "severity",
    "message",
    "message_zh",
)

_ZH_KIND = {
    "junctions": "节点",
    "pipes": "管段",
    "valves": "阀门",
    "pumps": "水泵",
    "stations": "换热站",
    "consumers": "用户",
}


@dataclass(frozen=True)
class LimitSettings:
    """Network-wide settings of the checks (override in ``net.meta["limits"]``)."""

    #: pressure rating (bar gauge) of elements whose ``pn_bar`` is NaN
    pn_bar: float = DEFAULT_PN_BAR
    #: required pressure above the vapour pressure (bar); CJJ 34 asks for 30–50 kPa
    cavitation_margin_bar: float = 0.5
    #: a station's primary temperature may fall this far below the secondary one (K)
    hx_cross_tolerance_k: float = 0.1
    #: (DN mm, m/s) points of the default velocity limit
    velocity_table: tuple[tuple[float, float], ...] = VELOCITY_TABLE

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> LimitSettings:
        """Defaults overridden by ``meta["limits"]``; InvalidInput names a bad key or value."""
        given = (meta or {}).get("limits") or {}
        if not isinstance(given, Mapping):
            raise InvalidInput("meta.limits must be a mapping of limit settings")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidInput(
                f"meta.limits: unknown setting(s) {', '.join(unknown)}; known: "
                + ", ".join(sorted(known))
            )
        kw: dict[str, Any] = {}
        for key, value in given.items():
            if key == "velocity_table":
                try:
                    table = tuple((float(d), float(v)) for d, v in value)
                except (TypeError, ValueError):
                    table = ()
                dns = [d for d, _ in table]
                if not table or any(v <= 0 for _, v in table) or dns != sorted(set(dns)):
                    raise InvalidInput(
                        "meta.limits.velocity_table: need [[DN mm, m/s], ...] with increasing "
                        f"DN and positive velocities, got {value!r}"
                    )
                kw[key] = table
                continue
            try:
                x = float(value)
            except (TypeError, ValueError):
                x = float("nan")
            if not np.isfinite(x) or x < 0 or (key == "pn_bar" and x == 0):
                raise InvalidInput(f"meta.limits.{key}: expected a number ≥ 0, got {value!r}")
            kw[key] = x
        return cls(**kw)


def default_max_velocity_m_s(
    dn_mm: FloatArray, table: tuple[tuple[float, float], ...] = VELOCITY_TABLE
) -> FloatArray:
    """Default velocity limit (m/s) for nominal diameters DN (mm), from ``table``."""
    pts = np.asarray(table, dtype=np.float64)
    return np.interp(np.asarray(dn_mm, dtype=np.float64), pts[:, 0], pts[:, 1])


def _col(df: pd.DataFrame | None, name: str, default: float, n: int) -> FloatArray:
    """Column as floats with NaN (and a missing column) replaced by ``default``."""
    if df is None or name not in df.columns:
        return np.full(n, default)
    v = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isnan(v), default, v)


class _Rows:
    """Collects violation rows per check; text is formatted only for violating rows."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        check: str,
        kind: str,
        ids: Any,
        quantity: str,
        value: FloatArray,
        limit: FloatArray,
        bad: NDArray[np.bool_],
        *,
        unit: str,
        upper: bool,
        scale: FloatArray | float,
        reason: str,
        reason_zh: str,
        label: str,
        label_zh: str,
    ) -> None:
        idx = np.flatnonzero(bad)
        if not len(idx):
            return
        ids_b = np.asarray(ids, dtype=object)[idx]
        v = np.asarray(value, dtype=np.float64)[idx]
        lim = np.broadcast_to(np.asarray(limit, dtype=np.float64), bad.shape)[idx]
        sc = np.broadcast_to(np.asarray(scale, dtype=np.float64), bad.shape)[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            sev = ((v - lim) if upper else (lim - v)) / np.maximum(np.abs(sc), 1e-12)
        sev = np.where(np.isfinite(sev), sev, np.inf)
        op, op_zh = (">", "超过") if upper else ("<", "低于")
        singular, zh = SINGULAR.get(kind, kind), _ZH_KIND.get(kind, kind)
        self.parts.append(
            pd.DataFrame(
                {
                    "check": check,
                    "kind": kind,
                    "element_id": ids_b.astype(str),
                    "quantity": quantity,
                    "value": v,
                    "limit": lim,
                    "unit": unit,
                    "severity": sev,
                    "message": [
                        f"{singular} {i}: {label} {a:.4g} {unit} {op} {b:.4g} {unit} ({reason})"
                        for i, a, b in zip(ids_b, v, lim, strict=True)
                    ],
                    "message_zh": [
                        f"{zh} {i}：{label_zh} {a:.4g} {unit} {op_zh} {b:.4g} {unit}（{reason_zh}）"
                        for i, a, b in zip(ids_b, v, lim, strict=True)
                    ],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_violations()
        out = pd.concat(self.parts, ignore_index=True)
        return out.sort_values("severity", ascending=False, kind="stable").reset_index(drop=True)


def empty_violations() -> pd.DataFrame:
    """A violations table without rows (the columns and dtypes of :data:`COLUMNS`)."""
    return pd.DataFrame(
        {
            c: pd.Series(dtype=np.float64 if c in ("value", "limit", "severity") else object)
            for c in COLUMNS
        }
    )


def check_limits(
    cn: CompiledNetwork,
    result: Any,
    settings: LimitSettings | None = None,
    water: WaterProperties = WATER,
) -> pd.DataFrame:
    """Every physical-limit violation of a steady ``result`` of ``cn``, worst first.

    Columns: ``check`` (cavitation, pressure_rating, velocity, differential_pressure,
    pump_range, pump_head, hx_cross), ``kind`` and ``element_id`` of the element,
    ``quantity`` (the result column), ``value``, ``limit``, ``unit``, ``severity`` (how
    far beyond the limit, relative) and a message in English and Chinese. Values that
    are not finite (a diverged state) count as violations.
    """
    s = settings or LimitSettings.from_meta(cn.meta)
    rows = _Rows()
    t = cn.tables

    # -- junctions: cavitation and rating ---------------------------------------------
    j = result.junctions
    if j is not None and len(j):
        live = cn.node_of_junction >= 0
        p = j["pressure_bar"].to_numpy(dtype=np.float64)
        temp = j["temp_c"].to_numpy(dtype=np.float64)
        ids = j["junction_id"].to_numpy(dtype=object)
        p_vap_g = (saturation_pressure_pa(np.nan_to_num(temp)) - ATMOSPHERE_PA) / BAR_PA
        p_min = p_vap_g + s.cavitation_margin_bar
        rows.add(
            "cavitation",
            "junctions",
            ids,
            "pressure_bar",
            p,
            p_min,
            live & ~(p >= p_min),
            unit="bar(g)",
            upper=False,
            scale=1.0,
            reason=f"vapour pressure + {s.cavitation_margin_bar:g} bar margin at the local "
            "temperature: the water boils (cavitation)",
            reason_zh=f"低于当地温度下的汽化压力加 {s.cavitation_margin_bar:g} bar 裕量：汽化",
            label="pressure",
            label_zh="压力",
        )
        pn = _col(t.get("junctions"), "pn_bar", s.pn_bar, len(j))
        _rating(rows, "junctions", ids, p, pn, live)

    # -- pipes: rating and velocity ------------------------------------------------------
    pipes = result.pipes
    if pipes is not None and len(pipes):
        n = len(pipes)
        tab = t.get("pipes")
        ids = pipes["pipe_id"].to_numpy(dtype=object)
        p_max = np.fmax(pipes["p_from_bar"].to_numpy(), pipes["p_to_bar"].to_numpy())
        _rating(rows, "pipes", ids, p_max, _col(tab, "pn_bar", s.pn_bar, n))
        dn = _col(tab, "dn_mm", np.nan, n)
        dn = np.where(np.isnan(dn), cn.pipes["diameter_m"] * 1000.0, dn)
        v_max = _col(tab, "max_velocity_m_s", np.nan, n)
        v_max = np.where(np.isnan(v_max), default_max_velocity_m_s(dn, s.velocity_table), v_max)
        v = np.abs(pipes["velocity_m_s"].to_numpy(dtype=np.float64))
        rows.add(
            "velocity",
            "pipes",
            ids,
            "velocity_m_s",
            v,
            v_max,
            ~(v <= v_max),
            unit="m/s",
            upper=True,
            scale=v_max,
            reason="velocity limit of the pipe (erosion, noise, pressure surges)",
            reason_zh="超过管段允许流速",
            label="velocity",
            label_zh="流速",
        )

    # -- valves and pumps: rating ----------------------------------------------------------
    for kind, id_col in (("valves", "valve_id"), ("pumps", "pump_id")):
        df = getattr(result, kind)
        if df is not None and len(df):
            p_max = np.fmax(df["p_from_bar"].to_numpy(), df["p_to_bar"].to_numpy())
            pn = _col(t.get(kind), "pn_bar", s.pn_bar, len(df))
            _rating(rows, kind, df[id_col].to_numpy(dtype=object), p_max, pn)

    pumps = result.pumps
    if pumps is not None and len(pumps):
        _pump_range(rows, cn, pumps, water)

    # -- consumers and stations: differential pressure --------------------------------------
    for kind, id_col, min_dp in (
        ("consumers", "consumer_id", cn.consumers["min_dp_pa"] / BAR_PA),
        ("stations", "station_id", None),
    ):
        df = getattr(result, kind)
        if df is None or not len(df):
            continue
        need = min_dp if min_dp is not None else _col(t.get(kind), "min_dp_bar", 0.0, len(df))
        dp = df["dp_bar"].to_numpy(dtype=np.float64)
        flowing = df["mdot_kg_s"].to_numpy(dtype=np.float64) > 0
        # a hair below zero is round-off of the pressure solve, not a valve passing uphill
        bad = flowing & ~(dp >= need - 1e-7)
        ids = df[id_col].to_numpy(dtype=object)
        negative = bad & (dp < 0)
        for sub, reason, reason_zh in (
            (
                negative,
                "negative: no control valve can pass the flow against it",
                "为负：调节阀无法通过所需流量",
            ),
            (
                bad & ~negative,
                "below the differential pressure it needs",
                "低于所需资用压差",
            ),
        ):
            rows.add(
                "differential_pressure",
                kind,
                ids,
                "dp_bar",
                dp,
                need,
                sub,
                unit="bar",
                upper=False,
                scale=1.0,
                reason=reason,
                reason_zh=reason_zh,
                label="available differential pressure",
                label_zh="资用压差",
            )

    stations = result.stations
    if stations is not None and len(stations):
        _hx_cross(rows, stations, s.hx_cross_tolerance_k)
    return rows.frame()


def _rating(
    rows: _Rows,
    kind: str,
    ids: Any,
    p_bar: FloatArray,
    pn_bar: FloatArray,
    live: NDArray[np.bool_] | None = None,
) -> None:
    bad = ~(p_bar <= pn_bar)
    if live is not None:
        bad &= live
    rows.add(
        "pressure_rating",
        kind,
        ids,
        "pressure_bar",
        p_bar,
        pn_bar,
        bad,
        unit="bar(g)",
        upper=True,
        scale=pn_bar,
        reason="pressure rating PN",
        reason_zh="超过额定压力 PN",
        label="pressure",
        label_zh="压力",
    )


def zero_head_flow_m3_s(
    a0_m: FloatArray, a1: FloatArray, a2: FloatArray, speed: FloatArray
) -> FloatArray:
    """Flow (m³/s) where the curve H = a0 n² + a1 n Q + a2 Q² falls to 0 (inf if never)."""
    b = a1 * speed
    c = a0_m * speed * speed
    with np.errstate(invalid="ignore", divide="ignore"):
        quad = (-b - np.sqrt(np.maximum(b * b - 4.0 * a2 * c, 0.0))) / (2.0 * a2)
        lin = -c / b
    return np.where(a2 < 0, quad, np.where(b < 0, lin, np.inf))


def _pump_range(rows: _Rows, cn: CompiledNetwork, pumps: pd.DataFrame, water: Any) -> None:
    n = len(pumps)
    tab = cn.tables.get("pumps")
    pp = cn.pumps
    ids = pumps["pump_id"].to_numpy(dtype=object)
    # a curve given at a fixed density (imported pandapipes pumps) is read at that density
    rho_water = water.density(pumps["temp_c"].to_numpy(dtype=np.float64))
    rho = curve_density_kg_m3(rho_water, pp["rho"])
    q_m3_h = pumps["mdot_kg_s"].to_numpy(dtype=np.float64) / rho * 3600.0
    # a pump stopped by staging (part-load control) has no operating point to check
    on = pumps["running"].to_numpy(dtype=bool) if "running" in pumps else np.ones(n, dtype=bool)
    q_lo = _col(tab, "min_flow_m3_h", 0.0, n)
    curve_end = np.where(
        pp["curve"], zero_head_flow_m3_s(pp["a0"], pp["a1"], pp["a2"], pp["speed"]), np.inf
    )
    q_hi = _col(tab, "max_flow_m3_h", np.nan, n)
    q_hi = np.where(np.isnan(q_hi), curve_end * 3600.0, q_hi)
    common = {"unit": "m³/h", "label": "flow", "label_zh": "流量"}
    rows.add(
        "pump_range",
        "pumps",
        ids,
        "flow_m3_h",
        q_m3_h,
        q_lo,
        ~(q_m3_h >= q_lo - 1e-9) & on,
        upper=False,
        scale=np.maximum(np.abs(q_hi), 1.0),
        reason="below the pump's operating range (reverse flow at 0)",
        reason_zh="低于水泵工作范围",
        **common,
    )
    rows.add(
        "pump_range",
        "pumps",
        ids,
        "flow_m3_h",
        q_m3_h,
        q_hi,
        (q_m3_h > q_hi) & on,
        upper=True,
        scale=q_hi,
        reason="beyond the pump's operating range (end of its curve)",
        reason_zh="超出水泵工作范围（性能曲线末端）",
        **common,
    )
    lift = pumps["lift_bar"].to_numpy(dtype=np.float64)
    rows.add(
        "pump_head",
        "pumps",
        ids,
        "lift_bar",
        lift,
        np.zeros(n),
        ~(lift >= -1e-7) & on,
        unit="bar",
        upper=False,
        scale=1.0,
        reason="negative head: the water drives the pump",
        reason_zh="扬程为负：水流反推水泵",
        label="head",
        label_zh="扬程",
    )


def _hx_cross(rows: _Rows, st: pd.DataFrame, tol_k: float) -> None:
    flowing = st["mdot_kg_s"].to_numpy(dtype=np.float64) > 0
    ids = st["station_id"].to_numpy(dtype=object)
    for quantity, col, sec_col, label, label_zh in (
        (
            "primary_supply_temp_c",
            "temp_in_c",
            "secondary_supply_temp_c",
            "primary supply",
            "一次侧供水温度",
        ),
        (
            "primary_return_temp_c",
            "temp_out_c",
            "secondary_return_temp_c",
            "primary return",
            "一次侧回水温度",
        ),
    ):
        prim = st[col].to_numpy(dtype=np.float64)
        sec = st[sec_col].to_numpy(dtype=np.float64)
        rows.add(
            "hx_cross",
            "stations",
            ids,
            quantity,
            prim,
            sec,
            flowing & np.isfinite(sec) & ~(prim >= sec - tol_k),
            unit="°C",
            upper=False,
            scale=1.0,
            reason="below the secondary side: temperature cross in the heat exchanger",
            reason_zh="低于二次侧温度：换热器温度交叉",
            label=label,
            label_zh=label_zh,
        )


def summary_message(violations: pd.DataFrame, *, worst: int = 5) -> str:
    """One line naming the worst violation of each check, worst first (up to ``worst``)."""
    if violations is None or not len(violations):
        return "no physical-limit violations"
    top = violations.drop_duplicates("check").head(worst)
    shown = "; ".join(top["message"])
    more = len(violations) - len(top)
    return f"{len(violations)} physical-limit violation(s): {shown}" + (
        f"; and {more} more" if more > 0 else ""
    )
