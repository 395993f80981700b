"""Tuoketuo → Hohhot across the heating season (−23 … +10 °C): controlled and physical.

The quantities are checked here from the result tables, independently of the solver's
own limit check: absolute pressure ≥ vapour pressure + 0.5 bar at every junction,
gauge pressure ≤ PN25, every city station's available differential pressure between
what it needs with its valve fully open and what its valve can burn, the isolation
station held at its line-end Δp, running relay pumps on their curves (head ≥ 0, flow ≤
the zero-head flow at their speed), stopped ones carrying nothing, and velocities within
the limits by DN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nuanliu.network.examples import load_example
from nuanliu.physics.water import WATER, saturation_pressure_pa
from nuanliu.sim import compile_network, solve_steady

OUTDOOR_C = list(range(-23, 11))
PN_BAR = 25.0
CAVITATION_MARGIN_BAR = 0.5
ATM_BAR = 1.01325
TOL_BAR = 2e-3
BYPASS_MAX_LOSS_BAR = 0.3
RELAYS = ["RP1-S", "RP2-S", "RP1-R", "RP2-R"]


def velocity_limit_m_s(dn_mm: np.ndarray) -> np.ndarray:
    """Typical upper design velocities by DN (3.5 m/s from DN1000 on)."""
    return np.interp(dn_mm, [50, 100, 200, 300, 400, 1000], [1.0, 1.5, 2.0, 2.5, 3.0, 3.5])


@pytest.fixture(scope="module")
def season() -> list[tuple[int, Any]]:
    net = load_example("tuoketuo-hohhot")
    cn = compile_network(net)
    out = []
    prev = None
    for t in OUTDOOR_C:  # warm-started from the previous day, as a season run would
        prev = solve_steady(cn, outdoor_temp_c=t, warm_start=prev, raise_on_failure=False)
        out.append((t, prev))
    return out


def test_the_example_states_its_controls() -> None:
    net = load_example("tuoketuo-hohhot")
    ids = set(net.controls["control_id"])
    assert {"TKT-dp", "TKT-hold", "RP1-S", "RP2-S", "RP1-R", "RP2-R", "ISO-dp", "ISO-hold"} <= ids
    assert "HH-valves" in ids
    assert len(net.meta["controls"]) == len(net.controls)


def test_every_outdoor_temperature_solves_within_physical_limits(season) -> None:
    net = load_example("tuoketuo-hohhot")
    pipes = net.pipes.set_index("pipe_id")
    # the DN1600 main's own limit (README: the model's line carries more water than the
    # real one), every other pipe by DN
    own_vmax = pipes["max_velocity_m_s"]
    assert (own_vmax[pipes["dn_mm"] >= 1600] == net.meta["line_max_velocity_m_s"]).all()
    assert own_vmax[pipes["dn_mm"] < 1600].isna().all()
    pumps = net.pumps[net.pumps["in_service"]].set_index("pump_id")
    problems: list[str] = []
    for t, res in season:
        where = f"{t:+d} °C"
        if res.status != "converged":
            problems.append(f"{where}: status {res.status}")
            continue
        j = res.junctions.dropna(subset=["pressure_bar"])
        p_abs = j["pressure_bar"] + ATM_BAR
        margin = p_abs - saturation_pressure_pa(j["temp_c"].to_numpy()) / 1e5
        if margin.min() < CAVITATION_MARGIN_BAR:
            problems.append(f"{where}: {margin.min():.2f} bar above vapour pressure")
        if j["pressure_bar"].max() > PN_BAR:
            problems.append(f"{where}: {j['pressure_bar'].max():.2f} bar(g) > PN25")

        st = res.stations.set_index("station_id")
        sub = st[st["kind"] == "substation"]
        if sub["dp_bar"].min() < 1.0 - TOL_BAR:  # what a station needs, valve fully open
            problems.append(f"{where}: city station Δp {sub['dp_bar'].min():.2f} bar < 1.0")
        if sub["valve_dp_bar"].max() > 10.0 + TOL_BAR:  # what its valve can burn
            problems.append(f"{where}: a station valve burns {sub['valve_dp_bar'].max():.2f} bar")
        if abs(st.loc["ISO", "dp_bar"] - 1.5) > TOL_BAR:
            problems.append(f"{where}: isolation station Δp {st.loc['ISO', 'dp_bar']:.2f} bar")

        pu = res.pumps.set_index("pump_id")
        off = pu[~pu["running"]]
        if np.any(off["mdot_kg_s"] != 0) or np.any(off["electric_power_w"] != 0):
            problems.append(f"{where}: a stopped relay pump carries flow or draws power")
        # a bypassed group: its check-valve bypass, a small loss
        if np.any(off["lift_bar"] < -BYPASS_MAX_LOSS_BAR):
            problems.append(f"{where}: a relay bypass loses {-off['lift_bar'].min():.2f} bar")
        pu = pu[pu["running"]]
        par = pumps.loc[pu.index]
        q = pu["mdot_kg_s"].to_numpy() / WATER.density(pu["temp_c"].to_numpy())
        # the curve's end: zero head at the running speed (H = a0 n² + a2 Q²)
        q_end = pu["speed_ratio"].to_numpy() * np.sqrt(
            par["head_a0_m"].to_numpy() / -par["head_a2_s2_per_m5"].to_numpy()
        )
        if np.any(pu["lift_bar"] < -TOL_BAR) or np.any(q > q_end):
            problems.append(f"{where}: a relay pump runs off its curve")

        v = res.pipes.set_index("pipe_id")["velocity_m_s"].abs()
        own = own_vmax.loc[v.index].to_numpy()
        vmax = np.where(np.isnan(own), velocity_limit_m_s(pipes.loc[v.index, "dn_mm"]), own)
        if np.any(v.to_numpy() > vmax):
            worst = (v / vmax).idxmax()
            problems.append(f"{where}: {worst} at {v[worst]:.2f} m/s")
    assert problems == []


def test_the_dp_and_pressure_holding_controls_are_met_all_season(season) -> None:
    """The plant's line-end Δp, its pressure holding and the city's critical-station Δp
    are met every day; relay pumps may rest at their curve's end (reported)."""
    for t, res in season:
        c = res.controls.set_index("control_id")
        for cid in ("TKT-dp", "TKT-hold", "ISO-dp", "ISO-hold", "HH-valves"):
            assert c.loc[cid, "met"], (t, c.loc[cid, "message"])
        relay = c.loc[RELAYS]
        # a relay control that is not met has its pump group bypassed (the boost is not
        # needed) or at a limit, and says so
        for cid, row in relay[~relay["met"]].iterrows():
            assert row["at_limit"] in ("bypass", "min", "max") and cid in row["message"], (t, cid)
            if row["at_limit"] == "bypass":
                assert "bypass open (boost not needed)" in row["message"], (t, cid)
                assert row["pumps_running"] == 0 and row["bypassed"], (t, cid)
    # the critical city station changes over the season only if the loads say so; its
    # Δp is the set-point
    for _, res in season:
        sub = res.stations[res.stations["kind"] == "substation"]
        assert sub["dp_bar"].min() == pytest.approx(1.0, abs=TOL_BAR)


