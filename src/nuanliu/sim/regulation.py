"""Part-load control: the actuator values that meet a network's ``controls`` table.

Each enabled ``dp`` or ``pressure`` control has one scalar actuator — the speed ratio
of a curve-pump group (or the lift of a ``lift`` pump), the lift of a source's
circulation pump or of an isolation station's secondary side (``dp``), the return
pressure held by a source or station (``pressure``: pressure holding), or a valve's
opening — and one measured value: the smallest differential pressure over its measured
stations, consumers or junction pairs (the critical one), or the lowest pressure over
its measured junctions. ``valves`` controls need no unknown: a station's control valve
burns whatever its available differential pressure exceeds what it needs.

The actuators are found by an outer loop around the steady solve. Pump speeds and
pressure levels move pressures and loop flows, not the demand-driven flows of
consumers and stations, so between two steady solves the controls are solved on the
hydraulics alone (temperatures, fixed flows and water properties frozen): a projected
Newton iteration with a finite-difference Jacobian that clamps actuators at their
limits. The offset between that surrogate and the last full solve is carried over, so
the outer loop converges on the full model (usually in two or three steady solves,
each warm-started). A control whose actuator ends at a limit without reaching its
set-point is reported in ``result.controls`` and ``result.summary`` with its achieved
value, set-point and reason — never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nuanliu.errors import InvalidInput
from nuanliu.physics.machines import curve_density_kg_m3
from nuanliu.sim.compile import BAR_PA, CompiledNetwork
from nuanliu.sim.hydraulics import PUMP_BYPASSED, PUMP_RUNNING, PUMP_STOPPED

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: a dp/pressure control is met when its measured value is within this of the set-point
TOL_BAR = 1e-3
#: outer iterations (full steady solves) and surrogate Newton steps per outer iteration
MAX_OUTER = 16
#: a pump group changes its running pumps at most this often per regulated solve (a
#: guard against hunting between two stagings)
MAX_STAGE_SWITCHES = 4
#: a group stages down to fewer pumps only if they run at most at rated speed; above
#: it (a VFD's overspeed range) only with all its pumps running
STAGE_MAX_SPEED = 1.0
MAX_NEWTON = 30
#: default actuator ranges when the control row gives none
DEFAULT_RANGE: dict[str, tuple[float, float]] = {
    "speed": (0.3, 1.1),
    "pump_lift": (0.0, 25.0),
    "lift": (0.0, 25.0),
    "level": (0.0, 25.0),
    "opening": (0.01, 1.0),
}
DEFAULT_VALVE_MAX_DP_BAR = 10.0
#: a curve pump group runs at least this factor above the speed whose curve ends (zero
#: head) at its flow: the head left there (≈ 17 % of a0 n²) covers its internal loss
CURVE_END_SPEED = 1.1
_UNIT = {"speed": "", "pump_lift": " bar", "lift": " bar", "level": " bar(g)", "opening": ""}
_WHAT = {
    "speed": "speed ratio",
    "pump_lift": "lift",
    "lift": "lift",
    "level": "held return pressure",
    "opening": "opening",
}


@dataclass
class Loop:
    """One dp/pressure control with its scalar actuator and its measurement."""

    control_id: str
    kind: str  # "dp" | "pressure"
    actuator_kind: str
    actuator_ids: list[str]
    act: str  # "speed" | "pump_lift" | "lift" | "level" | "opening"
    rows: IntArray  # rows in cn.pumps / cn.lifts / cn.valves
    lo: float
    hi: float
    setpoint_bar: float
    m_from: IntArray  # hydraulic nodes: pressure points, or supply side of dp pairs
    m_to: IntArray  # return side of dp pairs (empty for pressure)
    m_ids: NDArray[np.object_]  # measured element ids (for the critical one)
    #: Kv of the group's check-valve bypass (NaN: none, the group cannot be bypassed)
    bypass_kv_m3_h: float = float("nan")

    @property
    def staged(self) -> bool:
        """A curve-pump group whose running pumps are chosen (staging / bypass)."""
        return self.act == "speed"


@dataclass
class ValveGroup:
    """A ``valves`` control: station/consumer control valves that throttle the excess."""

    control_id: str
    actuator_kind: str  # "station" | "consumer"
    rows: IntArray  # rows in cn.stations / cn.consumers
    ids: NDArray[np.object_]
    need_bar: float
    max_bar: float


@dataclass
class Regulation:
    """Compiled controls of a network (attached to :class:`CompiledNetwork`)."""

    loops: list[Loop]
    valves: list[ValveGroup]
    base_speed: FloatArray
    base_pump_lift_pa: FloatArray
    base_lift_pa: FloatArray
    base_return_pa: FloatArray
    base_opening: FloatArray
    return_pa: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: lower actuator bounds in force: a pump group never runs below the speed at which
    #: its curve still gives head at its flow (below that it would be bypassed)
    lo_eff: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: per loop: pumps of a staged group that run (the first ones of the group); 0 = the
    #: group is stopped and its bypass open; other loops: their number of rows
    n_run: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: per loop: the control's value one pump at its minimum speed would give (bypassed
    #: groups, for the report; NaN otherwise)
    run_estimate_bar: FloatArray = field(default_factory=lambda: np.zeros(0))

    @property
    def lo(self) -> FloatArray:
        return np.array([lp.lo for lp in self.loops])

    @property
    def hi(self) -> FloatArray:
        return np.array([lp.hi for lp in self.loops])

    @property
    def tol_u(self) -> FloatArray:
        """How close to a bound an actuator counts as at it."""
        return 1e-5 * np.maximum(1.0, self.hi - self.lo)


def _split(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,;]+", str(text).strip()) if t]


def _fail(cid: str, column: str, value: Any, why: str) -> InvalidInput:
    return InvalidInput(
        f"control {cid}: {column} = {value!r}: {why}",
        details=[{"kind": "controls", "id": cid, "column": column, "problem": why}],
    )


def compile_controls(table: pd.DataFrame | None, cn: CompiledNetwork) -> Regulation | None:
    """The enabled rows of a ``controls`` table bound to ``cn``'s arrays (None if none).

    Raises :class:`InvalidInput` naming the control, column and value when a row refers
    to an unknown or out-of-service element or combines kinds that cannot act together.
    """
    if table is None or not len(table):
        return None
    rows = table[table["enabled"].astype(bool)] if "enabled" in table.columns else table
    if not len(rows):
        return None
    lifts = cn.lifts
    pos = {
        "pump": {k: i for i, k in enumerate(cn.pumps["ids"])},
        "valve": {k: i for i, k in enumerate(cn.valves["ids"])},
        "source": {k: i for i, k in enumerate(lifts["ids"]) if not lifts["is_station"][i]},
        "station": {k: i for i, k in enumerate(lifts["ids"]) if lifts["is_station"][i]},
    }
    stat_pos = {k: i for i, k in enumerate(cn.stations["ids"])}
    cons_pos = {k: i for i, k in enumerate(cn.consumers["ids"])}
    loops: list[Loop] = []
    valves: list[ValveGroup] = []
    used: dict[tuple[str, int], str] = {}
    for rec in rows.to_dict("records"):  # a handful of control rows
        cid = str(rec.get("control_id", ""))
        kind = str(rec.get("kind", ""))
        akind = str(rec.get("actuator_kind", ""))
        ids = _split(rec.get("actuator_ids", ""))
        sp_bar = float(rec.get("setpoint_bar", np.nan))
        amin = float(rec.get("actuator_min", np.nan))
        amax = float(rec.get("actuator_max", np.nan))
        if not np.isfinite(sp_bar):
            raise _fail(cid, "setpoint_bar", sp_bar, "a set-point is required")
        if kind == "valves":
            valves.append(_valve_group(cid, akind, ids, sp_bar, amax, stat_pos, cons_pos))
            continue
        if kind not in ("dp", "pressure"):
            raise _fail(cid, "kind", kind, "expected dp, pressure or valves")
        if akind not in pos:
            raise _fail(
                cid,
                "actuator_kind",
                akind,
                "a dp/pressure control acts on a source, station, pump or valve",
            )
        if not ids:
            raise _fail(cid, "actuator_ids", "", "name the acting element(s)")
        missing = [i for i in ids if i not in pos[akind]]
        if missing:
            raise _fail(
                cid, "actuator_ids", missing[0], f"not an in-service {akind} that can act here"
            )
        arow = np.array([pos[akind][i] for i in ids], dtype=np.int64)
        # a source or station has two actuators: its lift (dp) and its level (pressure)
        group = akind if akind in ("pump", "valve") else f"lift-{kind}"
        for r in arow:
            key = (group, int(r))
            if key in used:
                raise _fail(
                    cid, "actuator_ids", ids[0], f"already the actuator of control {used[key]}"
                )
            used[key] = cid
        if akind == "pump":
            curve = cn.pumps["curve"][arow]
            if curve.any() and not curve.all():
                raise _fail(cid, "actuator_ids", " ".join(ids), "mixes curve and lift pumps")
            act = "speed" if curve.all() else "pump_lift"
            node = int(cn.e_from[cn.pump_slice.start + arow[0]])
        elif akind == "valve":
            act = "opening"
            node = int(cn.e_from[cn.valve_slice.start + arow[0]])
        else:
            if len(arow) != 1:
                raise _fail(cid, "actuator_ids", " ".join(ids), f"one {akind} per control")
            act = "lift" if kind == "dp" else "level"
            if act == "level" and int(arow[0]) not in set(cn.refs["lift"].tolist()):
                raise _fail(
                    cid,
                    "actuator_ids",
                    ids[0],
                    "only the first pressure-holding element of a hydraulic part holds its "
                    "pressure level",
                )
            node = int(cn.e_from[cn.lift_slice.start + arow[0]])
        lo_d, hi_d = DEFAULT_RANGE[act]
        lo = lo_d if np.isnan(amin) else amin
        hi = hi_d if np.isnan(amax) else amax
        if not lo <= hi or (act in ("speed", "opening") and lo <= 0):
            raise _fail(cid, "actuator_min", lo, f"invalid actuator range [{lo:g}, {hi:g}]")
        m_from, m_to, m_ids = _measurement(cid, kind, rec, cn, node, stat_pos, cons_pos)
        kv_raw = rec.get("bypass_kv_m3_h")
        kv = np.nan if kv_raw is None else float(kv_raw)
        if np.isfinite(kv) and (kv <= 0 or act != "speed"):
            why = "must be > 0" if kv <= 0 else "only a curve-pump group (speed) has a bypass"
            raise _fail(cid, "bypass_kv_m3_h", kv, why)
        loops.append(
            Loop(cid, kind, akind, ids, act, arow, lo, hi, sp_bar, m_from, m_to, m_ids, kv)
        )
    if not loops and not valves:
        return None
    sup = lifts["supply_pressure_pa"]
    return Regulation(
        loops=loops,
        valves=valves,
        base_speed=cn.pumps["speed"].copy(),
        base_pump_lift_pa=cn.pumps["lift_pa"].copy(),
        base_lift_pa=lifts["lift_pa"].copy(),
        base_return_pa=(sup - lifts["lift_pa"]).copy(),
        base_opening=cn.valves["opening"].copy(),
        return_pa=(sup - lifts["lift_pa"]).copy(),
        n_run=np.array([len(lp.rows) for lp in loops], dtype=np.int64),
        run_estimate_bar=np.full(len(loops), np.nan),
    )


def _valve_group(
    cid: str,
    akind: str,
    ids: list[str],
    need_bar: float,
    max_bar: float,
    stat_pos: dict[str, int],
    cons_pos: dict[str, int],
) -> ValveGroup:
    if akind not in ("station", "consumer"):
        raise _fail(cid, "actuator_kind", akind, "valves controls act on stations or consumers")
    table = stat_pos if akind == "station" else cons_pos
    if ids:
        missing = [i for i in ids if i not in table]
        if missing:
            raise _fail(cid, "actuator_ids", missing[0], f"not an in-service {akind}")
        rows = np.array([table[i] for i in ids], dtype=np.int64)
    else:
        rows = np.arange(len(table), dtype=np.int64)
    if need_bar < 0:
        raise _fail(cid, "setpoint_bar", need_bar, "must be ≥ 0")
    mx = DEFAULT_VALVE_MAX_DP_BAR if np.isnan(max_bar) else max_bar
    names = np.array(list(table), dtype=object)
    return ValveGroup(cid, akind, rows, names[rows], need_bar, mx)


def _measurement(
    cid: str,
    kind: str,
    rec: dict[str, Any],
    cn: CompiledNetwork,
    act_node: int,
    stat_pos: dict[str, int],
    cons_pos: dict[str, int],
) -> tuple[IntArray, IntArray, NDArray[np.object_]]:
    """Hydraulic nodes of a control's measurement and the ids to report."""
    mkind = str(rec.get("measured_kind", ""))
    mids = _split(rec.get("measured_ids", ""))
    comp = cn.component_of_node
    part = comp[act_node]
    empty = np.zeros(0, dtype=np.int64)
    if kind == "pressure":
        if mkind in ("", "junction") and not mids:
            j = str(cn.junction_ids[cn.node_junction[act_node]])
            return np.array([act_node]), empty, np.array([j], dtype=object)
        if mkind != "junction":
            raise _fail(cid, "measured_kind", mkind, "a pressure control measures junctions")
        return _junction_nodes(cid, cn, mids), empty, np.array(mids, dtype=object)
    if mkind == "junction":
        if not mids or len(mids) % 2:
            raise _fail(cid, "measured_ids", " ".join(mids), "give junction pairs: supply return …")
        nodes = _junction_nodes(cid, cn, mids)
        labels = [f"{a}/{b}" for a, b in zip(mids[::2], mids[1::2], strict=True)]
        return nodes[::2], nodes[1::2], np.array(labels, dtype=object)
    froms: list[IntArray] = []
    tos: list[IntArray] = []
    names: list[NDArray[np.object_]] = []
    for k, table, sl in (
        ("station", stat_pos, cn.stat_slice),
        ("consumer", cons_pos, cn.cons_slice),
    ):
        if mkind not in ("", k):
            continue
        ids_all = np.array(list(table), dtype=object)
        f = cn.f_from[sl]
        t = cn.f_to[sl]
        if mids and mkind == k:
            missing = [i for i in mids if i not in table]
            if missing:
                raise _fail(cid, "measured_ids", missing[0], f"not an in-service {k}")
            sel = np.array([table[i] for i in mids], dtype=np.int64)
        else:
            sel = np.flatnonzero(comp[f] == part) if len(f) else empty
        froms.append(f[sel])
        tos.append(t[sel])
        names.append(ids_all[sel])
    m_from = np.concatenate(froms) if froms else empty
    if not len(m_from):
        raise _fail(
            cid,
            "measured_ids",
            " ".join(mids),
            "no station or consumer to measure in the actuator's hydraulic part",
        )
    if np.any(comp[m_from] != part):
        raise _fail(
            cid,
            "measured_ids",
            " ".join(mids),
            "measured elements lie in another hydraulic part than the actuator",
        )
    return m_from, np.concatenate(tos), np.concatenate(names)


