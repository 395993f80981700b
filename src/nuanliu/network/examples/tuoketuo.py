"""Illustrative model of the Tuoketuo → Hohhot long-distance heating system.

Built from public descriptions (see ``data/tuoketuo-hohhot/README.md``): the Tuoketuo
power plant (CHP) sends water through a 68.4 km DN1600 transmission main (supply and
return) with 2 relay pump stations to a pressure-isolation heat-exchange station at the
edge of Hohhot; from there ~36 km of city mains (a trunk and a ring around the centre)
feed 96 heat-exchange stations sized to 53 million m² of floor area. Every assumed
number is a named constant here and is repeated in ``meta`` and the README. The build
is deterministic (fixed seed), so station ids and values are stable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nuanliu.network.model import Network
from nuanliu.network.pipe_catalog import (
    friction_gradient_pa_per_m,
    heat_loss_u_w_per_m_k,
    inner_diameter_m,
    size_dn,
)

SEED = 2024
PLANT_LON_LAT = (111.19, 40.20)
CITY_CENTRE_LON_LAT = (111.67, 40.82)
ISOLATION_LON_LAT = (111.52, 40.70)  # SW edge of the city, 62 km straight from the plant
PLANT_ELEVATION_M = 1000.0
ISOLATION_ELEVATION_M = 1045.0
CITY_ELEVATION_M = 1050.0
CITY_SLOPE_M_PER_KM_NORTH = 2.0  # the city rises towards the Daqing mountains

LINE_LENGTH_M = 68_400.0
LINE_DN_MM = 1600.0
LINE_SECTIONS = 30  # 2.28 km each
RELAY_AFTER_SECTIONS = (10, 20)  # relay stations at km 22.8 and 45.6
RELAY_DUTY_PUMPS = 4  # + 1 standby (out of service) per line and station
RELAY_SHUTOFF_FACTOR = 1.2  # shut-off head / design head of the relay pump curves
RELAY_HEAD_MARGIN = 1.15  # pumps selected 15 % above the design lift (VFD trims it)
PUMP_EFFICIENCY = 0.82

FLOOR_AREA_M2 = 53.0e6
HEAT_INDEX_W_PER_M2 = 40.0
DESIGN_OUTDOOR_TEMP_C = -19.0
STATIONS = 96
FLOOR_HEATING_SHARE = 0.3

LINE_SUPPLY_TEMP_C = 130.0
CITY_SUPPLY_TEMP_C = 120.0
RADIATOR_SECONDARY_C = (60.0, 45.0)
FLOOR_SECONDARY_C = (45.0, 35.0)
STATION_APPROACH_K = 5.0  # primary return − secondary return at design
ISOLATION_APPROACH_K = 5.0  # line return − city return at design

RING_RADIUS_KM = 3.5
RING_NODES = 8
TRUNK_SECTIONS = 7
GROUND_TEMP_C = 5.0
STATION_MAX_RADIUS_KM = 6.5
# design friction limits: low on long city mains to keep the pump lift within PN25
TRUNK_MAX_PA_PER_M = 40.0
RING_MAX_PA_PER_M = 30.0
BRANCH_MAX_PA_PER_M = 50.0

MIN_SUCTION_BAR = 1.5  # lowest pressure at any relay pump inlet / plant inlet
PN_BAR = 25.0  # pressure rating of every element (physical-limit check)
STATION_DP_BAR = 1.5  # isolation station primary side at design flow
CITY_STATION_DP_BAR = 1.0
CITY_RETURN_PRESSURE_BAR = 4.0  # held by the isolation station at 1045 m

# part-load control (see README "Part-load control")
LINE_END_DP_BAR = 1.5  # plant pumps hold the isolation station's primary Δp
LINE_MIN_RETURN_BAR = 1.0  # plant pressure holding: lowest return pressure on the line
# return relays: lowest pressure of the section they draw from (station 1, station 2);
# station 1 holds 1.45 bar (the 15 m rise of section 2) more so that, when station 2 runs
# at its curve's end at low load, the top of the line can stay at LINE_MIN_RETURN_BAR
RELAY_RETURN_MIN_BAR = (2.5, 1.3)
RELAY_SUPPLY_SUCTION_BAR = 9.5  # supply relays: suction pressure
RELAY_SPEED_RANGE = (0.1, 1.2)  # VFD range; never below the curve's end (bypass instead)
# every relay station has a check-valve bypass around its pump group (it opens when the
# group stops): DN1200, ζ = 2.5 (swing check valve and two tees) → Kv = A √(2 Δp₀/(ζ ρ₀))
RELAY_BYPASS_DN_MM = 1200.0
RELAY_BYPASS_ZETA = 2.5
CITY_CRITICAL_DP_BAR = 1.0  # isolation station's city pumps: Δp at the critical station
CITY_RETURN_RANGE_BAR = (3.0, 6.0)
STATION_VALVE_MAX_DP_BAR = 10.0
# The model's line carries ~30 % more water than the real one (no large-ΔT units, see
# README): on the coldest days (below the −19 °C design) its DN1600 main runs above the
# usual 3.5 m/s; the transmission main is taken as designed for up to this velocity.
LINE_MAX_VELOCITY_M_S = 4.2

CP_J_KG_K = 4190.0
G = 9.80665
RHO_HOT = 935.0  # water at 130 °C
RHO_COLD = 988.0  # water at 50 °C
NU_HOT = 2.3e-7
NU_COLD = 5.5e-7

KM_PER_DEG_LAT = 111.2


def _km_per_deg_lon(lat: float) -> float:
    return 111.32 * math.cos(math.radians(lat))


def _to_lonlat(dx_km: np.ndarray, dy_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon0, lat0 = CITY_CENTRE_LON_LAT
    return lon0 + dx_km / _km_per_deg_lon(lat0), lat0 + dy_km / KM_PER_DEG_LAT


def _lmtd(da: float, db: float) -> float:
    return da if abs(da - db) < 1e-9 else (da - db) / math.log(da / db)


def _pipe(
    pid: str, a: str, b: str, side: str, length_m: float, dn: float, name: str = ""
) -> dict[str, Any]:
    return {
        "pipe_id": pid,
        "name": name,
        "from_junction_id": a if side == "supply" else b,
        "to_junction_id": b if side == "supply" else a,
        "side": side,
        "length_m": round(length_m, 1),
        "inner_diameter_m": float(inner_diameter_m(dn)[0]),
        "roughness_mm": 0.05,
        "u_w_per_m_k": float(heat_loss_u_w_per_m_k(dn)[0]),
        "ambient_temp_c": GROUND_TEMP_C,
        "minor_loss_zeta": 0.0,
        "dn_mm": dn,
        # the transmission main's own limit (README); every other pipe by DN
        "max_velocity_m_s": LINE_MAX_VELOCITY_M_S if dn >= LINE_DN_MM else float("nan"),
    }


def _grad(mdot: float, dn: float, hot: bool) -> float:
    return float(
        friction_gradient_pa_per_m(
            np.array([mdot]),
            inner_diameter_m(dn),
            rho_kg_m3=RHO_HOT if hot else RHO_COLD,
            nu_m2_s=NU_HOT if hot else NU_COLD,
        )[0]
    )


def build_tuoketuo_hohhot() -> Network:
    """Build the example network (deterministic)."""
    rng = np.random.default_rng(SEED)
    junctions: list[dict[str, Any]] = []
    pipes: list[dict[str, Any]] = []
    pumps: list[dict[str, Any]] = []

    def junction(jid: str, lon: float, lat: float, elev: float, name: str = "") -> None:
        junctions.append(
            {
                "junction_id": jid,
                "name": name,
                "elevation_m": round(elev, 2),
                "x": round(float(lon), 6),
                "y": round(float(lat), 6),
            }
        )

    # -- city stations ----------------------------------------------------------------
    angle = rng.uniform(0.0, 2 * math.pi, STATIONS)
    radius_km = np.sqrt(rng.uniform(1.0**2, STATION_MAX_RADIUS_KM**2, STATIONS))
    sx, sy = radius_km * np.cos(angle), radius_km * np.sin(angle)
    area = rng.lognormal(0.0, 0.45, STATIONS)
    area = np.round(area / area.sum() * FLOOR_AREA_M2, -2)
    area[-1] += FLOOR_AREA_M2 - area.sum()  # exact total
    heat_w = area * HEAT_INDEX_W_PER_M2
    floor = rng.random(STATIONS) < FLOOR_HEATING_SHARE
    sec_sup = np.where(floor, FLOOR_SECONDARY_C[0], RADIATOR_SECONDARY_C[0])
    sec_ret = np.where(floor, FLOOR_SECONDARY_C[1], RADIATOR_SECONDARY_C[1])
    prim_ret = sec_ret + STATION_APPROACH_K
    mdot_st = heat_w / (CP_J_KG_K * (CITY_SUPPLY_TEMP_C - prim_ret))
    city_return_c = float(np.sum(mdot_st * prim_ret) / np.sum(mdot_st))
    total_w = float(heat_w.sum())
    mdot_city = float(mdot_st.sum())

    # -- ring and trunk geometry ------------------------------------------------------------
    ring_ang = np.deg2rad(np.arange(RING_NODES) * 360.0 / RING_NODES)
    rx, ry = RING_RADIUS_KM * np.cos(ring_ang), RING_RADIUS_KM * np.sin(ring_ang)
    entry = int(np.argmin(np.abs(ring_ang - np.deg2rad(225.0))))  # SW, towards the plant
    host = np.argmin(np.hypot(sx[:, None] - rx[None, :], sy[:, None] - ry[None, :]), axis=1)
    branch_km = np.hypot(sx - rx[host], sy - ry[host]) * 1.15  # streets are not straight
    node_mdot = np.bincount(host, weights=mdot_st, minlength=RING_NODES)

    # ring sized as two arcs from the entry node; the far edge closes the loop
    half = RING_NODES // 2
    arc_a = [(entry + k) % RING_NODES for k in range(half + 1)]
    arc_b = [(entry - k) % RING_NODES for k in range(RING_NODES - half)]
    ring_edges: list[tuple[int, int, float]] = []
    for arc in (arc_a, arc_b):
        for k in range(1, len(arc)):
            downstream = float(node_mdot[arc[k:]].sum())
            ring_edges.append((arc[k - 1], arc[k], downstream))
    ring_edges.append(
        (arc_a[-1], arc_b[-1], 0.5 * float(min(node_mdot[arc_a[-1]], node_mdot[arc_b[-1]])))
    )
    chord_m = 2 * RING_RADIUS_KM * 1000 * math.sin(math.pi / RING_NODES)

    iso_dx = (ISOLATION_LON_LAT[0] - CITY_CENTRE_LON_LAT[0]) * _km_per_deg_lon(
        CITY_CENTRE_LON_LAT[1]
    )
    iso_dy = (ISOLATION_LON_LAT[1] - CITY_CENTRE_LON_LAT[1]) * KM_PER_DEG_LAT
    trunk_km = math.hypot(rx[entry] - iso_dx, ry[entry] - iso_dy) * 1.05
    trunk_lines = max(1, math.ceil(mdot_city / 5600.0))  # parallel lines of ≤ DN1600
    trunk_dn = float(
        size_dn(np.array([mdot_city / trunk_lines]), max_gradient_pa_per_m=TRUNK_MAX_PA_PER_M)[0]
    )

    def city_elev(dx: float, dy: float) -> float:
        return CITY_ELEVATION_M + CITY_SLOPE_M_PER_KM_NORTH * dy

    # -- city junctions and pipes -----------------------------------------------------------
    iso = {"ps": "ISO.p.s", "pr": "ISO.p.r", "cs": "ISO.c.s", "cr": "ISO.c.r"}
    for key, jid in iso.items():
        junction(
            jid,
            *ISOLATION_LON_LAT,
            ISOLATION_ELEVATION_M,
            f"隔压换热站 {'一次侧' if key[0] == 'p' else '城市侧'}",
        )
    trunk_nodes = [iso["cs"].replace(".s", "")] + [f"CT{k}" for k in range(1, TRUNK_SECTIONS)]
    trunk_nodes.append(f"CR{entry + 1}")
    for k in range(1, TRUNK_SECTIONS):
        f = k / TRUNK_SECTIONS
        dx = iso_dx + f * (rx[entry] - iso_dx)
        dy = iso_dy + f * (ry[entry] - iso_dy)
        lon, lat = _to_lonlat(np.array(dx), np.array(dy))
        elev = ISOLATION_ELEVATION_M + f * (city_elev(rx[entry], ry[entry]) - ISOLATION_ELEVATION_M)
        for s in ("s", "r"):
            junction(f"CT{k}.{s}", lon, lat, elev, f"城市主干线 {k}")
    for i in range(RING_NODES):
        lon, lat = _to_lonlat(np.array(rx[i]), np.array(ry[i]))
        for s in ("s", "r"):
            junction(f"CR{i + 1}.{s}", lon, lat, city_elev(rx[i], ry[i]), f"环网节点 {i + 1}")

    def jid(node: str, s: str) -> str:
        return f"ISO.c.{s}" if node == "ISO.c" else f"{node}.{s}"

    seg_m = trunk_km * 1000 / TRUNK_SECTIONS
    for side in ("supply", "return"):
        s = side[0]
        for k in range(TRUNK_SECTIONS):
            for line in range(trunk_lines):
                tag = "ab"[line] if trunk_lines > 1 else ""
                pipes.append(
                    _pipe(
                        f"CT{tag}{k + 1}.{s}",
                        jid(trunk_nodes[k], s),
                        jid(trunk_nodes[k + 1], s),
                        side,
                        seg_m,
                        trunk_dn,
                        "城市主干线 trunk main",
                    )
                )
        for a, b, mdot in ring_edges:
            dn = max(
                float(size_dn(np.array([mdot]), max_gradient_pa_per_m=RING_MAX_PA_PER_M)[0]), 600.0
            )
            pipes.append(
                _pipe(
                    f"CR{a + 1}-{b + 1}.{s}",
                    f"CR{a + 1}.{s}",
                    f"CR{b + 1}.{s}",
                    side,
                    chord_m,
                    dn,
                    "环网 ring main",
                )
            )

    station_ids = [f"HH{i + 1:03d}" for i in range(STATIONS)]
    st_dn = size_dn(mdot_st, max_gradient_pa_per_m=BRANCH_MAX_PA_PER_M, min_dn_mm=100)
    slon, slat = _to_lonlat(sx, sy)
    stations = []
    for i, sid in enumerate(station_ids):
        elev = city_elev(sx[i], sy[i])
        for s in ("s", "r"):
            junction(f"{sid}.{s}", slon[i], slat[i], elev, f"换热站 {sid}")
        for side in ("supply", "return"):
            s = side[0]
            pipes.append(
                _pipe(
                    f"{sid}.{s}",
                    f"CR{host[i] + 1}.{s}",
                    f"{sid}.{s}",
                    side,
                    branch_km[i] * 1000,
                    float(st_dn[i]),
                    "支线 branch",
                )
            )
        lm = _lmtd(CITY_SUPPLY_TEMP_C - sec_sup[i], prim_ret[i] - sec_ret[i])
        stations.append(
            {
                "station_id": sid,
                "name": f"换热站 {sid}",
                "kind": "substation",
                "primary_supply_junction_id": f"{sid}.s",
                "primary_return_junction_id": f"{sid}.r",
                "heat_demand_w": float(heat_w[i]),
                "secondary_supply_temp_c": float(sec_sup[i]),
                "secondary_return_temp_c": float(sec_ret[i]),
                "ua_w_per_k": round(float(heat_w[i]) / lm, 1),
                "floor_area_m2": float(area[i]),
            }
        )

    # city pump lift: worst friction path (trunk + half ring + branch), both sides
    trunk_dp = _grad(mdot_city / trunk_lines, trunk_dn, True) * trunk_km * 1000
    ring_dp = {entry: 0.0}
    for arc in (arc_a, arc_b):
        for k in range(1, len(arc)):
            a, b = arc[k - 1], arc[k]
            mdot = float(node_mdot[arc[k:]].sum())
            dn = max(
                float(size_dn(np.array([mdot]), max_gradient_pa_per_m=RING_MAX_PA_PER_M)[0]), 600.0
            )
            ring_dp[b] = min(ring_dp.get(b, math.inf), ring_dp[a] + _grad(mdot, dn, True) * chord_m)
    worst_city = max(
        trunk_dp + ring_dp[host[i]] + _grad(mdot_st[i], st_dn[i], True) * branch_km[i] * 1000
        for i in range(STATIONS)
    )
    city_lift = math.ceil((2 * worst_city / 1e5 + CITY_STATION_DP_BAR) * 1.2 * 10) / 10

    # -- the long-distance line -------------------------------------------------------------
    line_return_c = city_return_c + ISOLATION_APPROACH_K
    mdot_line = total_w / (CP_J_KG_K * (LINE_SUPPLY_TEMP_C - line_return_c))
    sec_len = LINE_LENGTH_M / LINE_SECTIONS
    n_seg = len(RELAY_AFTER_SECTIONS) + 1
    seg_len = LINE_LENGTH_M / n_seg
    dz_seg = (ISOLATION_ELEVATION_M - PLANT_ELEVATION_M) / n_seg
    d_supply = (_grad(mdot_line, LINE_DN_MM, True) * seg_len + RHO_HOT * G * dz_seg) / 1e5
    d_return = (_grad(mdot_line, LINE_DN_MM, False) * seg_len - RHO_COLD * G * dz_seg) / 1e5
    p_iso_out = MIN_SUCTION_BAR + d_return
    p_iso_in = p_iso_out + STATION_DP_BAR
    p_plant_out = p_iso_in + d_supply

    node_names = ["L00"] + [f"L{k:02d}" for k in range(1, LINE_SECTIONS)] + ["ISO"]
    relay_of = {k: i + 1 for i, k in enumerate(RELAY_AFTER_SECTIONS)}
    for k in range(LINE_SECTIONS + 1):
        if k == LINE_SECTIONS:
            continue  # the isolation station's junctions exist already
        f = k / LINE_SECTIONS
        lon = PLANT_LON_LAT[0] + f * (ISOLATION_LON_LAT[0] - PLANT_LON_LAT[0])
        lat = PLANT_LON_LAT[1] + f * (ISOLATION_LON_LAT[1] - PLANT_LON_LAT[1])
        elev = PLANT_ELEVATION_M + f * (ISOLATION_ELEVATION_M - PLANT_ELEVATION_M)
        if k in relay_of:
            r = relay_of[k]
            for s in ("s", "r"):
                for io in ("in", "out"):
                    junction(f"RP{r}.{s}.{io}", lon, lat, elev, f"中继泵站 {r}")
        else:
            label = "托电首站" if k == 0 else f"长输管线 km {k * sec_len / 1000:.1f}"
            for s in ("s", "r"):
                junction(f"{node_names[k]}.{s}", lon, lat, elev, label)

    def line_jid(k: int, s: str, end: str) -> str:
        """Junction at line node ``k`` where a pipe ``end``s (in) or starts (out)."""
        if k == LINE_SECTIONS:
            return "ISO.p.s" if s == "s" else "ISO.p.r"
        if k in relay_of:
            # supply flows plant → city: a supply pipe ends at the pump inlet; the return
            # flows city → plant, so a return pipe arriving from the city side ends there too
            io = "in" if end == "in" else "out"
            return f"RP{relay_of[k]}.{s}.{io}"
        return f"{node_names[k]}.{s}"

    for k in range(1, LINE_SECTIONS + 1):
        pipes.append(
            _pipe(
                f"LS{k:02d}",
                line_jid(k - 1, "s", "out"),
                line_jid(k, "s", "in"),
                "supply",
                sec_len,
                LINE_DN_MM,
                "长输管线供水 DN1600",
            )
        )
        # return pipe k carries water from node k towards node k−1
        ret = _pipe(
            f"LR{k:02d}",
            line_jid(k - 1, "r", "out"),
            line_jid(k, "r", "in"),
            "return",
            sec_len,
            LINE_DN_MM,
            "长输管线回水 DN1600",
        )
        ret["from_junction_id"] = line_jid(k, "r", "out")
        ret["to_junction_id"] = line_jid(k - 1, "r", "in")
        pipes.append(ret)

    q_pump_hot = mdot_line / RHO_HOT / RELAY_DUTY_PUMPS
    q_pump_cold = mdot_line / RHO_COLD / RELAY_DUTY_PUMPS
    for r in relay_of.values():
        for s, lift_bar, q, rho in (
            ("s", d_supply, q_pump_hot, RHO_HOT),
            ("r", d_return, q_pump_cold, RHO_COLD),
        ):
            h_design = RELAY_HEAD_MARGIN * lift_bar * 1e5 / (rho * G)
            f, m = RELAY_SHUTOFF_FACTOR, RELAY_HEAD_MARGIN
            design_speed = math.sqrt((1.0 + (f - 1.0) * m) / (f * m))
            a0 = RELAY_SHUTOFF_FACTOR * h_design
            a2 = -(a0 - h_design) / q**2
            for n in range(RELAY_DUTY_PUMPS + 1):
                pumps.append(
                    {
                        "pump_id": f"RP{r}-{s.upper()}{n + 1}",
                        "name": f"中继泵站 {r} {'供水' if s == 's' else '回水'}泵 {n + 1}"
                        + (" (备用 standby)" if n == RELAY_DUTY_PUMPS else ""),
                        "from_junction_id": f"RP{r}.{s}.in",
                        "to_junction_id": f"RP{r}.{s}.out",
                        "control": "curve",
                        "head_a0_m": round(a0, 3),
                        "head_a1_s_per_m2": 0.0,
                        "head_a2_s2_per_m5": round(a2, 4),
                        # the speed giving the design lift at the design flow
                        "speed_ratio": round(design_speed, 4),
                        "efficiency": PUMP_EFFICIENCY,
                        "purpose": "relay",
                        "in_service": n < RELAY_DUTY_PUMPS,
                    }
                )

    source = {
        "source_id": "TKT",
        "name": "托克托电厂 Tuoketuo power plant (CHP)",
        "supply_junction_id": "L00.s",
        "return_junction_id": "L00.r",
        "control": "pressure",
        "supply_temp_c": LINE_SUPPLY_TEMP_C,
        "supply_pressure_bar": round(p_plant_out, 2),
        "return_pressure_bar": MIN_SUCTION_BAR,
    }
    iso_lm = _lmtd(LINE_SUPPLY_TEMP_C - CITY_SUPPLY_TEMP_C, line_return_c - city_return_c)
    isolation = {
        "station_id": "ISO",
        "name": "隔压换热站 pressure-isolation station",
        "kind": "isolation",
        "primary_supply_junction_id": "ISO.p.s",
        "primary_return_junction_id": "ISO.p.r",
        "secondary_supply_junction_id": "ISO.c.s",
        "secondary_return_junction_id": "ISO.c.r",
        "heat_demand_w": total_w,
        "secondary_supply_temp_c": CITY_SUPPLY_TEMP_C,
        "secondary_return_temp_c": round(city_return_c, 2),  # design value
        "secondary_supply_pressure_bar": CITY_RETURN_PRESSURE_BAR + city_lift,
        "secondary_return_pressure_bar": CITY_RETURN_PRESSURE_BAR,
        "ua_w_per_k": round(total_w / iso_lm, 0),
        "floor_area_m2": float("nan"),
    }
    v_line = mdot_line / (RHO_HOT * math.pi * float(inner_diameter_m(LINE_DN_MM)[0]) ** 2 / 4)
    meta = {
        "crs": "EPSG:4326",
        "limits": {"pn_bar": PN_BAR},
        "illustrative": True,
        "description": (
            "Illustrative model of the Tuoketuo → Hohhot long-distance heating system built "
            "from public descriptions; not the operator's data."
        ),
        "design_outdoor_temp_c": DESIGN_OUTDOOR_TEMP_C,
        "heat_index_w_per_m2": HEAT_INDEX_W_PER_M2,
        "floor_area_m2": FLOOR_AREA_M2,
        "design_heat_w": total_w,
        "line_length_m": LINE_LENGTH_M,
        "line_dn_mm": LINE_DN_MM,
        "line_design_temps_c": [LINE_SUPPLY_TEMP_C, round(line_return_c, 2)],
        "line_design_mdot_kg_s": round(mdot_line, 1),
        "line_design_velocity_m_s": round(v_line, 2),
        "line_max_velocity_m_s": LINE_MAX_VELOCITY_M_S,
        "city_design_temps_c": [CITY_SUPPLY_TEMP_C, round(city_return_c, 2)],
        "relay_lift_supply_bar": round(d_supply, 2),
        "relay_head_margin": RELAY_HEAD_MARGIN,
        "relay_lift_return_bar": round(d_return, 2),
        "elevations_m": {
            "plant": PLANT_ELEVATION_M,
            "isolation_station": ISOLATION_ELEVATION_M,
            "city_centre": CITY_ELEVATION_M,
        },
        "assumptions": [
            f"floor area {FLOOR_AREA_M2 / 1e6:.0f} million m² at {HEAT_INDEX_W_PER_M2:g} W/m² "
            f"at {DESIGN_OUTDOOR_TEMP_C:g} °C outdoor",
            f"{STATIONS} city stations, each standing for ~7 of Hohhot's ~700 real stations",
            "secondary 60/45 °C (radiators, 70 %) or 45/35 °C (floor heating, 30 %); "
            "exchanger approach 5 K",
            "long line 130 °C supply; with plain exchangers its return follows the city "
            "return + 5 K (the real system reaches ~25 °C with absorption large-ΔT units)",
            "relay pumps: 4 duty + 1 standby per line and station, quadratic curves with "
            "shut-off head 1.2 × design head, selected 15 % above the design lift; variable "
            "speed 0.1–1.2 (never beyond the curve's end)",
            "pressures: pump inlets ≥ 1.5 bar(g); supply ≥ vapour pressure at 130 °C "
            "(1.7 bar(g)) + margin everywhere; all ≤ PN25",
            "DN1600 inner diameter 1594 mm (EN 253 wall 16 mm); series-1 heat loss; ground 5 °C",
        ],
    }
    controls = _controls(relay_of)
    meta["controls"] = [f"{c['control_id']}: {c['name']}" for c in controls]
    return Network.from_tables(
        name="tuoketuo-hohhot",
        controls=controls,
        meta=meta,
        junctions=junctions,
        pipes=pipes,
        pumps=pumps,
        sources=[source],
        stations=[isolation, *stations],
    )


def _controls(relay_of: dict[int, int]) -> list[dict[str, Any]]:
    """The operator's part-load controls (one scalar actuator each)."""
    lo, hi = RELAY_SPEED_RANGE
    r1, r2 = sorted(relay_of.values())
    area = math.pi * float(inner_diameter_m(RELAY_BYPASS_DN_MM)[0]) ** 2 / 4
    kv = round(area * math.sqrt(2 * 1e5 / (RELAY_BYPASS_ZETA * 1000.0)) * 3600.0, -1)
    duty = range(1, RELAY_DUTY_PUMPS + 1)

    def group(r: int, s: str) -> str:
        return " ".join(f"RP{r}-{s}{n}" for n in duty)

    return [
        {
            "control_id": "TKT-dp",
            "name": "首站循环泵：隔压站一次侧压差 plant pumps hold the line-end Δp",
            "kind": "dp",
            "actuator_kind": "source",
            "actuator_ids": "TKT",
            "measured_kind": "station",
            "measured_ids": "ISO",
            "setpoint_bar": LINE_END_DP_BAR,
            "actuator_min": 0.0,
            "actuator_max": 23.0,
        },
        {
            "control_id": "TKT-hold",
            "name": "首站定压：长输回水最低压力 plant pressure holding, lowest line return",
            "kind": "pressure",
            "actuator_kind": "source",
            "actuator_ids": "TKT",
            "measured_kind": "junction",
            "measured_ids": f"L00.r RP{r1}.r.out RP{r1}.r.in RP{r2}.r.out RP{r2}.r.in ISO.p.r",
            "setpoint_bar": LINE_MIN_RETURN_BAR,
            "actuator_min": LINE_MIN_RETURN_BAR,
            "actuator_max": 10.0,
        },
        *(
            {
                "control_id": f"RP{r}-S",
                "name": f"中继泵站 {r} 供水泵：入口压力 supply relay suction",
                "kind": "pressure",
                "actuator_kind": "pump",
                "actuator_ids": group(r, "S"),
                "setpoint_bar": RELAY_SUPPLY_SUCTION_BAR,
                "actuator_min": lo,
                "actuator_max": hi,
                "bypass_kv_m3_h": kv,
            }
            for r in (r1, r2)
        ),
        *(
            {
                "control_id": f"RP{r}-R",
                "name": f"中继泵站 {r} 回水泵：吸入段最低压力 return relay suction section",
                "kind": "pressure",
                "actuator_kind": "pump",
                "actuator_ids": group(r, "R"),
                "measured_kind": "junction",
                "measured_ids": f"RP{r}.r.in " + (f"RP{r2}.r.out" if r == r1 else "ISO.p.r"),
                "setpoint_bar": RELAY_RETURN_MIN_BAR[k],
                "actuator_min": lo,
                "actuator_max": hi,
                "bypass_kv_m3_h": kv,
            }
            for k, r in enumerate((r1, r2))
        ),
        {
            "control_id": "ISO-dp",
            "name": "隔压站城市侧循环泵：最不利换热站压差 city pumps, critical station Δp",
            "kind": "dp",
            "actuator_kind": "station",
            "actuator_ids": "ISO",
            "setpoint_bar": CITY_CRITICAL_DP_BAR,
            "actuator_min": 0.0,
            "actuator_max": 21.0,
        },
        {
            "control_id": "ISO-hold",
            "name": "隔压站城市侧定压：回水压力 city pressure holding at the return",
            "kind": "pressure",
            "actuator_kind": "station",
            "actuator_ids": "ISO",
            "setpoint_bar": CITY_RETURN_PRESSURE_BAR,
            "actuator_min": CITY_RETURN_RANGE_BAR[0],
            "actuator_max": CITY_RETURN_RANGE_BAR[1],
        },
        {
            "control_id": "HH-valves",
            "name": "换热站一次侧调节阀 station control valves throttle the excess Δp",
            "kind": "valves",
            "actuator_kind": "station",
            "actuator_ids": "",
            "setpoint_bar": CITY_STATION_DP_BAR,
            "actuator_max": STATION_VALVE_MAX_DP_BAR,
        },
    ]
