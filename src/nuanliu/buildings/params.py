"""Thermal parameters of flats (rooms), drawn around realistic values.

Values are per m² of floor area and follow Chinese residential practice:

* Specific heat loss (air → outdoor, incl. ventilation, mid-floor flat) by construction
  era of the national energy-saving codes (JGJ 26): before 1996 (no code, brick and
  single glazing) ≈ 1.5 W/(m²·K); 1996–2009 (50 %) ≈ 1.0; 2010–2017 (65 %) ≈ 0.7;
  from 2018 (75 %) ≈ 0.5. At a design difference of 37 K this is the 55 / 37 / 26 /
  18 W/m² "heat index" operators quote.
* Position in the building: top floor +35 % (roof), ground floor +15 % (floor over the
  basement), corner flat +20 % (an extra external wall). These are the flats residents
  complain from.
* Thermal mass (concrete/brick, ISO 13790 "heavy") 180–260 kJ/(m²·K); air plus
  furniture 12–20 kJ/(m²·K); air–mass coupling h_ms·A_m ≈ 9.1 W/(m²·K) × 2.5.
* Radiators sized for the design point with an oversizing factor (installed output is
  usually 0–15 % above the calculated load) and a per-building / per-flat hydraulic
  flow factor (imbalance: flats near the station get more water).

Every random number is derived from a hash of the unit's ids and the seed, so a flat
keeps its parameters whatever other flats are simulated with it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from nuanliu.buildings.heating_curve import HeatingCurve

WATER_CP_J_KG_K = 4186.0
RADIATOR_EXPONENT = 1.3
DESIGN_INDOOR_C = 18.0  # GB 50736 design indoor temperature for dwellings

# (first year, specific heat loss W/(m²·K)) — a flat built in or after `year` uses it.
_ERA_LOSS = [(0, 1.5), (1996, 1.0), (2010, 0.7), (2018, 0.5)]


def specific_heat_loss_w_m2k(year_built: np.ndarray) -> np.ndarray:
    """Specific heat loss of a mid-floor flat by construction year (W per m² floor per K)."""
    years = np.asarray(year_built, dtype=float)
    out = np.full(years.shape, _ERA_LOSS[0][1])
    for year, value in _ERA_LOSS[1:]:
        out = np.where(years >= year, value, out)
    return out


def id_hash(ids: pd.Series | np.ndarray) -> np.ndarray:
    """A stable 64-bit hash per id (hash once, then draw many streams from it)."""
    arr = np.asarray(ids)
    if arr.dtype == np.uint64:
        return arr
    return pd.util.hash_array(
        arr.astype(object), hash_key="nuanliu-units-v1", categorize=False
    ).astype(np.uint64)


def _stream_salt(seed: int, stream: str) -> np.uint64:
    h = pd.util.hash_array(
        np.array([f"{seed}:{stream}"], dtype=object), hash_key="nuanliu-salt-v01"
    )
    return np.uint64(h[0])


def unit_uniforms(ids: pd.Series | np.ndarray, seed: int, stream: str, n: int) -> np.ndarray:
    """``n`` independent U(0,1) numbers per id, stable for a given (id, seed, stream).

    ``ids`` may be the ids or their ``id_hash`` (faster when drawing several streams).
    """
    x = id_hash(ids) ^ _stream_salt(seed, stream)
    out = np.empty((len(x), n))
    with np.errstate(over="ignore"):
        for k in range(n):
            # splitmix64 steps: well-mixed 64-bit values from the hash
            x = x + np.uint64(0x9E3779B97F4A7C15)
            z = x
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            out[:, k] = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out


def _normal(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile of uniforms (clipped to ±4 σ)."""
    from scipy.special import ndtri

    return np.clip(ndtri(np.clip(u, 1e-9, 1 - 1e-9)), -4.0, 4.0)


def _hash_codes(ids: np.ndarray) -> np.ndarray:
    """id_hash of repeated ids, hashing each distinct id once."""
    codes, uniques = pd.factorize(ids)
    return id_hash(np.asarray(uniques, dtype=object))[codes]