def _junction_nodes(cid: str, cn: CompiledNetwork, ids: list[str]) -> IntArray:
    jpos = {k: i for i, k in enumerate(cn.junction_ids)}
    missing = [i for i in ids if i not in jpos]
    if missing:
        raise _fail(cid, "measured_ids", missing[0], "not a junction")
    nodes = cn.node_of_junction[np.array([jpos[i] for i in ids], dtype=np.int64)]
    if np.any(nodes < 0):
        bad = ids[int(np.flatnonzero(nodes < 0)[0])]
        raise _fail(cid, "measured_ids", bad, "junction is not connected to the network")
    return nodes


# -- applying actuators and measuring ------------------------------------------------------


def initial_actuators(reg: Regulation) -> FloatArray:
    """Actuator values from the network tables, clipped into their ranges."""
    u = np.empty(len(reg.loops))
    for i, lp in enumerate(reg.loops):
        r = lp.rows
        if lp.act == "speed":
            v = float(np.mean(reg.base_speed[r]))
        elif lp.act == "pump_lift":
            v = float(np.mean(reg.base_pump_lift_pa[r])) / BAR_PA
        elif lp.act == "lift":
            v = float(reg.base_lift_pa[r[0]]) / BAR_PA
        elif lp.act == "level":
            v = float(reg.base_return_pa[r[0]]) / BAR_PA
        else:
            v = float(np.mean(reg.base_opening[r]))
        u[i] = min(max(v, lp.lo), lp.hi)
    return u