def test_relay_pumps_slow_down_and_stage_as_the_load_falls(season) -> None:
    """Fewer relay pumps run, slower, as the load falls; on mild days the groups stand
    in their bypasses. A running pump is always within its control's speed range."""
    net = load_example("tuoketuo-hohhot")
    ctl = net.controls.set_index("control_id").loc[RELAYS]
    running = {}
    for t, res in season:
        c = res.controls.set_index("control_id")
        pu = res.pumps.set_index("pump_id")
        for cid, row in ctl.iterrows():
            ids = row["actuator_ids"].split()
            on = pu.loc[ids, "running"]
            assert on.sum() == c.loc[cid, "pumps_running"], (t, cid)
            speed = pu.loc[ids, "speed_ratio"][on]
            assert (speed >= row["actuator_min"] - 1e-9).all(), (t, cid, speed.min())
            assert (speed <= row["actuator_max"] + 1e-9).all(), (t, cid, speed.max())
            assert (pu.loc[ids, "speed_ratio"][~on] == 0).all()
        running[t] = int(c.loc[RELAYS, "pumps_running"].sum())
    assert running[-23] >= running[-10] >= running[0] >= running[10]
    assert running[-23] >= 12 and running[10] == 0  # all four groups bypassed at +10 °C
    # a bypassed group draws nothing: the relay electricity is the running pumps'
    warm = dict(season)[0]
    relay_w = warm.pumps.loc[warm.pumps["running"], "electric_power_w"].sum()
    assert warm.pumps["electric_power_w"].sum() == pytest.approx(relay_w)
    assert dict(season)[10].pumps["electric_power_w"].sum() == 0.0


def test_a_warming_sweep_settles_every_control_too() -> None:
    """From +10 down to −23 °C and back up, warm-started: every control is met or
    rests at a limit of its actuator (none is left in between), whichever way the
    weather moves."""
    cn = compile_network(load_example("tuoketuo-hohhot"))
    prev = None
    for t in [*OUTDOOR_C[::-1], *OUTDOOR_C[1::3]]:
        prev = solve_steady(cn, outdoor_temp_c=t, warm_start=prev, raise_on_failure=False)
        c = prev.controls.set_index("control_id")
        settled = c["met"] | c["at_limit"].isin(["min", "max", "bypass"])
        assert settled.all(), (t, c["message"].tolist())
        assert c.loc[["TKT-dp", "TKT-hold", "ISO-dp", "ISO-hold", "HH-valves"], "met"].all(), t
