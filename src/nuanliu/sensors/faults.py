"""Faults the simulator injects, planned up front, with the ground truth to check detection.

Every choice derives from hashes of the ids and the seed: the same sensor table and seed
give the same faults, and daily events (open windows, spikes) of a sensor depend only on
its id, the seed and the day, whichever way the days are generated (batch or streaming).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd

from nuanliu.buildings.params import id_hash, unit_uniforms
from nuanliu.errors import InvalidInput

NS_PER_S = 1_000_000_000

TRUTH_COLUMNS = ["kind", "sensor_id", "household_id", "building_id", "start", "end", "detail"]


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject. Fractions pick that share (rounded) of the population;
    explicit id lists add to it. Sensor faults are exclusive: one kind per sensor.

    * ``cold``: under-supplied buildings (hydraulic imbalance, clogged strainers): every
      room settles at a target drawn from ``cold_target_c`` (14–17 °C).
    * ``overheat``: households with too much radiator (bypass, extra radiators):
      targets in ``overheat_target_c`` (> 24 °C).
    * ``offline``: sensors that stop reporting at a time within ``fault_span``.
    * ``open_window``: once a day between 07:00 and 21:00 local, a window is opened for
      ``open_window_min`` minutes: the room air drops several K, then recovers.
    * ``stuck``: the sensor repeats one value for ``stuck_h`` hours.
    * ``jump``: the sensor's calibration jumps by ± ``jump_k`` K and stays off.
    * ``spike``: ``spikes_per_day`` single readings off by ± ``spike_k`` K.
    """

    cold_building_fraction: float = 0.0
    cold_buildings: Sequence[str] = ()
    overheat_fraction: float = 0.0
    overheat_households: Sequence[str] = ()
    offline_fraction: float = 0.0
    offline_sensors: Sequence[str] = ()
    open_window_fraction: float = 0.0
    open_window_sensors: Sequence[str] = ()
    stuck_fraction: float = 0.0
    stuck_sensors: Sequence[str] = ()
    jump_fraction: float = 0.0
    jump_sensors: Sequence[str] = ()
    spike_fraction: float = 0.0
    spike_sensors: Sequence[str] = ()
    # Offline/stuck/jump faults start within this span after the start (None: whole run).
    fault_span: timedelta | None = None
    cold_target_c: tuple[float, float] = (14.5, 16.5)
    overheat_target_c: tuple[float, float] = (24.5, 27.0)
    open_window_min: tuple[float, float] = (10.0, 30.0)
    stuck_h: tuple[float, float] = (4.0, 24.0)
    jump_k: tuple[float, float] = (3.0, 6.0)
    spike_k: tuple[float, float] = (8.0, 20.0)
    spikes_per_day: int = 2

    def __post_init__(self) -> None:
        for name in (
            "cold_building_fraction",
            "overheat_fraction",
            "offline_fraction",
            "open_window_fraction",
            "stuck_fraction",
            "jump_fraction",
            "spike_fraction",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise InvalidInput(f"fault fraction {name}={v} must be within 0…1")
        sensor_total = (
            self.offline_fraction
            + self.open_window_fraction
            + self.stuck_fraction
            + self.jump_fraction
            + self.spike_fraction
        )
        if sensor_total > 1.0:
            raise InvalidInput(
                f"sensor fault fractions add up to {sensor_total:.2f} > 1 (one kind per sensor)"
            )

    @classmethod
    def none(cls) -> FaultConfig:
        return cls()

    @classmethod
    def demo(cls) -> FaultConfig:
        """A realistic mix for demos: a few cold buildings, some overheating, 2 % offline."""
        return cls(
            cold_building_fraction=0.03,
            overheat_fraction=0.05,
            offline_fraction=0.02,
            open_window_fraction=0.03,
            stuck_fraction=0.01,
            jump_fraction=0.005,
            spike_fraction=0.01,
        )


def pick(
    ids: np.ndarray,
    fraction: float,
    explicit: Sequence[str],
    seed: int,
    kind: str,
    exclude: np.ndarray | None = None,
    hashes: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask: ``round(fraction·n)`` ids with the lowest hash draw, plus ``explicit``.

    ``hashes`` (``id_hash(ids)``) saves re-hashing when several kinds pick from one set.
    """
    n = len(ids)
    mask = np.zeros(n, dtype=bool)
    if explicit:
        wanted = set(explicit)
        mask |= pd.Index(ids).isin(list(wanted))
    count = int(round(fraction * n))
    if count:
        u = unit_uniforms(ids if hashes is None else hashes, seed, f"fault:{kind}", 1)[:, 0]
        if exclude is not None:
            u = np.where(exclude, np.inf, u)
        count = min(count, n)
        chosen = np.argpartition(u, count - 1)[:count] if count < n else np.arange(n)
        chosen = chosen[np.isfinite(u[chosen])]
        mask[chosen] = True
    return mask


@dataclass
class FaultPlan:
    """Per-sensor fault arrays (length = number of sensors); NaT/inf where not affected."""

    sensor_ids: np.ndarray
    household_ids: np.ndarray
    building_ids: np.ndarray
    cold: np.ndarray  # bool, by sensor (its building is cold)
    cold_target_c: np.ndarray
    overheat: np.ndarray
    overheat_target_c: np.ndarray
    offline_at_ns: np.ndarray  # int64; max int = never
    stuck_from_ns: np.ndarray
    stuck_until_ns: np.ndarray
    jump_at_ns: np.ndarray
    jump_k: np.ndarray
    open_window: np.ndarray  # bool
    spike: np.ndarray  # bool
    config: FaultConfig
    seed: int
    step_ns: int
    _daily_cache: dict[int, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    NEVER = np.iinfo(np.int64).max

    def take(self, order: np.ndarray) -> FaultPlan:
        """The plan with its sensors in ``order`` (daily events follow the new positions)."""
        arrays = {
            name: getattr(self, name)[order]
            for name in (
                "sensor_ids",
                "household_ids",
                "building_ids",
                "cold",
                "cold_target_c",
                "overheat",
                "overheat_target_c",
                "offline_at_ns",
                "stuck_from_ns",
                "stuck_until_ns",
                "jump_at_ns",
                "jump_k",
                "open_window",
                "spike",
            )
        }
        return FaultPlan(**arrays, config=self.config, seed=self.seed, step_ns=self.step_ns)

    def static_truth(self) -> pd.DataFrame:
        """Ground truth of the faults that do not repeat daily."""
        rows: list[pd.DataFrame] = []

        def add(
            kind: str,
            mask: np.ndarray,
            start: np.ndarray | None,
            end: np.ndarray | None,
            detail: Callable[[np.ndarray], list[str]] | None = None,
        ) -> None:
            if not mask.any():
                return
            idx = np.flatnonzero(mask)
            rows.append(
                pd.DataFrame(
                    {
                        "kind": kind,
                        "sensor_id": self.sensor_ids[idx],
                        "household_id": self.household_ids[idx],
                        "building_id": self.building_ids[idx],
                        # untimed faults: NaT in the UTC dtype, so truth filters compare
                        "start": _ts(start[idx]) if start is not None else _nat(len(idx)),
                        "end": _ts(end[idx]) if end is not None else _nat(len(idx)),
                        "detail": detail(idx) if detail else "",
                    }
                )
            )

        add(
            "cold",
            self.cold,
            None,
            None,
            lambda i: [f"target {t:.1f} °C" for t in self.cold_target_c[i]],
        )
        add(
            "overheat",
            self.overheat,
            None,
            None,
            lambda i: [f"target {t:.1f} °C" for t in self.overheat_target_c[i]],
        )
        add("offline", self.offline_at_ns != self.NEVER, self.offline_at_ns, None)
        add("stuck", self.stuck_from_ns != self.NEVER, self.stuck_from_ns, self.stuck_until_ns)
        add(
            "jump",
            self.jump_at_ns != self.NEVER,
            self.jump_at_ns,
            None,
            lambda i: [f"{k:+.1f} K" for k in self.jump_k[i]],
        )
        if not rows:
            return empty_truth()
        return pd.concat(rows, ignore_index=True)[TRUTH_COLUMNS]

    def daily(self, day_start_ns: int) -> dict[str, np.ndarray]:
        """Open-window and spike events of the local day starting at ``day_start_ns``."""
        cached = self._daily_cache.get(day_start_ns)
        if cached is not None:
            return cached
        cfg = self.config
        day_key = str(day_start_ns // NS_PER_S)
        steps_per_day = max(1, int(86400 * NS_PER_S // self.step_ns))
        out: dict[str, np.ndarray] = {}
        ow = np.flatnonzero(self.open_window)
        if ow.size:
            u = unit_uniforms(self.sensor_ids[ow], self.seed, f"window:{day_key}", 3)
            # open between 07:00 and 21:00 local, aligned to the reporting step
            first = int(7 * 3600 * NS_PER_S // self.step_ns)
            last = int(21 * 3600 * NS_PER_S // self.step_ns)
            k = first + np.floor(u[:, 0] * (last - first)).astype(np.int64)
            minutes = cfg.open_window_min[0] + u[:, 1] * (
                cfg.open_window_min[1] - cfg.open_window_min[0]
            )
            dur = np.maximum(1, np.round(minutes * 60 * NS_PER_S / self.step_ns)).astype(np.int64)
            # The opening happens between the reading at k and the one at k+1; the room is
            # open for `dur` steps, so the readings k+1 … k+dur show the drop.
            out["window_idx"] = ow
            out["window_open_ns"] = day_start_ns + k * self.step_ns
            out["window_close_ns"] = day_start_ns + (k + dur) * self.step_ns
            out["window_strength"] = 0.2 + 0.15 * u[:, 2]  # share of the room-to-outdoor gap
        sp = np.flatnonzero(self.spike)
        if sp.size:
            m = cfg.spikes_per_day
            u = unit_uniforms(self.sensor_ids[sp], self.seed, f"spike:{day_key}", 3 * m)
            # one spike in each m-th of the day: never two at the same instant
            k = np.floor((np.arange(m) + u[:, :m]) * steps_per_day / m).astype(np.int64)
            mag = cfg.spike_k[0] + u[:, m : 2 * m] * (cfg.spike_k[1] - cfg.spike_k[0])
            sign = np.where(u[:, 2 * m :] < 0.5, -1.0, 1.0)
            out["spike_idx"] = np.repeat(sp, m)
            out["spike_ns"] = (day_start_ns + k * self.step_ns).ravel()
            out["spike_k"] = (mag * sign).ravel()
        if len(self._daily_cache) > 8:
            self._daily_cache.pop(next(iter(self._daily_cache)))
        self._daily_cache[day_start_ns] = out
        return out

    def daily_truth(self, day_start_ns: int) -> pd.DataFrame:
        """Ground truth of that day's open windows and spikes."""
        d = self.daily(day_start_ns)
        parts: list[pd.DataFrame] = []
        if "window_idx" in d:
            i = d["window_idx"]
            parts.append(
                pd.DataFrame(
                    {
                        "kind": "open_window",
                        "sensor_id": self.sensor_ids[i],
                        "household_id": self.household_ids[i],
                        "building_id": self.building_ids[i],
                        "start": _ts(d["window_open_ns"]),
                        "end": _ts(d["window_close_ns"]),
                        "detail": "",
                    }
                )
            )
        if "spike_idx" in d:
            i = d["spike_idx"]
            parts.append(
                pd.DataFrame(
                    {
                        "kind": "spike",
                        "sensor_id": self.sensor_ids[i],
                        "household_id": self.household_ids[i],
                        "building_id": self.building_ids[i],
                        "start": _ts(d["spike_ns"]),
                        "end": _ts(d["spike_ns"]),
                        "detail": [f"{k:+.1f} K" for k in d["spike_k"]],
                    }
                )
            )
        if not parts:
            return empty_truth()
        return pd.concat(parts, ignore_index=True)[TRUTH_COLUMNS]


def empty_truth() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in TRUTH_COLUMNS})
    df["start"] = pd.Series(dtype="datetime64[ns, UTC]")
    df["end"] = pd.Series(dtype="datetime64[ns, UTC]")
    return df