def apply_actuators(cn: CompiledNetwork, reg: Regulation, u: FloatArray) -> None:
    """Write actuator values into the compiled network's parameter arrays."""
    pumps, lifts, valves = cn.pumps, cn.lifts, cn.valves
    pumps["speed"][:] = reg.base_speed
    pumps["lift_pa"][:] = reg.base_pump_lift_pa
    lifts["lift_pa"][:] = reg.base_lift_pa
    valves["opening"][:] = reg.base_opening
    pumps["state"][:] = PUMP_RUNNING
    ret = reg.base_return_pa.copy()
    for v, lp, n in zip(u, reg.loops, reg.n_run, strict=True):
        if lp.act == "speed":
            pumps["speed"][lp.rows] = v
            if n < len(lp.rows):
                pumps["state"][lp.rows[n:]] = PUMP_STOPPED
            if n == 0:  # the bypass, shared by the group's edges (Kv adds in parallel)
                pumps["state"][lp.rows] = PUMP_BYPASSED
                pumps["bypass_kv_m3_h"][lp.rows] = lp.bypass_kv_m3_h / len(lp.rows)
        elif lp.act == "pump_lift":
            pumps["lift_pa"][lp.rows] = v * BAR_PA
        elif lp.act == "lift":
            lifts["lift_pa"][lp.rows] = v * BAR_PA
        elif lp.act == "level":
            ret[lp.rows] = v * BAR_PA
        else:
            valves["opening"][lp.rows] = v
    # pressure holding keeps the return (suction) pressure; the supply follows the lift
    lifts["supply_pressure_pa"][:] = ret + lifts["lift_pa"]
    reg.return_pa = ret


