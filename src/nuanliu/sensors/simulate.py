"""Indoor-temperature sensor simulator: the 2R2C room model driven by real weather,
with sensor noise, quantisation, humidity and injected faults.

``simulate_readings(sensors, start, end)`` returns a ``ReadingStream``: iterate it for
pyarrow tables with the columns ``Store.insert_readings`` takes, and read its ``truth``
(one row per injected fault) to check detection. ``SensorSimulator`` is the steppable
core the real-time ``SimulatorRunner`` uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from nuanliu.buildings.heating_curve import HeatingCurve, default_heating_curve
from nuanliu.buildings.params import RoomParams, draw_params, unit_uniforms
from nuanliu.buildings.rc import (
    GAINS_TO_AIR,
    SOLAR_TO_AIR,
    RoomState,
    advance,
    internal_gain_multiplier,
    radiator_conductance_w_k,
    steady_state,
    step_matrix,
)
from nuanliu.errors import InvalidInput
from nuanliu.sensors.faults import NS_PER_S, FaultConfig, FaultPlan, empty_truth, plan_faults
from nuanliu.weather.epw import read_epw
from nuanliu.weather.series import TypicalYearWeather

# The columns of Store.insert_readings (docs/interfaces.md §3), as the store declares them.
READINGS_SCHEMA = pa.schema(
    [
        ("sensor_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("temp_c", pa.float64()),
        ("humidity_pct", pa.float64()),
    ]
)

REQUIRED_COLUMNS = ("sensor_id", "household_id", "building_id")
TEMP_NOISE_K = 0.05  # white noise of a good NTC/digital sensor before 0.1 K quantisation
RH_NOISE_PCT = 0.8
RELINEARISE_EVERY_S = 3600  # radiator linearisation is refreshed hourly
# Open window: the aired room's air approaches a mix of room and outdoor air with this time
# constant, and returns to the flat's temperature with the closing one once shut.
WINDOW_OPEN_TAU_S = 480.0
WINDOW_CLOSE_TAU_S = 1500.0
WINDOW_FLAT_SHARE = 0.1  # extra air exchange of the whole flat, × strength × H_am


def saturation_pressure_pa(temp_c: np.ndarray | float) -> np.ndarray:
    """Saturation vapour pressure over water (Magnus, Alduchov & Eskridge 1996)."""
    t = np.asarray(temp_c)
    if not np.issubdtype(t.dtype, np.floating):
        t = t.astype(np.float64)
    return 610.94 * np.exp(17.625 * t / (t + 243.04))  # keeps float32 in float32


def _to_ns(t: datetime | pd.Timestamp | str) -> int:
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        raise InvalidInput(f"time {t!s} has no timezone; give an aware time (e.g. +08:00)")
    return int(ts.tz_convert("UTC").value)


def resolve_weather(weather: TypicalYearWeather | str | Path) -> TypicalYearWeather:
    """A weather source: a ``TypicalYearWeather``, a shipped name or an EPW path."""
    if isinstance(weather, TypicalYearWeather):
        return weather
    text = str(weather)
    if text.endswith((".epw", ".epw.gz")) or Path(text).is_file():
        return TypicalYearWeather.from_epw(read_epw(text))
    return TypicalYearWeather.shipped(text)


def check_sensors(sensors: pd.DataFrame) -> pd.DataFrame:
    """Validate the sensor table; returns it with string ids and a clean index."""
    missing = [c for c in REQUIRED_COLUMNS if c not in sensors.columns]
    if missing:
        raise InvalidInput(
            f"sensor table lacks columns {missing}; needs {list(REQUIRED_COLUMNS)}",
            details={"missing": missing, "columns": list(sensors.columns)},
        )
    if sensors.empty:
        raise InvalidInput("sensor table is empty: nothing to simulate")
    out = sensors.reset_index(drop=True).copy()
    for c in REQUIRED_COLUMNS:
        if out[c].isna().any():
            row = int(np.flatnonzero(out[c].isna().to_numpy())[0])
            raise InvalidInput(f"sensor table row {row}: {c} is empty", details={"row": row})
        out[c] = out[c].astype(str)
    dup = out["sensor_id"].duplicated()
    if dup.any():
        first = out.loc[dup, "sensor_id"].iloc[0]
        raise InvalidInput(f"sensor id {first!r} appears more than once in the sensor table")
    return out


@dataclass
class StepReadings:
    """Readings of one reporting instant (only sensors that report)."""

    ts_ns: int
    index: np.ndarray | None  # internal positions of the reporting sensors; None = all
    temp_c: np.ndarray
    humidity_pct: np.ndarray
    sensor_ids: pa.Array  # ids of the reporting sensors, aligned with the values


class SensorSimulator:
    """Steppable simulation of every sensor's room; ``next()`` gives the next instant.

    Readings fall on multiples of ``step`` (UTC epoch-aligned); the first is the first
    multiple at or after ``start``. The model is spun up for ``spinup`` before it.
    Cold and overheated rooms are calibrated to their target temperature at the mean
    weather of ``calibration_span`` after the start; colder spells make them colder.
    """

    def __init__(
        self,
        sensors: pd.DataFrame,
        start: datetime | pd.Timestamp | str,
        *,
        step: timedelta = timedelta(minutes=10),
        weather: TypicalYearWeather | str | Path = "hohhot",
        curve: HeatingCurve | None = None,
        faults: FaultConfig | None = None,
        seed: int = 0,
        fault_span: timedelta | None = None,
        spinup: timedelta = timedelta(hours=6),
        tz: str = "Asia/Shanghai",
        calibration_span: timedelta = timedelta(days=1),
    ) -> None:
        self.calibration_span = calibration_span
        self.sensors = check_sensors(sensors)
        self.step_ns = int(step.total_seconds() * NS_PER_S)
        if self.step_ns <= 0 or self.step_ns > 6 * 3600 * NS_PER_S:
            raise InvalidInput(f"step {step} must be between 1 s and 6 h")
        start_ns = _to_ns(start)
        self.start_ns = -(-start_ns // self.step_ns) * self.step_ns
        self.weather = resolve_weather(weather)
        self.curve = curve or default_heating_curve()
        self.faults = faults or FaultConfig()
        self.seed = int(seed)
        self.tz = tz
        n = len(self.sensors)
        self.n = n
        span = fault_span or self.faults.fault_span or timedelta(days=1)
        plan = plan_faults(
            self.sensors,
            self.faults,
            self.seed,
            self.start_ns,
            int(span.total_seconds() * NS_PER_S),
            self.step_ns,
        )
        # Internal order: sensors that go offline last, latest first, so the sensors still
        # reporting are always a prefix (a zero-copy slice, no gather per step).
        off = np.flatnonzero(plan.offline_at_ns != FaultPlan.NEVER)
        off = off[np.argsort(-plan.offline_at_ns[off], kind="stable")]
        order = np.concatenate([np.flatnonzero(plan.offline_at_ns == FaultPlan.NEVER), off])
        self.sensors = self.sensors.iloc[order].reset_index(drop=True)
        self.plan: FaultPlan = plan.take(order)
        self._offline_sorted_ns = np.sort(
            self.plan.offline_at_ns[self.plan.offline_at_ns != FaultPlan.NEVER]
        )
        self._offsets: dict[int, int] = {}
        units = self.sensors.rename(columns={"sensor_id": "unit_id"})
        # float32 from here on: the simulation is memory-bound, and 1e-6 K is plenty
        self.params: RoomParams = draw_params(units, self.curve, self.seed).astype(np.float32)
        self._apply_supply_faults()
        self.sensor_ids = pa.array(self.sensors["sensor_id"].to_numpy(dtype=object), pa.string())
        self._prepare_fast_terms()
        self._held_temp = np.full(n, np.nan)
        self._held_rh = np.full(n, np.nan)
        self._matrix_until_ns = -1
        self._noise_pool: np.ndarray | None = None
        self._matrix = None
        spin_steps = int(spinup.total_seconds() * NS_PER_S // self.step_ns)
        t0 = self.start_ns - spin_steps * self.step_ns
        # Rest at the mean conditions of the coming days (the mass then starts near its
        # daily mean, which a short spin-up could not reach from an arbitrary instant).
        t_ref, ghi_ref = self._reference_conditions()
        rest = steady_state(self.params, t_ref, self._supply_c(t_ref), ghi_ref, 1.0)
        self.state = RoomState(
            rest.t_air_c.astype(np.float32),
            rest.t_mass_c.astype(np.float32),
            rest.dt_mean_k.astype(np.float32),
        )
        self.now_ns = t0
        for _ in range(spin_steps):
            self._advance()

    # -- set-up -----------------------------------------------------------------------

    def _supply_c(self, outdoor_c: float) -> np.ndarray:
        return self.params.supply_offset_k + float(self.curve.supply_temp_c(outdoor_c))

    def _reference_conditions(self) -> tuple[float, float]:
        """Mean outdoor temperature and sun over the calibration span, for fault targets."""
        span_s = int(self.calibration_span.total_seconds())
        t = self.start_ns + np.arange(0, max(span_s, 1800), 1800) * NS_PER_S
        w = self.weather.at(t)
        return float(w["temp_c"].mean()), float(w["ghi_w_m2"].mean())

    def _apply_supply_faults(self) -> None:
        """Scale radiator flow/size so cold and overheated rooms settle at their targets."""
        plan = self.plan
        if not (plan.cold.any() or plan.overheat.any()):
            return
        t_o, ghi = self._reference_conditions()
        for mask, target, lo, hi, scale_k in (
            (plan.cold, plan.cold_target_c, 0.002, 1.0, False),
            (plan.overheat, plan.overheat_target_c, 1.0, 12.0, True),
        ):
            idx = np.flatnonzero(mask)
            if not idx.size:
                continue
            sub = self.params.take(idx)
            supply = float(self.curve.supply_temp_c(t_o)) + sub.supply_offset_k
            lo_a, hi_a = np.full(idx.size, np.log(lo)), np.full(idx.size, np.log(hi))
            for _ in range(16):  # bisection on log(scale): indoor rises with the scale
                mid = 0.5 * (lo_a + hi_a)
                trial = self.params.take(idx)
                scale_try = np.exp(mid).astype(sub.mcp_w_k.dtype)
                trial.mcp_w_k = sub.mcp_w_k * scale_try
                if scale_k:
                    trial.rad_k_w_k13 = sub.rad_k_w_k13 * scale_try
                t_air = steady_state(trial, t_o, supply, ghi, 1.0, iterations=12).t_air_c
                too_warm = t_air > target[idx]
                hi_a = np.where(too_warm, mid, hi_a)
                lo_a = np.where(too_warm, lo_a, mid)
            scale = np.exp(0.5 * (lo_a + hi_a))
            self.params.mcp_w_k[idx] = sub.mcp_w_k * scale
            if scale_k:
                self.params.rad_k_w_k13[idx] = sub.rad_k_w_k13 * scale

    def _prepare_fast_terms(self) -> None:
        p = self.params
        internal = p.internal_gain_w_m2 * p.floor_area_m2
        self._sol_air = SOLAR_TO_AIR * p.solar_aperture_m2
        self._sol_mass = (1.0 - SOLAR_TO_AIR) * p.solar_aperture_m2
        self._int_air = GAINS_TO_AIR * internal
        self._int_mass = (1.0 - GAINS_TO_AIR) * internal
        self._reading_offset = p.sensor_offset_k.copy()
        if "room" in self.sensors.columns:
            # Bedrooms run about half a kelvin cooler than living rooms (doors closed,
            # often on the north side, windows opened at night).
            bedroom = self.sensors["room"].astype(str).str.contains("bed", case=False).to_numpy()
            self._reading_offset[bedroom] -= np.float32(0.5)
        self._stuck_idx = np.flatnonzero(self.plan.stuck_from_ns != FaultPlan.NEVER)
        self._jump_idx = np.flatnonzero(self.plan.jump_at_ns != FaultPlan.NEVER)
        self._window_idx = np.flatnonzero(self.plan.open_window)
        self._window_dev = np.zeros(self.n, dtype=np.float32)

    # -- stepping ---------------------------------------------------------------------

    def _utc_offset_ns(self, t_ns: int) -> int:
        """The local zone's UTC offset at ``t_ns`` (cached per hour: DST-safe, cheap)."""
        hour = t_ns // (3600 * NS_PER_S)
        off = self._offsets.get(hour)
        if off is None:
            local = pd.Timestamp(t_ns, tz="UTC").tz_convert(self.tz)
            off = int(local.utcoffset().total_seconds()) * NS_PER_S
            if len(self._offsets) > 1000:
                self._offsets.clear()
            self._offsets[hour] = off
        return off

    def local_day_start_ns(self, t_ns: int) -> int:
        """UTC instant of local midnight starting the local day of ``t_ns``."""
        off = self._utc_offset_ns(t_ns)
        day = 86400 * NS_PER_S
        return (t_ns + off) // day * day - off

    def _open_windows(self, t_ns: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(sensor positions, strength) of windows open during [t, t+step)."""
        if not self.plan.open_window.any():
            return None
        d = self.plan.daily(self.local_day_start_ns(t_ns))
        open_now = (d["window_open_ns"] <= t_ns) & (t_ns < d["window_close_ns"])
        if not open_now.any():
            return None
        idx = d["window_idx"][open_now]
        return idx, d["window_strength"][open_now]

    def _advance(self) -> dict[str, float]:
        """Advance the state from ``now`` by one step; inputs at the step's midpoint."""
        t = self.now_ns
        mid = t + self.step_ns // 2
        w = self.weather.at_instant(mid)
        t_o = w["temp_c"]
        ghi = w["ghi_w_m2"]
        local_h = self._local_hour(mid)
        mult = float(internal_gain_multiplier(local_h))
        p = self.params
        supply = self._supply_c(t_o)
        phi_a = self._sol_air * ghi + self._int_air * mult
        phi_m = self._sol_mass * ghi + self._int_mass * mult
        if self._matrix is None or t >= self._matrix_until_ns:
            g = radiator_conductance_w_k(p, self.state.dt_mean_k)
            self._matrix = step_matrix(p, g, self.step_ns / NS_PER_S)
            self._matrix_until_ns = t + RELINEARISE_EVERY_S * NS_PER_S
        old = self.state
        new = advance(p, self._matrix, old, t_o, supply, phi_a, phi_m)
        win = self._open_windows(t)
        if self._window_idx.size:
            # The aired room's air: after closing, it returns to the flat's temperature.
            dev = self._window_dev
            dev[self._window_idx] *= np.float32(
                np.exp(-self.step_ns / NS_PER_S / WINDOW_CLOSE_TAU_S)
            )
        if win is not None:
            idx, strength = win
            # Whole flat: a little more air exchange (one room of several is aired).
            extra = WINDOW_FLAT_SHARE * strength * p.h_air_mass_w_k[idx]
            sub = p.take(idx)
            g = radiator_conductance_w_k(sub, old.dt_mean_k[idx])
            m = step_matrix(sub, g, self.step_ns / NS_PER_S, extra)
            s_sub = RoomState(old.t_air_c[idx], old.t_mass_c[idx], old.dt_mean_k[idx])
            r = advance(sub, m, s_sub, t_o, supply[idx], phi_a[idx], phi_m[idx])
            new.t_air_c[idx] = r.t_air_c
            new.t_mass_c[idx] = r.t_mass_c
            new.dt_mean_k[idx] = r.dt_mean_k
            # The aired room: its air heads for a mix of room and outdoor air within minutes.
            target = -strength * (new.t_air_c[idx] - t_o)
            decay = np.float32(np.exp(-self.step_ns / NS_PER_S / WINDOW_OPEN_TAU_S))
            self._window_dev[idx] = target + (self._window_dev[idx] - target) * decay
        self.state = new
        self.now_ns = t + self.step_ns
        return {"temp_c": t_o, "rh_pct": w["rh_pct"], "gain": mult}

    def _local_hour(self, t_ns: int) -> float:
        local_ns = t_ns + self._utc_offset_ns(t_ns)
        return (local_ns % (86400 * NS_PER_S)) / (3600 * NS_PER_S)

    def next(self) -> StepReadings:
        """Readings at ``now`` (from sensors still reporting); then advance one step."""
        t = self.now_ns
        plan = self.plan
        noise_t, noise_rh = self._noise(t)
        t_air = self.state.t_air_c
        if self._window_idx.size:
            t_air = t_air + self._window_dev  # the sensor's (aired) room
        temp = t_air + self._reading_offset + TEMP_NOISE_K * noise_t
        # Humidity: outdoor vapour plus indoor moisture (less with the window open).
        w = self.weather.at_instant(t)
        t_o = w["temp_c"]
        pv_out = w["rh_pct"] / 100.0 * float(saturation_pressure_pa(t_o))
        moist = self.params.moisture_pa * (
            0.8 + 0.2 * internal_gain_multiplier(self._local_hour(t))
        )
        rh = 100.0 * (pv_out + moist) / saturation_pressure_pa(t_air) + RH_NOISE_PCT * noise_rh
        if plan.open_window.any():
            d = plan.daily(self.local_day_start_ns(t - self.step_ns))
            was_open = (d["window_open_ns"] < t) & (t <= d["window_close_ns"])
            if was_open.any():
                i = d["window_idx"][was_open]
                rh[i] = 100.0 * (pv_out + 0.3 * moist[i]) / saturation_pressure_pa(t_air[i])
        if self._jump_idx.size:
            j = self._jump_idx
            on = plan.jump_at_ns[j] <= t
            temp[j[on]] += plan.jump_k[j[on]]
        if plan.spike.any():
            d = plan.daily(self.local_day_start_ns(t))
            hit = d["spike_ns"] == t
            if hit.any():
                temp[d["spike_idx"][hit]] += d["spike_k"][hit]
        # Quantise to 0.1 in float32, then exact tenths in float64 (21.3, not 21.2999…).
        temp = np.rint(temp * 10.0).astype(np.float64) / 10.0
        rh = np.rint(np.clip(rh, 5.0, 95.0) * 10.0).astype(np.float64) / 10.0
        if self._stuck_idx.size:
            s = self._stuck_idx
            active = (plan.stuck_from_ns[s] <= t) & (t < plan.stuck_until_ns[s])
            fresh = active & np.isnan(self._held_temp[s])
            self._held_temp[s[fresh]] = temp[s[fresh]]
            self._held_rh[s[fresh]] = rh[s[fresh]]
            self._held_temp[s[~active]] = np.nan
            self._held_rh[s[~active]] = np.nan
            temp[s[active]] = self._held_temp[s[active]]
            rh[s[active]] = self._held_rh[s[active]]
        index, ids = None, self.sensor_ids
        gone = int(np.searchsorted(self._offline_sorted_ns, t, side="right"))
        if gone:
            keep = self.n - gone  # offline sensors sit at the end, earliest last
            index, ids = np.arange(keep), self.sensor_ids.slice(0, keep)
            temp, rh = temp[:keep], rh[:keep]
        self._advance()
        return StepReadings(t, index, temp, rh, ids)

    def _noise(self, t_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """Two standard-normal vectors for instant ``t_ns``, deterministic by seed and time.

        Drawing 2n normals per step dominated the run time, so each step takes two
        windows at random offsets of a pool drawn once (white sensor noise does not need
        fresh normals; sensors never see the same sequence at the same time).
        """
        if self._noise_pool is None:
            rng = np.random.default_rng([self.seed, 0x5EED])
            self._noise_pool = rng.standard_normal(3 * self.n + 4096, dtype=np.float32)
        pick = np.random.default_rng([self.seed, t_ns // self.step_ns & 0x7FFFFFFFFFFF])
        a, b = pick.integers(0, 2 * self.n + 4096, size=2)
        return self._noise_pool[a : a + self.n], self._noise_pool[b : b + self.n]

    def table(self, readings: list[StepReadings]) -> pa.Table:
        """One Arrow table (the ``insert_readings`` columns) from consecutive instants.

        One record batch per instant, no copying of ids: the columns are chunked arrays
        (``combine_chunks()`` gives contiguous ones if a consumer needs them).
        """
        ts_type = pa.timestamp("us", tz="UTC")
        batches = [
            pa.RecordBatch.from_arrays(
                [
                    r.sensor_ids,
                    pa.array(np.full(len(r.temp_c), r.ts_ns // 1000, dtype=np.int64), ts_type),
                    pa.array(r.temp_c, pa.float64()),
                    pa.array(r.humidity_pct, pa.float64()),
                ],
                schema=READINGS_SCHEMA,
            )
            for r in readings
        ]
        return pa.Table.from_batches(batches, schema=READINGS_SCHEMA)

    def truth(self, end: datetime | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """Ground truth of faults from the start up to ``end`` (default: now)."""
        end_ns = self.now_ns if end is None else _to_ns(end)
        parts = [self.plan.static_truth()]
        if self.plan.open_window.any() or self.plan.spike.any():
            day = self.local_day_start_ns(self.start_ns)
            while day < end_ns:
                parts.append(self.plan.daily_truth(day))
                day = self.local_day_start_ns(day + 36 * 3600 * NS_PER_S)
        parts = [p for p in parts if len(p)]
        if not parts:
            return empty_truth()
        out = pd.concat(parts, ignore_index=True)
        start = pd.Timestamp(self.start_ns, tz="UTC")
        endt = pd.Timestamp(end_ns, tz="UTC")
        timed = out["start"].notna()
        keep = ~timed | ((out["start"] >= start) & (out["start"] < endt))
        return out[keep].reset_index(drop=True)


class ReadingStream:
    """Readings from ``start`` to ``end`` as Arrow tables of about ``chunk_rows`` rows."""

    def __init__(self, sim: SensorSimulator, end_ns: int, chunk_rows: int) -> None:
        self.sim = sim
        self.end_ns = end_ns
        self.chunk_rows = max(1, chunk_rows)
        self.truth = sim.truth(pd.Timestamp(end_ns, tz="UTC"))

    @property
    def steps(self) -> int:
        return max(0, -(-(self.end_ns - self.sim.start_ns) // self.sim.step_ns))

    def __iter__(self) -> Iterator[pa.Table]:
        sim = self.sim
        if sim.now_ns != sim.start_ns:
            raise InvalidInput("a ReadingStream can be iterated once")
        pending: list[StepReadings] = []
        rows = 0
        while sim.now_ns < self.end_ns:
            r = sim.next()
            pending.append(r)
            rows += len(r.temp_c)
            if rows >= self.chunk_rows:
                yield sim.table(pending)
                pending, rows = [], 0
        if pending:
            yield sim.table(pending)


def simulate_readings(
    sensors: pd.DataFrame,
    start: datetime | pd.Timestamp | str,
    end: datetime | pd.Timestamp | str,
    step: timedelta = timedelta(minutes=10),
    weather: TypicalYearWeather | str | Path = "hohhot",
    faults: FaultConfig | None = None,
    seed: int = 0,
    *,
    curve: HeatingCurve | None = None,
    chunk_rows: int = 1_000_000,
    spinup: timedelta = timedelta(hours=6),
    tz: str = "Asia/Shanghai",
) -> ReadingStream:
    """Simulated readings of ``sensors`` (columns ``sensor_id, household_id, building_id``
    and optionally ``station_id, floor_area_m2, year_built, floors, floor, corner``) for
    instants in ``[start, end)``, every ``step``.

    Iterate the result for ``pyarrow.Table`` chunks (``sensor_id``, ``ts`` UTC,
    ``temp_c``, ``humidity_pct``); ``result.truth`` lists every injected fault (kind,
    sensor, household, building, start, end, detail). Deterministic for a given seed.
    Offline/stuck/jump faults start within ``faults.fault_span`` (default: the whole run).
    """
    end_ns = _to_ns(end)
    start_ns = _to_ns(start)
    if end_ns <= start_ns:
        raise InvalidInput(f"end {end} is not after start {start}")
    faults = faults or FaultConfig()
    span = faults.fault_span or timedelta(seconds=(end_ns - start_ns) / NS_PER_S)
    sim = SensorSimulator(
        sensors,
        start,
        step=step,
        weather=weather,
        curve=curve,
        faults=faults,
        seed=seed,
        fault_span=span,
        spinup=spinup,
        tz=tz,
        calibration_span=min(timedelta(seconds=(end_ns - start_ns) / NS_PER_S), timedelta(days=7)),
    )
    return ReadingStream(sim, end_ns, chunk_rows)


def synthetic_sensors(
    n_sensors: int,
    seed: int = 0,
    households_per_building: int = 48,
    buildings_per_station: int = 20,
    sensors_per_household: float = 1.0,
) -> pd.DataFrame:
    """A registry-shaped sensor table without a store (benchmarks, tests, files).

    Ids look like the demo registry's: ``S0000001`` sensors in ``H…`` households of
    ``B…`` buildings fed by ``ST…`` stations.
    """
    if n_sensors <= 0:
        raise InvalidInput("n_sensors must be positive")
    per_h = max(1.0, sensors_per_household)
    n_h = max(1, int(np.ceil(n_sensors / per_h)))
    h_of_s = (np.arange(n_sensors) * n_h) // n_sensors
    b_of_h = h_of_s // households_per_building
    st_of_b = b_of_h // buildings_per_station
    width = max(7, len(str(n_sensors)))

    def ids(prefix: str, nums: np.ndarray) -> np.ndarray:
        digits = np.char.zfill(np.asarray(nums).astype(str), width)
        return np.char.add(prefix, digits).astype(object)

    building_ids = ids("B", np.arange(b_of_h.max() + 1))
    # 60 % six-storey walk-ups, the rest 11-storey blocks; flats spread over the storeys
    floors = np.where(unit_uniforms(building_ids, seed, "floors", 1)[:, 0] < 0.6, 6, 11)
    slot = h_of_s % households_per_building
    floor_of_h = np.minimum(slot * floors[b_of_h] // households_per_building + 1, floors[b_of_h])
    return pd.DataFrame(
        {
            "sensor_id": ids("S", np.arange(n_sensors)),
            "household_id": ids("H", h_of_s),
            "building_id": ids("B", b_of_h),
            "station_id": ids("ST", st_of_b),
            "floors": floors[b_of_h],
            "floor": floor_of_h,
        }
    )