@dataclass
class RoomParams:
    """Per-unit (room/flat) parameters of the 2R2C model; every field is an array."""

    floor_area_m2: np.ndarray
    c_air_j_k: np.ndarray  # air + furniture
    c_mass_j_k: np.ndarray  # structure
    h_air_out_w_k: np.ndarray  # windows, ventilation
    h_mass_out_w_k: np.ndarray  # walls, roof, floor
    h_air_mass_w_k: np.ndarray  # internal surfaces
    rad_k_w_k13: np.ndarray  # radiator constant: Q = K·ΔT_mean^1.3
    mcp_w_k: np.ndarray  # radiator water flow × c_p
    solar_aperture_m2: np.ndarray  # effective south glazing (GHI → W)
    internal_gain_w_m2: np.ndarray  # mean internal gains
    supply_offset_k: np.ndarray  # station/building supply deviation from the curve
    sensor_offset_k: np.ndarray  # calibration error of the sensor in this room
    moisture_pa: np.ndarray  # indoor vapour-pressure excess over outdoor

    def __len__(self) -> int:
        return len(self.floor_area_m2)

    @property
    def h_total_w_k(self) -> np.ndarray:
        """Steady-state conductance air → outdoor (air path plus mass path in series)."""
        hm = self.h_mass_out_w_k * self.h_air_mass_w_k / (self.h_mass_out_w_k + self.h_air_mass_w_k)
        return self.h_air_out_w_k + hm

    def take(self, idx: np.ndarray) -> RoomParams:
        return RoomParams(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def astype(self, dtype: type[np.floating]) -> RoomParams:
        """A copy in ``dtype`` (the simulator runs in float32: memory-bound, 3× faster)."""
        return RoomParams(**{f.name: getattr(self, f.name).astype(dtype) for f in fields(self)})


def draw_params(
    units: pd.DataFrame,
    curve: HeatingCurve,
    seed: int = 0,
) -> RoomParams:
    """Draw parameters for ``units`` (one row per simulated room/sensor).

    Columns used (all optional except ``unit_id``): ``unit_id`` (e.g. the sensor id),
    ``household_id``, ``building_id``, ``station_id``, ``floor_area_m2``, ``year_built``,
    ``floors`` (storeys of the building), ``floor`` (storey of the flat, 1 = ground),
    ``corner`` (bool). Missing values are drawn from realistic distributions.
    """
    uid = units["unit_id"].astype(str).to_numpy()
    hid = units["household_id"].astype(str).to_numpy() if "household_id" in units else uid
    bid = units["building_id"].astype(str).to_numpy() if "building_id" in units else hid
    sid = units["station_id"].astype(str).to_numpy() if "station_id" in units else bid
    uh = unit_uniforms(_hash_codes(hid), seed, "household", 8)
    ub = unit_uniforms(_hash_codes(bid), seed, "building", 4)
    us = unit_uniforms(_hash_codes(sid), seed, "station", 1)
    ur = unit_uniforms(id_hash(uid), seed, "room", 3)

    def col(name: str, fallback: np.ndarray) -> np.ndarray:
        if name not in units:
            return fallback
        v = pd.to_numeric(units[name], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(v), fallback, v)

    area = col("floor_area_m2", 55.0 + 70.0 * uh[:, 0] ** 1.5)
    year = col("year_built", np.round(1985 + 38 * ub[:, 0]))
    floors = col("floors", np.where(ub[:, 1] < 0.6, 6.0, np.where(ub[:, 1] < 0.85, 11.0, 18.0)))
    floor = col("floor", np.floor(uh[:, 1] * floors) + 1.0)
    floor = np.clip(floor, 1.0, floors)
    corner = (
        units["corner"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "corner" in units
        else uh[:, 2] < 0.35
    ).astype(float)

    position = 1.0 + 0.35 * (floor >= floors) + 0.15 * (floor <= 1.0) + 0.20 * corner
    h_spec = specific_heat_loss_w_m2k(year) * position * np.exp(0.12 * _normal(uh[:, 3]))
    h_tot = h_spec * area
    # 45 % of the loss through the air path (windows, ventilation), 55 % through the
    # structure; the mass path's conductance is raised so the series path gives 55 %.
    h_am = 9.1 * 2.5 * area
    h_ao = 0.45 * h_tot
    h_m_path = 0.55 * h_tot
    h_mo = h_m_path * h_am / (h_am - h_m_path)
    c_mass = (180e3 + 80e3 * ub[:, 2]) * area
    c_air = (12e3 + 8e3 * ur[:, 0]) * area

    # Radiators: sized at the curve's design point for DESIGN_INDOOR_C with oversizing,
    # then the flow factor of hydraulic imbalance (building and flat).
    oversize = 0.95 + 0.15 * uh[:, 4]
    q_design = h_tot * (DESIGN_INDOOR_C - curve.design_outdoor_c) * oversize
    drop_k = curve.design_supply_c - curve.design_return_c
    mcp_design = q_design / drop_k
    mean_excess = 0.5 * (curve.design_supply_c + curve.design_return_c) - DESIGN_INDOOR_C
    rad_k = q_design / mean_excess**RADIATOR_EXPONENT
    flow_factor = np.exp(0.10 * _normal(ub[:, 3]) + 0.06 * _normal(uh[:, 5]))
    mcp = mcp_design * flow_factor

    gains = 2.0 + 1.5 * uh[:, 6]  # W/m²: 2–3 persons, appliances, cooking
    # effective glazing × g-value × frame × shading; north-facing flats get little sun
    aperture = area * (0.005 + 0.035 * uh[:, 7])
    supply_offset = 0.8 * _normal(us[:, 0])
    sensor_offset = 0.25 * _normal(ur[:, 1])
    moisture = 350.0 + 400.0 * ur[:, 2]  # Pa: drying laundry, cooking, plants

    return RoomParams(
        floor_area_m2=area,
        c_air_j_k=c_air,
        c_mass_j_k=c_mass,
        h_air_out_w_k=h_ao,
        h_mass_out_w_k=h_mo,
        h_air_mass_w_k=h_am,
        rad_k_w_k13=rad_k,
        mcp_w_k=mcp,
        solar_aperture_m2=aperture,
        internal_gain_w_m2=gains,
        supply_offset_k=supply_offset,
        sensor_offset_k=sensor_offset,
        moisture_pa=moisture,
    )