def measure(reg: Regulation, p_node_pa: FloatArray) -> tuple[FloatArray, list[str]]:
    """Measured value of every loop (bar) and the id of its critical element."""
    out = np.empty(len(reg.loops))
    crit: list[str] = []
    for i, lp in enumerate(reg.loops):
        vals = p_node_pa[lp.m_from] - (p_node_pa[lp.m_to] if len(lp.m_to) else 0.0)
        k = int(np.argmin(vals))
        out[i] = vals[k] / BAR_PA
        crit.append(str(lp.m_ids[k]))
    return out, crit


def _resolve_conflicts(reg: Regulation, sur: Any, u: FloatArray, r: FloatArray) -> FloatArray:
    """Actuators after resolving controls that fight over one degree of freedom.

    Two free controls whose Jacobian rows are parallel measure the same point or points
    tied to each other (e.g. both ends of a pipe section behind a resting pump): only
    one can hold it. The one that wants the pressure higher is driven to the bound that
    raises its value (it ends not met, at its limit); the other then holds the point.
    """
    out = u.copy()
    jac = sur.last_jac
    if jac is None:
        return out
    tol_u = reg.tol_u
    free = (u > reg.lo_eff + tol_u) & (u < reg.hi - tol_u)
    sub = jac[:, free]  # only actuators that can still move tie two controls together
    norm = np.linalg.norm(sub, axis=1)
    for j in np.flatnonzero(free & (r < -TOL_BAR)):
        for i in np.flatnonzero(free & (r > TOL_BAR)):
            cos = float(sub[i] @ sub[j]) / max(norm[i] * norm[j], 1e-300)
            if cos > 0.999:
                out[j] = reg.hi[j] if jac[j, j] > 0 else reg.lo_eff[j]
                break
    return out


def _all_settled(reg: Regulation, u: FloatArray, r: FloatArray) -> bool:
    """Every control met, or its actuator at a limit, or its pump group bypassed."""
    tol_u = reg.tol_u
    at = (u <= reg.lo_eff + tol_u) | (u >= reg.hi - tol_u) | (reg.n_run == 0)
    return bool(np.all((np.abs(r) <= TOL_BAR) | at))


def _node_pressures(cn: CompiledNetwork, result: Any) -> FloatArray:
    jp = result.junctions["pressure_bar"].to_numpy(dtype=float)
    return jp[cn.node_junction] * BAR_PA


def curve_end_speed(cn: CompiledNetwork, reg: Regulation, result: Any, options: Any) -> FloatArray:
    """Per loop: the lowest speed at which every pump of a curve group still gives head at
    its present flow (``CURVE_END_SPEED`` × the speed whose curve ends there); 0 for other
    actuators."""
    out = np.zeros(len(reg.loops))
    if result.pumps is None or not len(result.pumps):
        return out
    pu = cn.pumps
    rho = options.water.density(result.pumps["temp_c"].to_numpy(dtype=float))
    rho = curve_density_kg_m3(rho, pu["rho"])  # curve at a fixed density
    q = np.abs(result.pumps["mdot_kg_s"].to_numpy(dtype=float)) / rho
    for i, lp in enumerate(reg.loops):
        if lp.act != "speed" or reg.n_run[i] == 0:
            continue
        r = lp.rows[: reg.n_run[i]]  # the running pumps
        a0 = pu["a0"][r]
        a2 = pu["a2"][r]
        ok = a0 > 0
        if ok.any():
            n_end = q[r][ok] * np.sqrt(np.maximum(-a2[ok], 0.0) / a0[ok]) * CURVE_END_SPEED
            out[i] = float(np.nanmax(n_end))
    return np.nan_to_num(out)


# -- staging --------------------------------------------------------------------------------


