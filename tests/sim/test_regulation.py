"""Part-load control (nuanliu.sim.regulation) on small networks."""

from __future__ import annotations

import numpy as np
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.network.model import Network
from nuanliu.sim import compile_network, solve_steady
from tests.sim.networks import line_network, relay_network

CURVE = {
    "control": "curve",
    "head_a0_m": 60.0,
    "head_a1_s_per_m2": 0.0,
    "head_a2_s2_per_m5": -60.0 / 0.25**2,
}
TOL = 1e-3  # bar


def _with(net: Network, *controls: dict) -> Network:
    net["controls"] = list(controls)
    return net


def _row(res, cid: str):
    return res.controls.set_index("control_id").loc[cid]


def _two_branches(far_w: float, near_w: float) -> Network:
    """A source feeding a far consumer on a long thin branch and a near one on a short one."""
    junctions = [{"junction_id": j} for j in ("SS", "SR", "AS", "AR", "BS", "BR")]
    common = {"inner_diameter_m": 0.1, "u_w_per_m_k": 0.3, "ambient_temp_c": 8.0}
    pipes = [
        {"pipe_id": "AS", "from_junction_id": "SS", "to_junction_id": "AS", "side": "supply",
         "length_m": 2500.0, **common},
        {"pipe_id": "AR", "from_junction_id": "AR", "to_junction_id": "SR", "side": "return",
         "length_m": 2500.0, **common},
        {"pipe_id": "BS", "from_junction_id": "SS", "to_junction_id": "BS", "side": "supply",
         "length_m": 300.0, **common},
        {"pipe_id": "BR", "from_junction_id": "BR", "to_junction_id": "SR", "side": "return",
         "length_m": 300.0, **common},
    ]  # fmt: skip
    consumers = [
        {"consumer_id": "FAR", "supply_junction_id": "AS", "return_junction_id": "AR",
         "heat_demand_w": far_w, "return_temp_c": 50.0},
        {"consumer_id": "NEAR", "supply_junction_id": "BS", "return_junction_id": "BR",
         "heat_demand_w": near_w, "return_temp_c": 50.0},
    ]  # fmt: skip
    src = {
        "source_id": "SRC",
        "supply_junction_id": "SS",
        "return_junction_id": "SR",
        "control": "pressure",
        "supply_temp_c": 100.0,
        "supply_pressure_bar": 6.0,
        "return_pressure_bar": 2.0,
    }
    return Network.from_tables(
        name="branches", junctions=junctions, pipes=pipes, consumers=consumers, sources=[src]
    )


DP_AT_CRITICAL = {
    "control_id": "dp",
    "kind": "dp",
    "actuator_kind": "source",
    "actuator_ids": "SRC",
    "setpoint_bar": 0.8,
}


@pytest.mark.parametrize("share", [0.2, 0.6, 1.0, 1.3])
def test_dp_control_holds_the_critical_consumer_at_its_setpoint(share: float) -> None:
    net = _with(line_network(consumers=4), DP_AT_CRITICAL)
    cn = compile_network(net)
    res = solve_steady(cn, demands=np.full(4, 300e3 * share))
    assert res.converged
    dp = res.consumers["dp_bar"]
    assert dp.min() == pytest.approx(0.8, abs=TOL)
    # the last consumer on the line is the critical one; the others have more
    assert res.consumers.loc[dp.idxmin(), "consumer_id"] == "C3"
    row = _row(res, "dp")
    assert row["met"] and row["critical_id"] == "C3" and row["message"] == ""
    # the source lift is the actuator: supply − return pressure at the plant
    src = res.sources.iloc[0]
    assert src["p_supply_bar"] - src["p_return_bar"] == pytest.approx(row["actuator_value"])
    assert src["p_return_bar"] == pytest.approx(2.0)  # pressure holding keeps the return
    assert res.summary["controls_not_met"] == 0


