"""Suspicious data on raw readings: stuck values, jumps, likely open windows, out of range.

Detection is vectorised over every sensor at once (numpy on the sorted readings):

- ``spike``: one reading ≥ ``spike_c`` off both neighbours, which agree within
  ``spike_neighbour_tol_c`` — a transmission or ADC glitch (removed before the rest);
- ``stuck``: the same value (to 0.001 °C) for ≥ ``stuck_hours`` — a frozen sensor;
- ``open_window``: a drop of ≥ ``window_drop_c`` within ``drop_within`` that regains
  ``recover_share`` of the drop within ``recover_within`` — a window opened and closed
  (real, but not a heating fault);
- ``jump``: a drop of that size that does not recover, or a rise of ≥ ``jump_c``
  between consecutive readings outside an open-window event — a calibration shift, a
  moved or knocked sensor;
- ``out_of_range``: a value outside ``[min_plausible_c, max_plausible_c]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from nuanliu.monitor.units import utc
from nuanliu.scope import Scope

COLUMNS = ["sensor_id", "household_id", "kind", "start", "end", "value_c", "detail"]


@dataclass(frozen=True)
class SuspiciousOptions:
    stuck_hours: float = 4.0
    jump_c: float = 2.5
    window_drop_c: float = 2.5
    drop_within: timedelta = timedelta(minutes=30)
    recover_share: float = 0.6
    recover_within: timedelta = timedelta(hours=3)
    spike_c: float = 5.0
    spike_neighbour_tol_c: float = 1.0
    min_plausible_c: float = -20.0
    max_plausible_c: float = 45.0


def suspicious_readings(
    store: Any,
    scope: Scope,
    start: datetime,
    end: datetime,
    options: SuspiciousOptions | None = None,
) -> pd.DataFrame:
    """Suspicious events in ``[start, end)`` for sensors in scope.

    Columns: ``sensor_id, household_id, kind, start, end, value_c, detail`` (one row
    per event; ``value_c`` is the stuck value, the drop or jump size, or the value).
    """
    cond, params = scope.where("hc")
    with store.read() as q:
        tbl = q.arrow(
            f"""
            SELECT r.sensor_id, r.ts, r.temp_c, s.household_id
            FROM readings r
            JOIN sensors s ON s.sensor_id = r.sensor_id
            JOIN household_context hc ON hc.household_id = s.household_id
            WHERE ({cond}) AND r.ts >= ? AND r.ts < ?
            ORDER BY r.sensor_id, r.ts
            """,
            [*params, utc(start), utc(end)],
        )
    return detect(tbl, options or SuspiciousOptions())


def _spikes(v: np.ndarray, same: np.ndarray, dt: np.ndarray, opt: SuspiciousOptions) -> np.ndarray:
    """Single readings off by ≥ ``spike_c`` from both neighbours, which agree closely."""
    n = len(v)
    out = np.zeros(n, dtype=bool)
    if n < 3:
        return out
    within = opt.drop_within.total_seconds()
    prev_dev = v[1:-1] - v[:-2]
    next_dev = v[1:-1] - v[2:]
    ok = same[1:-1] & same[2:] & (dt[1:-1] <= within) & (dt[2:] <= within)
    out[1:-1] = (
        ok
        & (np.abs(prev_dev) >= opt.spike_c)
        & (np.sign(prev_dev) == np.sign(next_dev))
        & (np.abs(v[2:] - v[:-2]) <= opt.spike_neighbour_tol_c)
    )
    return out


def detect(tbl: pa.Table, opt: SuspiciousOptions) -> pd.DataFrame:
    """Events in readings ``sensor_id, ts, temp_c[, household_id]`` sorted by sensor, ts."""
    if tbl.num_rows == 0:
        return pd.DataFrame({c: [] for c in COLUMNS})
    sid_codes, sensors = pd.factorize(tbl.column("sensor_id").to_pandas())
    ts_col = tbl.column("ts").cast(pa.timestamp("us", tz="UTC"))
    t = ts_col.cast(pa.int64()).to_numpy() // 1_000_000
    v = tbl.column("temp_c").to_numpy().astype(float)
    n = len(v)
    same = np.zeros(n, dtype=bool)  # same[i]: reading i follows i-1 of the same sensor
    same[1:] = sid_codes[1:] == sid_codes[:-1]
    dt = np.zeros(n, dtype=np.int64)
    dt[1:] = np.diff(t)
    events: list[tuple[int, int, str, float, str]] = []

    # Out of range.
    bad = np.flatnonzero((v < opt.min_plausible_c) | (v > opt.max_plausible_c))
    events += [(i, i, "out_of_range", v[i], "implausible value") for i in bad]

    # Spikes, then a cleaned series (spikes replaced by their neighbours' mean) so that
    # a spike does not look like a drop or a jump.
    spike = _spikes(v, same, dt, opt)
    for i in np.flatnonzero(spike):
        dev = v[i] - 0.5 * (v[i - 1] + v[i + 1])
        events.append((i, i, "spike", dev, f"{dev:+.1f} °C single reading"))
    v = v.copy()
    si = np.flatnonzero(spike)
    v[si] = 0.5 * (v[si - 1] + v[si + 1])

    # Stuck: runs of equal values within one sensor.
    eq = np.zeros(n, dtype=bool)
    eq[1:] = same[1:] & (np.abs(np.diff(v)) < 1e-3)
    run_start = np.flatnonzero(~eq)
    run_end = np.append(run_start[1:], n) - 1
    dur_h = (t[run_end] - t[run_start]) / 3600.0
    for k in np.flatnonzero(dur_h >= opt.stuck_hours):
        s, e = run_start[k], run_end[k]
        events.append((s, e, "stuck", v[s], f"{dur_h[k]:.1f} h unchanged"))

    # Drops: the level before (max over the preceding drop_within) minus the value.
    within = int(opt.drop_within.total_seconds())
    pre_max = np.full(n, -np.inf)
    lag = 1
    while lag < n:
        idx = np.arange(lag, n)
        ok = (sid_codes[idx] == sid_codes[idx - lag]) & (t[idx] - t[idx - lag] <= within)
        if not ok.any():
            break
        cand = np.where(ok, v[idx - lag], -np.inf)
        pre_max[idx] = np.maximum(pre_max[idx], cand)
        lag += 1
    dropping = (pre_max - v) >= opt.window_drop_c
    # One event per episode: the first reading of a run of dropping readings.
    first = dropping & ~np.concatenate([[False], dropping[:-1] & same[1:]])
    key = sid_codes.astype(np.int64) * (1 << 34) + (t - t.min())
    horizon = int(opt.recover_within.total_seconds())
    covered = np.zeros(n, dtype=bool)
    for j in np.flatnonzero(first):
        # The deepest point of the episode, then the recovery search after it.
        k = j
        while k + 1 < n and same[k + 1] and dropping[k + 1]:
            k += 1
        low_i = j + int(np.argmin(v[j : k + 1]))
        level = pre_max[j]
        size = level - v[low_i]
        stop = int(np.searchsorted(key, key[low_i] + horizon, side="right"))
        after = v[low_i + 1 : stop]
        rec = np.flatnonzero(after >= v[low_i] + opt.recover_share * size)
        if rec.size:
            r = low_i + 1 + int(rec[0])
            events.append((j, r, "open_window", size, f"drop {size:.1f} °C, recovered"))
            # The rest of the re-heating belongs to the event too.
            covered[j : min(stop, n)] = True
        else:
            events.append((j, low_i, "jump", -size, f"drop {size:.1f} °C, no recovery"))
            covered[j : k + 1] = True

    # Rises between consecutive readings outside open-window events.
    dv = np.zeros(n)
    dv[1:] = np.diff(v)
    jumps = np.flatnonzero(same & (dv >= opt.jump_c) & (dt <= within) & ~covered)
    events += [(i - 1, i, "jump", dv[i], f"{dv[i]:+.1f} °C in {dt[i] // 60} min") for i in jumps]

    if not events:
        return pd.DataFrame({c: [] for c in COLUMNS})
    s_idx = np.array([e[0] for e in events])
    e_idx = np.array([e[1] for e in events])
    ts = ts_col.to_pandas()
    hh = (
        tbl.column("household_id").to_numpy(zero_copy_only=False)
        if ("household_id" in tbl.column_names)
        else np.full(n, None, dtype=object)
    )
    out = pd.DataFrame(
        {
            "sensor_id": np.asarray(sensors)[sid_codes[s_idx]],
            "household_id": hh[s_idx],
            "kind": [e[2] for e in events],
            "start": ts.iloc[s_idx].to_numpy(),
            "end": ts.iloc[e_idx].to_numpy(),
            "value_c": [float(e[3]) for e in events],
            "detail": [e[4] for e in events],
        }
    )
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out.sort_values(["sensor_id", "start", "kind"]).reset_index(drop=True)