@dataclass
class _Group:
    """A staged pump group at a solved state: total volume flow and lift (curve units)."""

    q_m3_s: float  # the group's flow (pumps + bypass), at the curve's density
    head_m: float  # p_out − p_in as head of the curve's density
    a0: float
    a1: float
    a2: float

    def speed_for(self, n: int) -> float:
        """Speed at which ``n`` pumps give the group's head at its flow (NaN: none)."""
        q = self.q_m3_s / n
        b = self.a1 * q
        c = self.a2 * q * abs(q) - self.head_m
        disc = b * b - 4.0 * self.a0 * c
        if self.a0 <= 0 or disc < 0:
            return float("nan")
        return (-b + float(np.sqrt(disc))) / (2.0 * self.a0)

    def min_speed(self, n: int, lo: float) -> float:
        """Lowest speed of ``n`` running pumps: the control's minimum, or the curve's end
        at their flow (× ``CURVE_END_SPEED``), whichever is higher."""
        q = self.q_m3_s / n
        end = q * np.sqrt(max(-self.a2, 0.0) / self.a0) * CURVE_END_SPEED if self.a0 > 0 else 0
        return max(lo, float(end))

    def min_head(self, n: int, lo: float) -> float:
        s = self.min_speed(n, lo)
        q = self.q_m3_s / n
        return self.a0 * s * s + self.a1 * s * q + self.a2 * q * abs(q)


def _group(cn: CompiledNetwork, lp: Loop, res: Any, options: Any) -> _Group:
    from nuanliu.physics.machines import GRAVITY_M_S2

    pu = cn.pumps
    tab = res.pumps
    rows = lp.rows
    mdot = float(np.abs(tab["mdot_kg_s"].to_numpy(dtype=float)[rows]).sum())
    mdot += float(np.abs(tab["bypass_mdot_kg_s"].to_numpy(dtype=float)[rows]).sum())
    r0 = int(rows[0])
    rho = float(pu["rho"][r0])
    if not np.isfinite(rho):
        rho = float(options.water.density(np.array([tab["temp_c"].to_numpy(dtype=float)[r0]]))[0])
    lift_pa = float(tab["lift_bar"].to_numpy(dtype=float)[r0]) * BAR_PA
    return _Group(
        mdot / rho,
        lift_pa / (rho * GRAVITY_M_S2),
        float(pu["a0"][r0]),
        float(pu["a1"][r0]),
        float(pu["a2"][r0]),
    )


def _stage(
    cn: CompiledNetwork,
    reg: Regulation,
    res: Any,
    u: FloatArray,
    r_true: FloatArray,
    sur: _Surrogate | None,
    options: Any,
    switches: IntArray,
) -> FloatArray | None:
    """Choose the running pumps of every staged group at a settled state.

    A group whose control is met runs the fewest pumps that give its lift at its flow
    with each pump between its minimum speed (and short of its curve's end) and its
    rated speed (``STAGE_MAX_SPEED``, or the control's maximum if lower); at its maximum
    speed without meeting the control it runs all its pumps. At its minimum speed with
    the control still not met (the boost is too much) it runs the number of pumps whose
    minimum head is lowest, and if that is the present one, the group stops and its
    bypass opens. A bypassed group restarts when running at the minimum speed would
    move the control towards its set-point without overshooting it (evaluated on the
    hydraulic surrogate). Returns the new actuators, or None when nothing changed.
    """
    u = u.copy()
    changed = False
    tol_u = reg.tol_u
    for i, lp in enumerate(reg.loops):
        n_max = len(lp.rows)
        if not lp.staged or switches[i] >= MAX_STAGE_SWITCHES:
            continue
        n = int(reg.n_run[i])
        grp = _group(cn, lp, res, options)
        if grp.a0 <= 0 or grp.q_m3_s <= 0:
            continue
        counts = range(1, n_max + 1)
        met = abs(r_true[i]) <= TOL_BAR
        new_n, new_u = n, float(u[i])
        if n == 0:
            if sur is None:
                continue
            k = min(counts, key=lambda m: grp.min_head(m, lp.lo))
            s_k = grp.min_speed(k, lp.lo)
            if s_k > lp.hi:
                continue
            r_run = _restart_estimate(sur, reg, u, r_true, i, k, s_k)
            reg.run_estimate_bar[i] = lp.setpoint_bar + r_run
            if r_run * r_true[i] > 0 and abs(r_run) < abs(r_true[i]) - TOL_BAR:
                new_n, new_u = k, s_k
        elif met or u[i] >= lp.hi - tol_u[i]:
            valid = [
                m
                for m in counts
                if grp.min_speed(m, lp.lo) <= grp.speed_for(m) <= min(lp.hi, STAGE_MAX_SPEED)
            ]
            if not met:
                new_n = n_max
            elif valid and valid[0] != n:
                new_n, new_u = valid[0], grp.speed_for(valid[0])
        elif u[i] <= reg.lo_eff[i] + tol_u[i]:
            # the boost is too much even at the minimum speed
            k = min(counts, key=lambda m: grp.min_head(m, lp.lo))
            if grp.min_head(k, lp.lo) < grp.min_head(n, lp.lo) - 1e-3 * grp.a0:
                new_n, new_u = k, grp.min_speed(k, lp.lo)
            elif np.isfinite(lp.bypass_kv_m3_h):
                new_n, new_u = 0, lp.lo
        if new_n != n:
            reg.n_run[i] = new_n
            u[i] = min(max(new_u, lp.lo), lp.hi)
            switches[i] += 1
            changed = True
    return u if changed else None


def _restart_estimate(
    sur: _Surrogate, reg: Regulation, u: FloatArray, r_true: FloatArray, i: int, k: int, s: float
) -> float:
    """Control ``i``'s residual if its bypassed group ran ``k`` pumps at speed ``s``.

    The pumps' direct effect comes from one surrogate solve; the other met controls
    respond through the surrogate Jacobian (a supply relay's suction, for one, moves
    only because the plant's Δp control answers the relay's boost).
    """
    base = sur.residual(u)
    trial = u.copy()
    trial[i] = s
    reg.n_run[i] = k
    d = sur.residual(trial) - base
    reg.n_run[i] = 0
    apply_actuators(sur.cn, reg, u)
    jac = sur.last_jac if sur.last_jac is not None else sur.jacobian(u)
    tol_u = reg.tol_u
    free = (np.abs(r_true) <= TOL_BAR) & (reg.n_run > 0)
    free &= (u > reg.lo_eff + tol_u) & (u < reg.hi - tol_u)
    free[i] = False
    if free.any():
        du = np.linalg.lstsq(jac[np.ix_(free, free)], -d[free], rcond=None)[0]
        d = d + jac[:, free] @ du
    return float(r_true[i] + d[i])