def test_lift_falls_with_load_and_warm_starts_carry_the_actuators() -> None:
    cn = compile_network(_with(line_network(consumers=4), DP_AT_CRITICAL))
    lifts = []
    prev = None
    for share in (1.0, 0.7, 0.4, 0.1):
        prev = solve_steady(cn, demands=np.full(4, 300e3 * share), warm_start=prev)
        lifts.append(_row(prev, "dp")["actuator_value"])
        assert prev.consumers["dp_bar"].min() == pytest.approx(0.8, abs=TOL)
    assert np.all(np.diff(lifts) < 0)
    assert prev.state is not None and prev.state.actuators[0] == pytest.approx(lifts[-1])


def test_the_critical_consumer_moves_when_the_loads_change() -> None:
    ctl = {**DP_AT_CRITICAL, "setpoint_bar": 0.5}
    far_heavy = solve_steady(_with(_two_branches(far_w=400e3, near_w=50e3), ctl))
    near_heavy = solve_steady(_with(_two_branches(far_w=20e3, near_w=900e3), ctl))
    assert _row(far_heavy, "dp")["critical_id"] == "FAR"
    assert _row(near_heavy, "dp")["critical_id"] == "NEAR"
    for res in (far_heavy, near_heavy):
        assert res.consumers["dp_bar"].min() == pytest.approx(0.5, abs=TOL)


def test_dp_at_named_junction_pairs() -> None:
    ctl = {
        **DP_AT_CRITICAL,
        "measured_kind": "junction",
        "measured_ids": "J1S J1R",
        "setpoint_bar": 1.2,
    }
    res = solve_steady(_with(line_network(consumers=3), ctl))
    p = res.junctions.set_index("junction_id")["pressure_bar"]
    assert p["J1S"] - p["J1R"] == pytest.approx(1.2, abs=TOL)
    assert _row(res, "dp")["critical_id"] == "J1S/J1R"


def test_pressure_holding_follows_a_remote_point_within_its_limits() -> None:
    hold = {
        "control_id": "hold",
        "kind": "pressure",
        "actuator_kind": "source",
        "actuator_ids": "SRC",
        "measured_kind": "junction",
        "measured_ids": "J3R J3S",
        "setpoint_bar": 1.0,
        "actuator_min": 0.5,
        "actuator_max": 3.0,
    }
    res = solve_steady(_with(line_network(consumers=4), hold, DP_AT_CRITICAL))
    p = res.junctions.set_index("junction_id")["pressure_bar"]
    assert min(p["J3R"], p["J3S"]) == pytest.approx(1.0, abs=TOL)
    row = _row(res, "hold")
    assert row["met"] and 0.5 <= row["actuator_value"] <= 3.0
    assert res.sources.iloc[0]["p_return_bar"] == pytest.approx(row["actuator_value"])
    assert res.consumers["dp_bar"].min() == pytest.approx(0.8, abs=TOL)

    # a set-point the holding range cannot reach: held at its limit and reported
    res = solve_steady(_with(line_network(consumers=4), {**hold, "setpoint_bar": 6.0}))
    row = _row(res, "hold")
    assert not row["met"] and row["at_limit"] == "max"
    assert res.sources.iloc[0]["p_return_bar"] == pytest.approx(3.0)
    assert "control hold" in row["message"] and "maximum" in row["message"]
    assert "6.000" in row["message"] and f"{row['measured_bar']:.3f}" in row["message"]
    assert res.summary["controls_not_met"] == 1
    assert res.summary["controls_messages"] == [row["message"]]