def _nat(n: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.NaT] * n, tz="UTC")


def _ts(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(ns, dtype=np.int64), utc=True)


def plan_faults(
    sensors: pd.DataFrame,
    config: FaultConfig,
    seed: int,
    start_ns: int,
    span_ns: int,
    step_ns: int,
) -> FaultPlan:
    """Decide which sensors, households and buildings get which fault, and when."""
    sid = sensors["sensor_id"].astype(str).to_numpy(dtype=object)
    hid = sensors["household_id"].astype(str).to_numpy(dtype=object)
    bid = sensors["building_id"].astype(str).to_numpy(dtype=object)
    n = len(sid)
    never = np.full(n, FaultPlan.NEVER, dtype=np.int64)

    # Building- and household-level faults: pick among the distinct ids, map to sensors.
    # (factorize: hash-based, fast on millions of string ids)
    b_code, b_unique = pd.factorize(bid)
    b_unique = np.asarray(b_unique, dtype=object)
    cold_b = pick(b_unique, config.cold_building_fraction, config.cold_buildings, seed, "cold")
    cold = cold_b[b_code]
    h_code, h_unique = pd.factorize(hid)
    h_unique = np.asarray(h_unique, dtype=object)
    h_excl = np.zeros(len(h_unique), dtype=bool)
    h_excl[h_code[cold]] = True
    hot_h = pick(
        h_unique,
        config.overheat_fraction,
        config.overheat_households,
        seed,
        "overheat",
        exclude=h_excl,
    )
    hot = hot_h[h_code] & ~cold
    s_hash = id_hash(sid)
    ub = unit_uniforms(id_hash(b_unique), seed, "fault:cold-target", 1)[b_code, 0]
    uh = unit_uniforms(id_hash(h_unique), seed, "fault:hot-target", 1)[h_code, 0]
    ur = unit_uniforms(s_hash, seed, "fault:room-target", 1)[:, 0]
    lo, hi = config.cold_target_c
    cold_target = lo + (hi - lo) * (0.8 * ub + 0.2 * ur)
    lo, hi = config.overheat_target_c
    hot_target = lo + (hi - lo) * (0.8 * uh + 0.2 * ur)

    # Sensor-level faults: exclusive, in a fixed order.
    taken = np.zeros(n, dtype=bool)
    masks: dict[str, np.ndarray] = {}
    for kind, frac, explicit in (
        ("offline", config.offline_fraction, config.offline_sensors),
        ("stuck", config.stuck_fraction, config.stuck_sensors),
        ("jump", config.jump_fraction, config.jump_sensors),
        ("spike", config.spike_fraction, config.spike_sensors),
        ("open_window", config.open_window_fraction, config.open_window_sensors),
    ):
        m = pick(sid, frac, explicit, seed, kind, exclude=taken, hashes=s_hash) & ~taken
        masks[kind] = m
        taken |= m

    u = unit_uniforms(s_hash, seed, "fault:times", 4)
    span_steps = max(1, span_ns // step_ns)
    # Faults begin after the first reading so each sensor shows its healthy signal first.
    start_k = 1 + np.floor(u[:, 0] * span_steps).astype(np.int64)
    t0 = start_ns + start_k * step_ns
    offline_at = np.where(masks["offline"], t0, never)
    stuck_from = np.where(masks["stuck"], t0, never)
    lo, hi = config.stuck_h
    stuck_len = np.round((lo + (hi - lo) * u[:, 1]) * 3600 * NS_PER_S / step_ns).astype(np.int64)
    stuck_until = np.where(masks["stuck"], t0 + np.maximum(stuck_len, 2) * step_ns, never)
    jump_at = np.where(masks["jump"], t0, never)
    lo, hi = config.jump_k
    jump = (lo + (hi - lo) * u[:, 2]) * np.where(u[:, 3] < 0.5, -1.0, 1.0)
    jump = np.where(masks["jump"], jump, 0.0)
    return FaultPlan(
        sensor_ids=sid,
        household_ids=hid,
        building_ids=bid,
        cold=cold,
        cold_target_c=cold_target,
        overheat=hot,
        overheat_target_c=hot_target,
        offline_at_ns=offline_at,
        stuck_from_ns=stuck_from,
        stuck_until_ns=stuck_until,
        jump_at_ns=jump_at,
        jump_k=jump,
        open_window=masks["open_window"],
        spike=masks["spike"],
        config=config,
        seed=seed,
        step_ns=step_ns,
    )