# -- the outer loop -------------------------------------------------------------------------


def solve_regulated(cn: CompiledNetwork, solve: Any, *, warm_start: Any, options: Any, **kw: Any):
    """Solve ``cn`` with its controls met (``solve`` = the plain steady solver).

    Returns the steady result at the final actuator values with ``result.controls``
    (one row per control), actuator columns in the pump/station/consumer tables and
    ``summary["controls_not_met"]``.
    """
    from nuanliu.sim.options import SolverOptions

    reg: Regulation = cn.regulation
    inner = SolverOptions(**{**options.__dict__, "raise_on_failure": False})
    state = getattr(warm_start, "state", warm_start)
    prev = getattr(state, "actuators", None)
    u = (
        np.clip(np.asarray(prev, dtype=float), reg.lo, reg.hi)
        if prev is not None and len(prev) == len(reg.loops)
        else initial_actuators(reg)
    )
    n_all = np.array([len(lp.rows) for lp in reg.loops], dtype=np.int64)
    prev_n = getattr(state, "pumps_running", None)
    reg.n_run = (
        np.asarray(prev_n, dtype=np.int64).copy()
        if prev_n is not None and len(prev_n) == len(reg.loops)
        else n_all
    )
    reg.run_estimate_bar = np.full(len(reg.loops), np.nan)
    switches = np.zeros(len(reg.loops), dtype=np.int64)
    reg.lo_eff = reg.lo.copy()
    setpoint = np.array([lp.setpoint_bar for lp in reg.loops])
    warm = warm_start
    res = None
    outer = 0
    settled = False  # res was solved at the final actuators
    escapes = 0
    pin = np.zeros(len(reg.loops), dtype=bool)  # actuators held while escaping
    for k in range(1, MAX_OUTER + 1):
        outer = k
        apply_actuators(cn, reg, u)
        res = solve(cn, warm_start=warm, options=inner, regulate=False, **kw)
        settled = True
        # "infeasible" (a physical limit broken) is a solved state: keep regulating
        if not reg.loops or res.state is None or res.status in ("not_converged", "time_limit"):
            break
        measured, _ = measure(reg, _node_pressures(cn, res))
        r_true = measured - setpoint
        reg.lo_eff = np.maximum(reg.lo, curve_end_speed(cn, reg, res, options))
        byp = reg.n_run == 0
        # (the flow may have moved a pump's curve end past its speed: not settled then)
        if np.all((np.abs(r_true) <= TOL_BAR) | byp) and np.all(u >= reg.lo_eff):
            sur0 = _Surrogate(cn, reg, res.state, options) if byp.any() else None
            u_new = _stage(cn, reg, res, u, r_true, sur0, options, switches)
            if u_new is None:
                break
            u, warm, settled = u_new, res, False
            continue
        sur = _Surrogate(cn, reg, res.state, options)
        hold = pin | byp
        u_new = sur.solve(u, r_true, hold if hold.any() else None)
        if np.all(np.abs(u_new - u) <= 1e-7 * np.maximum(1.0, np.abs(u))):
            if _all_settled(reg, u, r_true):
                staged = _stage(cn, reg, res, u, r_true, sur, options, switches)
                if staged is not None:  # pumps started, stopped or bypassed: solve again
                    u, warm, settled = staged, res, False
                    continue
                if not pin.any():
                    break  # controls met or at their limits: nothing left to move
                pin[:] = False  # settled with held actuators: check once without
                u_new = sur.solve(u, r_true, byp if byp.any() else None)
            elif escapes < len(reg.loops):
                # Stalled with a control neither met nor at a limit: two controls fight
                # over one degree of freedom (parallel Jacobian rows). The one wanting
                # the pressure higher is driven to the bound that raises it and held
                # there while the others settle.
                u_new = _resolve_conflicts(reg, sur, u, r_true)
                escapes += 1
                pin |= u_new != u
                if not pin.any():
                    break
            else:
                break
            if np.all(np.abs(u_new - u) <= 1e-7 * np.maximum(1.0, np.abs(u))):
                break
        u, warm, settled = u_new, res, False
    assert res is not None
    apply_actuators(cn, reg, u)
    if settled and (res.status == "converged" or not options.raise_on_failure):
        final = res  # solved at these actuators; the caller's options would not raise
    else:
        # a solve with the caller's options at the final actuators: it raises, or is
        # checked, exactly as a solve without controls
        try:
            final = solve(cn, warm_start=res, options=options, regulate=False, **kw)
        except Exception as exc:  # attach the control report to the partial result
            partial = getattr(exc, "result", None)
            if partial is not None:
                report(cn, reg, u, partial, outer)
            raise
    report(cn, reg, u, final, outer)
    return final