def test_relay_pump_speed_holds_its_discharge_pressure() -> None:
    pumps = [{"pump_id": f"P{i}", **CURVE} for i in range(2)]
    ctl = {
        "control_id": "relay",
        "kind": "pressure",
        "actuator_kind": "pump",
        "actuator_ids": "P0, P1",
        "measured_kind": "junction",
        "measured_ids": "RB",
        "setpoint_bar": 12.0,
        "actuator_min": 0.3,
        "actuator_max": 1.2,
    }
    cn = compile_network(_with(relay_network(pumps=pumps), ctl))
    speeds = []
    for share in (1.0, 0.5):
        # (the fixture's town mains run above their velocity limit at full load: the
        # control is what is tested here, whatever the limit check says)
        res = solve_steady(cn, demands=np.full(4, 5e6 * share), raise_on_failure=False)
        assert res.status in ("converged", "infeasible")
        p = res.junctions.set_index("junction_id")["pressure_bar"]
        assert p["RB"] == pytest.approx(12.0, abs=TOL)  # the discharge, held
        on = res.pumps["running"].to_numpy()
        assert on.sum() == _row(res, "relay")["pumps_running"]  # staged: may run fewer
        assert np.allclose(res.pumps["speed_ratio"][on], _row(res, "relay")["actuator_value"])
        speeds.append(_row(res, "relay")["actuator_value"])
    assert speeds[1] < speeds[0]  # less flow, less friction upstream: slower


def test_an_unmeetable_dp_control_names_the_control_and_its_values() -> None:
    pumps = [{"pump_id": "P0", **CURVE}]
    ctl = {
        "control_id": "town-dp",
        "kind": "dp",
        "actuator_kind": "pump",
        "actuator_ids": "P0",
        "setpoint_bar": 12.0,
        "actuator_min": 0.3,
        "actuator_max": 1.0,
    }
    res = solve_steady(_with(relay_network(pumps=pumps), ctl), raise_on_failure=False)
    # the physics solved (the limit check may still find the state infeasible); the
    # control is what failed, and it does not change the status by itself
    assert res.status in ("converged", "infeasible")
    row = _row(res, "town-dp")
    assert not row["met"] and row["at_limit"] == "max"
    assert row["actuator_value"] == pytest.approx(1.0)
    assert row["measured_bar"] < 12.0
    msg = row["message"]
    assert "town-dp" in msg and "maximum speed ratio 1.000" in msg and "12.000" in msg
    assert f"{row['measured_bar']:.3f}" in msg
    assert res.summary["controls_not_met"] == 1


def test_station_valves_burn_the_excess_and_report_what_they_cannot() -> None:
    valves = {
        "control_id": "valves",
        "kind": "valves",
        "actuator_kind": "consumer",
        "setpoint_bar": 0.3,
        "actuator_max": 2.0,
    }
    res = solve_steady(_with(line_network(consumers=3), valves))
    c = res.consumers
    assert np.allclose(c["valve_dp_bar"], c["dp_bar"] - 0.3)
    # 4 bar of lift against a few tenths of friction: the near valves cannot burn it all
    over = c["valve_dp_bar"] > 2.0
    assert over.any()
    row = _row(res, "valves")
    assert not row["met"] and row["at_limit"] == "max"
    assert f"{int(over.sum())} valve(s) would have to burn more than 2.00 bar" in row["message"]

    # with the plant on Δp control the valves work within their authority
    res = solve_steady(_with(line_network(consumers=3), valves, DP_AT_CRITICAL))
    c = res.consumers
    assert _row(res, "valves")["met"]
    assert (c["valve_dp_bar"] >= -TOL).all() and (c["valve_dp_bar"] <= 2.0).all()
    assert c["valve_dp_bar"].min() == pytest.approx(0.5, abs=TOL)  # 0.8 bar − 0.3 needed