class _Surrogate:
    """The controls on the hydraulics alone, temperatures and fixed flows frozen."""

    def __init__(self, cn: CompiledNetwork, reg: Regulation, state: Any, options: Any) -> None:
        from nuanliu.sim.steady import _edge_mean_temp

        self.cn = cn
        self.reg = reg
        self.opts = options
        self.state = state
        t = _edge_mean_temp(cn, state, None)
        self.rho = options.water.density(t)
        self.mu = options.water.viscosity(t)
        self.setpoint = np.array([lp.setpoint_bar for lp in reg.loops])
        self.q_chord = state.q_chord.copy()
        self.last_jac: FloatArray | None = None

    def residual(self, u: FloatArray) -> FloatArray:
        from nuanliu.sim.hydraulics import solve_hydraulics

        apply_actuators(self.cn, self.reg, u)
        hyd = solve_hydraulics(
            self.cn,
            self.state.m_fixed,
            self.rho,
            self.mu,
            self.q_chord,
            friction_model=self.opts.friction_model,
            tol_pa=self.opts.tol_pressure_pa,
            max_iter=self.opts.max_iter_hydraulic,
        )
        measured, _ = measure(self.reg, hyd.p_pa)
        return measured - self.setpoint

    def jacobian(self, u: FloatArray) -> FloatArray:
        """Finite-difference Jacobian of the surrogate residual at ``u``."""
        lo, hi = self.reg.lo_eff, self.reg.hi
        jac = _fd_jacobian(self.residual, u, self.residual(u), hi, 1e-4 * np.maximum(hi - lo, 1e-3))
        apply_actuators(self.cn, self.reg, u)
        self.last_jac = jac
        return jac

    def solve(
        self, u0: FloatArray, r_true: FloatArray, pin: NDArray[np.bool_] | None = None
    ) -> FloatArray:
        """Actuators in range that zero surrogate + offset for every control whose
        actuator is not held at a bound (projected Newton with backtracking); ``pin``:
        actuators held where they are."""
        lo, hi = self.reg.lo_eff.copy(), self.reg.hi.copy()
        if pin is not None:
            lo[pin] = hi[pin] = u0[pin]
        offset = r_true - self.residual(u0)  # at the solved actuators, even below lo_eff
        u = np.clip(u0, lo, hi)
        if np.any(u != u0):
            r_true = self.residual(u) + offset
        h = 1e-4 * np.maximum(hi - lo, 1e-3)

        def fun(v: FloatArray) -> FloatArray:
            return self.residual(v) + offset

        r = r_true
        eps = 1e-12 * np.maximum(1.0, np.abs(hi))
        for _ in range(MAX_NEWTON):
            jac = _fd_jacobian(fun, u, r, hi, h)
            self.last_jac = jac
            target = _clamped_step(u, r, jac, lo, hi)
            # controls whose actuator stays inside its range must reach their set-point;
            # the others are held at the bound (and reported as not met)
            free = (target > lo + eps) & (target < hi - eps)
            m0 = float(np.max(np.abs(r[free]))) if free.any() else 0.0
            if m0 <= 0.05 * TOL_BAR and np.all(np.abs(target - u) <= 1e-9 * (hi - lo + 1.0)):
                break
            alpha = 1.0
            for _ in range(8):
                trial = u + alpha * (target - u)
                r_try = fun(trial)
                m_try = float(np.max(np.abs(r_try[free]))) if free.any() else 0.0
                if m_try < m0 or m_try <= 0.05 * TOL_BAR:
                    break
                alpha *= 0.5
            step = trial - u
            u, r = trial, r_try
            if m_try <= 0.05 * TOL_BAR and np.all(np.abs(step) <= 1e-6 * (hi - lo + 1.0)):
                break
        return u


def _fd_jacobian(
    fun: Any, u: FloatArray, r0: FloatArray, hi: FloatArray, h: FloatArray
) -> FloatArray:
    """Forward-difference Jacobian of ``fun`` at ``u`` (``r0`` = fun(u)), stepping back
    from an upper bound ``hi``: one hydraulic solve per actuator (few actuators)."""
    jac = np.empty((len(u), len(u)))
    for j in range(len(u)):
        uj = u.copy()
        dj = h[j] if u[j] + h[j] <= hi[j] else -h[j]
        uj[j] += dj
        jac[:, j] = (fun(uj) - r0) / dj
    return jac


def _clamped_step(
    u: FloatArray, r: FloatArray, jac: FloatArray, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """Newton target with actuators that would leave their range held at the bound and
    their controls dropped (the others solved with them there)."""
    n = len(u)
    target = u.copy()
    fixed = hi <= lo  # held actuators (a bypassed group's speed) and their controls drop out
    for _ in range(n + 1):
        free = ~fixed
        if not free.any():
            break
        rr = r + jac[:, fixed] @ (target[fixed] - u[fixed])
        sub = jac[np.ix_(free, free)]
        # Levenberg-regularised: two controls that measure the same point (a singular
        # Jacobian while the critical element switches) get a bounded, shared step
        mu = 1e-8 * max(float(np.max(np.abs(sub))) if sub.size else 1.0, 1e-12)
        step = np.linalg.solve(sub.T @ sub + mu * np.eye(len(sub)), -sub.T @ rr[free])
        target[free] = u[free] + step
        out = free & ((target < lo) | (target > hi))
        if not out.any():
            break
        target[out] = np.clip(target[out], lo[out], hi[out])
        fixed |= out
    return np.clip(target, lo, hi)


# -- reporting ------------------------------------------------------------------------------


def _fmt(v: float, act: str) -> str:
    return f"{v:.3f}{_UNIT[act]}" if act in ("speed", "opening") else f"{v:.2f}{_UNIT[act]}"


def report(cn: CompiledNetwork, reg: Regulation, u: FloatArray, result: Any, outer: int) -> None:
    """Attach the control table, actuator columns and summary entries to ``result``."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    p_node = _node_pressures(cn, result)
    measured, crit = measure(reg, p_node) if reg.loops else (np.zeros(0), [])
    for i, lp in enumerate(reg.loops):
        err = measured[i] - lp.setpoint_bar
        met = bool(abs(err) <= TOL_BAR)
        lo_i = float(reg.lo_eff[i]) if len(reg.lo_eff) == len(reg.loops) else lp.lo
        # the curve-end bound moves a little with the last solve's flows: small tolerance
        tol_u = 1e-5 * max(1.0, lp.hi - lp.lo)
        at = "min" if u[i] <= lo_i + tol_u else ("max" if u[i] >= lp.hi - tol_u else "")
        what = "differential pressure" if lp.kind == "dp" else "pressure"
        where = f"at {crit[i]}"
        n_run = int(reg.n_run[i]) if len(reg.n_run) == len(reg.loops) else len(lp.rows)
        bypassed = lp.staged and n_run == 0
        note = ""
        if bypassed:
            met = False
            at = "bypass"
            est = float(reg.run_estimate_bar[i])
            side = "≥" if measured[i] >= lp.setpoint_bar else "≤"
            run = (
                f"; one pump at its minimum speed would give {est:.3f} bar"
                if np.isfinite(est)
                else "; even one pump at its minimum speed would push it further"
            )
            note = (
                f"control {lp.control_id}: group {' '.join(lp.actuator_ids)} stopped, its "
                f"bypass open (boost not needed): {what} {where} is {measured[i]:.3f} bar "
                f"{side} set-point {lp.setpoint_bar:.3f} bar without the pumps{run}"
            )
            msg = ""
        elif met:
            msg = ""
        elif at:
            limit = lo_i if at == "min" else lp.hi
            end = " (its curve's end at this flow)" if at == "min" and lo_i > lp.lo else ""
            msg = (
                f"control {lp.control_id}: {what} {where} is {measured[i]:.3f} bar, set-point "
                f"{lp.setpoint_bar:.3f} bar: {lp.actuator_kind} {' '.join(lp.actuator_ids)} "
                f"at its {'minimum' if at == 'min' else 'maximum'} {_WHAT[lp.act]} "
                f"{_fmt(limit, lp.act)}{end}"
            )
        else:
            msg = (
                f"control {lp.control_id}: {what} {where} is {measured[i]:.3f} bar, set-point "
                f"{lp.setpoint_bar:.3f} bar: the solve did not settle ({result.status})"
            )
        rows.append(
            {
                "control_id": lp.control_id,
                "kind": lp.kind,
                "actuator_kind": lp.actuator_kind,
                "actuator_ids": " ".join(lp.actuator_ids),
                "actuator": _WHAT[lp.act],
                "actuator_value": 0.0 if bypassed else float(u[i]),  # its pumps stopped
                "actuator_min": lo_i,
                "actuator_max": lp.hi,
                "at_limit": at,
                "measured_bar": float(measured[i]),
                "setpoint_bar": lp.setpoint_bar,
                "critical_id": crit[i],
                "met": met,
                "pumps_running": n_run if lp.staged else len(lp.rows),
                "bypassed": bypassed,
                "message": msg or note,
            }
        )
        notes.append(note)
    for vg in reg.valves:
        rows.append(_valve_report(cn, vg, result))
    result.controls = pd.DataFrame(rows)
    if result.state is not None:
        result.state.actuators = u.copy()
        result.state.pumps_running = reg.n_run.copy()
    # actuator values per element (a stopped pump: 0)
    if result.pumps is not None and len(result.pumps):
        result.pumps["speed_ratio"] = np.where(
            cn.pumps["state"] == PUMP_RUNNING, cn.pumps["speed"], 0.0
        )
    not_met = [r["message"] for r in rows if not r["met"] and not r.get("bypassed")]
    result.summary["controls_bypassed"] = sum(1 for n in notes if n)
    result.summary["controls_notes"] = [n for n in notes if n]
    result.summary["controls"] = len(rows)
    result.summary["controls_not_met"] = len(not_met)
    result.summary["controls_messages"] = not_met
    result.summary["control_iterations"] = outer


def _valve_report(cn: CompiledNetwork, vg: ValveGroup, result: Any) -> dict[str, Any]:
    table = result.stations if vg.actuator_kind == "station" else result.consumers
    dp = table["dp_bar"].to_numpy(dtype=float)[vg.rows]
    valve_dp = dp - vg.need_bar
    col = np.full(len(table), np.nan)
    col[vg.rows] = valve_dp
    table["valve_dp_bar"] = col
    short = valve_dp < -TOL_BAR
    over = valve_dp > vg.max_bar + TOL_BAR
    met = not (short.any() or over.any())
    parts = []
    if short.any():
        k = int(np.argmin(valve_dp))
        parts.append(
            f"{int(short.sum())} {vg.actuator_kind}(s) below the {vg.need_bar:.2f} bar they need "
            f"with the valve fully open (worst {vg.ids[k]}: {dp[k]:.2f} bar)"
        )
    if over.any():
        k = int(np.argmax(valve_dp))
        parts.append(
            f"{int(over.sum())} valve(s) would have to burn more than {vg.max_bar:.2f} bar "
            f"(worst {vg.ids[k]}: {valve_dp[k]:.2f} bar)"
        )
    crit = int(np.argmin(valve_dp)) if len(valve_dp) else 0
    return {
        "control_id": vg.control_id,
        "kind": "valves",
        "actuator_kind": vg.actuator_kind,
        "actuator_ids": f"{len(vg.rows)} {vg.actuator_kind}(s)",
        "actuator": "throttled differential pressure",
        "actuator_value": float(np.max(valve_dp)) if len(valve_dp) else np.nan,
        "actuator_min": 0.0,
        "actuator_max": vg.max_bar,
        "at_limit": "max" if over.any() else ("min" if short.any() else ""),
        "measured_bar": float(dp[crit]) if len(dp) else np.nan,
        "setpoint_bar": vg.need_bar,
        "critical_id": str(vg.ids[crit]) if len(dp) else "",
        "met": met,
        "message": "" if met else f"control {vg.control_id}: " + "; ".join(parts),
    }