def test_disabled_controls_leave_the_table_values() -> None:
    net = line_network(consumers=3)
    plain = solve_steady(net)
    res = solve_steady(_with(line_network(consumers=3), {**DP_AT_CRITICAL, "enabled": False}))
    assert res.controls is None
    assert np.allclose(res.consumers["dp_bar"], plain.consumers["dp_bar"])


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"actuator_ids": "NOPE"}, "control dp: actuator_ids = 'NOPE'"),
        ({"actuator_kind": "consumer"}, "control dp: actuator_kind"),
        ({"measured_kind": "junction", "measured_ids": "J0S"}, "give junction pairs"),
        ({"setpoint_bar": float("nan")}, "control dp: setpoint_bar"),
    ],
)
def test_bad_control_rows_are_rejected_naming_control_and_column(change: dict, text: str) -> None:
    with pytest.raises(InvalidInput, match=text):
        compile_network(_with(line_network(consumers=2), {**DP_AT_CRITICAL, **change}))


def test_simulate_prints_the_controls_it_cannot_meet_and_writes_them(tmp_path) -> None:
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from nuanliu.cli import app
    from nuanliu.network.io import write_network

    hold = {
        "control_id": "hold-high",
        "kind": "pressure",
        "actuator_kind": "source",
        "actuator_ids": "SRC",
        "setpoint_bar": 9.0,
        "actuator_max": 3.0,
    }
    path = write_network(_with(line_network(consumers=3), hold), tmp_path / "net")
    out = tmp_path / "res.parquet"
    r = CliRunner().invoke(app, ["simulate", str(path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "control not met" in r.output and "hold-high" in r.output
    df = pq.read_table(out).to_pandas()
    row = df[df["element"] == "controls"].iloc[0]
    assert row["element_id"] == "hold-high" and not row["met"]


def test_a_valve_opening_throttles_to_the_critical_dp() -> None:
    """A throttling valve at the plant outlet instead of a variable-speed pump."""
    net = line_network(consumers=3)
    net["junctions"] = [*net.junctions.to_dict("records"), {"junction_id": "SV"}]
    pipes = net.pipes.copy()
    pipes.loc[pipes["pipe_id"] == "P0S", "from_junction_id"] = "SV"
    net["pipes"] = pipes
    net["valves"] = [
        {"valve_id": "V", "from_junction_id": "SS", "to_junction_id": "SV", "kv_m3_h": 60.0}
    ]
    ctl = {
        "control_id": "throttle",
        "kind": "dp",
        "actuator_kind": "valve",
        "actuator_ids": "V",
        "setpoint_bar": 1.0,
    }
    open_res = solve_steady(net)
    res = solve_steady(_with(net, ctl))
    row = _row(res, "throttle")
    assert open_res.consumers["dp_bar"].min() > 1.5  # fully open: too much Δp
    assert row["met"] and 0.01 < row["actuator_value"] < 1.0
    assert res.consumers["dp_bar"].min() == pytest.approx(1.0, abs=TOL)
    assert res.valves.iloc[0]["opening"] == pytest.approx(row["actuator_value"])
    assert res.valves.iloc[0]["dp_bar"] > open_res.valves.iloc[0]["dp_bar"]


# -- staging and bypass of a relay pump group ------------------------------------------------

#: a small relay pump: zero head at 0.04 m³/s at rated speed (four 5 MW towns need ~0.077)
SMALL = {
    "control": "curve",
    "head_a0_m": 60.0,
    "head_a1_s_per_m2": 0.0,
    "head_a2_s2_per_m5": -60.0 / 0.04**2,
}


def _relay_control(setpoint_bar: float, **extra) -> dict:
    return {
        "control_id": "relay",
        "kind": "pressure",
        "actuator_kind": "pump",
        "actuator_ids": "P0 P1 P2",
        "measured_kind": "junction",
        "measured_ids": "RB",
        "setpoint_bar": setpoint_bar,
        "actuator_min": 0.3,
        "actuator_max": 1.2,
        **extra,
    }


def _stopped_pumps_are_idle(res) -> None:
    off = res.pumps[~res.pumps["running"]]
    assert (off["mdot_kg_s"] == 0).all() and (off["electric_power_w"] == 0).all()
    assert (off["hydraulic_power_w"] == 0).all() and (off["speed_ratio"] == 0).all()


def test_staging_runs_fewer_pumps_at_low_load_and_all_at_high_load() -> None:
    pumps = [{"pump_id": f"P{i}", **SMALL} for i in range(3)]
    cn = compile_network(_with(relay_network(pumps=pumps), _relay_control(12.0)))
    prev = None
    running = []
    for share in (1.0, 0.3, 1.0):  # warm-started, as a season run would
        prev = solve_steady(
            cn, demands=np.full(4, 5e6 * share), warm_start=prev, raise_on_failure=False
        )
        row = _row(prev, "relay")
        assert row["met"], row["message"]
        assert prev.junctions.set_index("junction_id").loc["RB", "pressure_bar"] == pytest.approx(
            12.0, abs=TOL
        )
        on = prev.pumps[prev.pumps["running"]]
        assert len(on) == row["pumps_running"]
        running.append(len(on))
        # each running pump on its curve, short of its end, within the speed range
        q = on["mdot_kg_s"] / 1000.0 * 1000.0 / 950.0  # m³/s (≈ ρ at 115 °C)
        q_end = on["speed_ratio"] * 0.04
        assert (q < q_end).all() and (on["speed_ratio"].between(0.3, 1.2)).all()
        assert (on["lift_bar"] > 0).all()
        _stopped_pumps_are_idle(prev)
    assert running == [3, 1, 3]


def test_a_group_stands_in_its_bypass_when_the_boost_is_not_needed_and_restarts() -> None:
    pumps = [{"pump_id": f"P{i}", **SMALL} for i in range(3)]
    ctl = _relay_control(8.8, bypass_kv_m3_h=500.0)
    cn = compile_network(_with(relay_network(pumps=pumps), ctl))
    prev = None
    states = []
    for share in (0.2, 1.0, 0.2, 1.0):
        prev = solve_steady(
            cn, demands=np.full(4, 5e6 * share), warm_start=prev, raise_on_failure=False
        )
        # (the fixture's town mains run above their velocity limit at full load)
        assert prev.status in ("converged", "infeasible")
        row = _row(prev, "relay")
        p_rb = prev.junctions.set_index("junction_id").loc["RB", "pressure_bar"]
        _stopped_pumps_are_idle(prev)
        if row["bypassed"]:
            # the line alone keeps RB above the set-point: no pump runs, the bypass
            # carries the whole flow with a small loss, and the report says so
            assert row["pumps_running"] == 0 and row["at_limit"] == "bypass"
            assert not prev.pumps["running"].any()
            assert p_rb > 8.8 + TOL
            assert "bypass open (boost not needed)" in row["message"]
            assert f"{p_rb:.3f} bar ≥ set-point 8.800 bar" in row["message"]
            assert prev.summary["controls_not_met"] == 0
            assert prev.summary["controls_notes"] == [row["message"]]
            line = prev.pipes.set_index("pipe_id").loc["T1S", "mdot_kg_s"]
            assert prev.pumps["bypass_mdot_kg_s"].sum() == pytest.approx(line, rel=1e-6)
            assert 0 < -prev.pumps["lift_bar"].iloc[0] < 0.1
            states.append("bypass")
        else:
            assert row["met"] and p_rb == pytest.approx(8.8, abs=TOL), row["message"]
            assert row["pumps_running"] >= 1
            assert (prev.pumps["bypass_mdot_kg_s"] == 0).all()
            states.append("run")
    assert states == ["bypass", "run", "bypass", "run"]


def test_a_bypass_needs_a_positive_kv_on_a_pump_group() -> None:
    pumps = [{"pump_id": f"P{i}", **SMALL} for i in range(3)]
    with pytest.raises(InvalidInput, match="control relay: bypass_kv_m3_h = 0.0: must be > 0"):
        compile_network(_with(relay_network(pumps=pumps), _relay_control(8.8, bypass_kv_m3_h=0.0)))
