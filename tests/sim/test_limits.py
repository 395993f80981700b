"""Physical limits: each one broken on a small network gives exactly its violation rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.errors import Infeasible, InvalidInput
from nuanliu.network.io import write_network
from nuanliu.network.model import Network
from nuanliu.physics.water import saturation_pressure_pa
from nuanliu.sim import compile_network, solve_steady
from nuanliu.sim.limits import LimitSettings, check_limits, default_max_velocity_m_s

DN100_M = 0.1071
DN150_M = 0.1603


def _pipe(pid: str, a: str, b: str, side: str, **kw: Any) -> dict[str, Any]:
    row = {
        "pipe_id": pid,
        "from_junction_id": a,
        "to_junction_id": b,
        "side": side,
        "length_m": 200.0,
        "inner_diameter_m": DN100_M,
        "dn_mm": 100.0,
        "u_w_per_m_k": 0.3,
        "ambient_temp_c": 8.0,
    }
    return {**row, **kw}


def loop(
    *,
    supply_c: float = 110.0,
    p_supply: float = 6.0,
    p_return: float = 2.0,
    demand_w: float = 500e3,
    pipe: dict[str, Any] | None = None,
    consumer: dict[str, Any] | None = None,
    station: dict[str, Any] | None = None,
    pump: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Network:
    """Source SS/SR → supply pipe `sup` → consumer C (or station ST) at A/B → `ret`.

    With ``pump``, the supply pipe ends at PA and the pump lifts PA → A.
    """
    p = pipe or {}
    junctions = ["SS", "SR", "A", "B"] + (["PA"] if pump else [])
    pipes = [
        _pipe("sup", "SS", "PA" if pump else "A", "supply", **p),
        _pipe("ret", "B", "SR", "return", **p),
    ]
    consumers, stations, pumps = [], [], []
    if station is None:
        consumers = [
            {
                "consumer_id": "C",
                "supply_junction_id": "A",
                "return_junction_id": "B",
                "heat_demand_w": demand_w,
                "control": "return_temp",
                "return_temp_c": 50.0,
                **(consumer or {}),
            }
        ]
    else:
        stations = [
            {
                "station_id": "ST",
                "kind": "substation",
                "primary_supply_junction_id": "A",
                "primary_return_junction_id": "B",
                "heat_demand_w": demand_w,
                **station,
            }
        ]
    if pump:
        pumps = [{"pump_id": "PU", "from_junction_id": "PA", "to_junction_id": "A", **pump}]
    src = {
        "source_id": "SRC",
        "supply_junction_id": "SS",
        "return_junction_id": "SR",
        "control": "pressure",
        "supply_temp_c": supply_c,
        "supply_pressure_bar": p_supply,
        "return_pressure_bar": p_return,
    }
    return Network.from_tables(
        name="loop",
        meta=meta or {},
        junctions=[{"junction_id": j} for j in junctions],
        pipes=pipes,
        consumers=consumers,
        stations=stations,
        pumps=pumps,
        sources=[src],
    )


def rows(res) -> set[tuple[str, str, str]]:
    v = res.violations
    return set(zip(v["kind"], v["element_id"], v["quantity"], strict=True))


def solve(net: Network):
    return solve_steady(net, raise_on_failure=False)


def test_a_network_within_limits_stays_converged() -> None:
    res = solve_steady(loop())
    assert res.status == "converged" and res.converged and res.solved
    assert len(res.violations) == 0 and res.summary["violations"] == 0


def test_saturation_pressure_is_iapws_if97() -> None:
    # IAPWS-IF97 verification values (table 35) and the normal boiling point
    t_c = np.array([300.0, 500.0, 600.0]) - 273.15
    expected_mpa = np.array([0.353658941e-2, 0.263889776e1, 0.123443146e2])
    assert np.allclose(saturation_pressure_pa(t_c) / 1e6, expected_mpa, rtol=1e-8)
    assert saturation_pressure_pa(99.974)[0] == pytest.approx(101_325.0, rel=1e-4)


def test_cavitation_where_hot_water_is_below_its_vapour_pressure() -> None:
    # 130 °C water boils below 1.7 bar(g); + 0.5 bar margin: the supply side at 2 bar(g)
    # cavitates, the 50 °C return side at 0.5 bar(g) does not
    res = solve(loop(supply_c=130.0, p_supply=2.0, p_return=0.5))
    assert res.status == "infeasible"
    assert rows(res) == {("junctions", "SS", "pressure_bar"), ("junctions", "A", "pressure_bar")}
    ss = res.violations.set_index("element_id").loc["SS"]
    p_vap_g = (saturation_pressure_pa(130.0)[0] - 101_325.0) / 1e5
    assert ss["limit"] == pytest.approx(p_vap_g + 0.5, abs=1e-3)
    assert ss["check"] == "cavitation"


def test_cavitation_on_the_return_side_below_atmosphere() -> None:
    # cold return at −0.95 bar(g) is 0.06 bar absolute: below 50 °C's vapour pressure
    res = solve(loop(p_supply=3.0, p_return=-0.95))
    assert res.status == "infeasible"
    assert rows(res) == {("junctions", "SR", "pressure_bar"), ("junctions", "B", "pressure_bar")}


def test_pressure_rating_pn16_by_default() -> None:
    res = solve(loop(p_supply=17.0, p_return=12.0))
    assert res.status == "infeasible"
    assert rows(res) == {
        ("junctions", "SS", "pressure_bar"),
        ("junctions", "A", "pressure_bar"),
        ("pipes", "sup", "pressure_bar"),
    }
    assert set(res.violations["limit"]) == {16.0}


def test_pressure_rating_from_the_element_or_the_network() -> None:
    net = loop(p_supply=17.0, p_return=12.0, pipe={"pn_bar": 25.0})
    net.junctions["pn_bar"] = 25.0
    assert solve(net).status == "converged"
    # a network-wide rating in meta.limits
    res = solve(loop(p_supply=17.0, p_return=12.0, meta={"limits": {"pn_bar": 25.0}}))
    assert res.status == "converged"
    # a weaker element still fails: PN10 return pipe at 12 bar
    net = loop(p_supply=17.0, p_return=12.0, meta={"limits": {"pn_bar": 25.0}})
    net.pipes.loc[net.pipes["pipe_id"] == "ret", "pn_bar"] = 10.0
    assert rows(solve(net)) == {("pipes", "ret", "pressure_bar")}


def test_velocity_above_the_default_for_its_dn() -> None:
    # 5 MW at 60 K through DN100: ≈ 20 kg/s, 2.3 m/s > 1.6 m/s
    res = solve(loop(demand_w=5e6, pipe={"length_m": 100.0}))
    assert res.status == "infeasible"
    assert rows(res) == {("pipes", "sup", "velocity_m_s"), ("pipes", "ret", "velocity_m_s")}
    assert set(res.violations["limit"]) == {1.6}
    # overridden per pipe
    ok = solve(loop(demand_w=5e6, pipe={"length_m": 100.0, "max_velocity_m_s": 3.0}))
    assert ok.status == "converged"


def test_default_velocity_table() -> None:
    v = default_max_velocity_m_s(np.array([20.0, 50.0, 100.0, 350.0, 1000.0, 1600.0]))
    assert v.tolist() == pytest.approx([1.0, 1.3, 1.6, 2.75, 3.5, 3.5])


def test_consumer_below_its_required_differential_pressure() -> None:
    res = solve(loop(consumer={"min_dp_bar": 5.0}))  # 4 bar lift minus the pipes
    assert res.status == "infeasible"
    assert rows(res) == {("consumers", "C", "dp_bar")}
    row = res.violations.iloc[0]
    assert row["limit"] == 5.0 and 3.5 < row["value"] < 4.0


def test_negative_differential_pressure_is_always_a_violation() -> None:
    # 2 km of DN100 each way at ≈ 1.2 m/s eats far more than the 1 bar lift
    res = solve(loop(demand_w=2.5e6, p_supply=9.0, p_return=8.0, pipe={"length_m": 2000.0}))
    assert res.status == "infeasible"
    assert rows(res) == {("consumers", "C", "dp_bar")}
    row = res.violations.iloc[0]
    assert row["value"] < 0 and row["limit"] == 0.0 and "can pass" in row["message"]


def test_station_below_its_required_differential_pressure() -> None:
    station = {
        "secondary_supply_temp_c": 70.0,
        "secondary_return_temp_c": 50.0,
        "effectiveness": 0.9,
        "min_dp_bar": 4.5,
    }
    res = solve(loop(station=station))
    assert res.status == "infeasible"
    assert rows(res) == {("stations", "ST", "dp_bar")}


def test_pump_beyond_the_end_of_its_curve() -> None:
    # zero head at 7.2 m³/h; the consumer forces ≈ 9.4 m³/h through it: out of range
    # and a negative head (the water drives the pump)
    pump = {
        "control": "curve",
        "head_a0_m": 30.0,
        "head_a1_s_per_m2": 0.0,
        "head_a2_s2_per_m5": -30.0 / 0.002**2,
    }
    res = solve(loop(demand_w=650e3, pump=pump))
    assert res.status == "infeasible"
    assert rows(res) == {("pumps", "PU", "flow_m3_h"), ("pumps", "PU", "lift_bar")}
    flow = res.violations.set_index("quantity").loc["flow_m3_h"]
    assert flow["limit"] == pytest.approx(7.2) and flow["value"] > 9.0
    # within its curve the same pump is fine
    assert solve(loop(demand_w=300e3, pump=pump)).status == "converged"


def test_pump_below_its_declared_minimum_flow() -> None:
    pump = {"control": "lift", "lift_bar": 1.0, "min_flow_m3_h": 20.0}
    res = solve(loop(pump=pump))
    assert rows(res) == {("pumps", "PU", "flow_m3_h")}
    assert res.violations.iloc[0]["limit"] == 20.0


def test_heat_exchanger_temperature_cross() -> None:
    station = {
        "secondary_supply_temp_c": 80.0,
        "secondary_return_temp_c": 60.0,
        "effectiveness": 0.9,
    }
    # 75 °C primary cannot heat the secondary to 80 °C
    res = solve(loop(supply_c=75.0, station=station))
    assert res.status == "infeasible"
    assert rows(res) == {("stations", "ST", "primary_supply_temp_c")}
    # 55 °C primary is below even the secondary return: both ends cross (small demand:
    # the valve opens fully, to the flow that would carry it at 5 K)
    res = solve(loop(supply_c=55.0, station=station, demand_w=100e3))
    assert rows(res) == {
        ("stations", "ST", "primary_supply_temp_c"),
        ("stations", "ST", "primary_return_temp_c"),
    }
    assert solve(loop(supply_c=95.0, station=station)).status == "converged"


def test_raise_on_failure_names_the_worst_violations() -> None:
    with pytest.raises(Infeasible) as err:
        solve_steady(loop(consumer={"min_dp_bar": 5.0}))
    assert "consumer C" in err.value.message and "differential pressure" in err.value.message
    assert err.value.result.status == "infeasible"
    assert err.value.details["violations"][0]["element_id"] == "C"
    assert err.value.code == "infeasible"


def test_limit_settings_from_meta() -> None:
    s = LimitSettings.from_meta(
        {"limits": {"cavitation_margin_bar": 0.3, "velocity_table": [[50, 1.0], [500, 3.0]]}}
    )
    assert s.cavitation_margin_bar == 0.3 and s.velocity_table == ((50.0, 1.0), (500.0, 3.0))
    with pytest.raises(InvalidInput, match="pn_barr"):
        LimitSettings.from_meta({"limits": {"pn_barr": 25}})
    with pytest.raises(InvalidInput, match="cavitation_margin_bar"):
        LimitSettings.from_meta({"limits": {"cavitation_margin_bar": "lots"}})


def test_check_limits_on_a_compiled_network_with_settings() -> None:
    net = loop(supply_c=130.0, p_supply=2.0, p_return=0.5)
    cn = compile_network(net)
    res = solve_steady(cn, raise_on_failure=False)
    # with no margin 2 bar(g) is above 130 °C's 1.7 bar(g) vapour pressure
    assert len(check_limits(cn, res, LimitSettings(cavitation_margin_bar=0.0))) == 0


def _five_gw_on_dn50(tmp_path: Path) -> Path:
    net = loop(demand_w=5e9, pipe={"inner_diameter_m": 0.0545, "dn_mm": 50.0})
    return write_network(net, tmp_path / "5gw-dn50.geojson")


def test_cli_five_gw_on_dn50_exits_non_zero_naming_the_element(tmp_path: Path) -> None:
    out = tmp_path / "res.parquet"
    r = CliRunner().invoke(app, ["simulate", str(_five_gw_on_dn50(tmp_path)), "-o", str(out)])
    assert r.exit_code == 3, r.output
    assert "infeasible" in r.output and "consumer C" in r.output
    assert "pipe sup" in r.output and "velocity" in r.output
    assert not out.exists()  # nothing written without --allow-violations


def test_cli_allow_violations_keeps_the_result(tmp_path: Path) -> None:
    out = tmp_path / "res.parquet"
    path = _five_gw_on_dn50(tmp_path)
    r = CliRunner().invoke(app, ["simulate", str(path), "--allow-violations", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "warning" in r.output
    meta = pq.read_table(out).schema.metadata
    assert json.loads(meta[b"nuanliu.summary"])["status"] == "infeasible"
    violations = json.loads(meta[b"nuanliu.violations"])
    assert {"consumer", "pipe"} <= {v["kind"][:-1] for v in violations}
    assert any(v["element_id"] == "C" and v["quantity"] == "dp_bar" for v in violations)


def test_a_result_that_did_not_converge_keeps_its_status() -> None:
    from nuanliu.sim import SolverOptions

    net = loop(consumer={"min_dp_bar": 5.0})
    res = solve_steady(net, options=SolverOptions(max_iter_coupling=1), raise_on_failure=False)
    assert res.status == "not_converged" and not res.solved
    assert rows(res) == {("consumers", "C", "dp_bar")}  # checked all the same


def test_pump_flow_of_a_curve_at_a_fixed_density() -> None:
    # pandapipes curves take Q = ṁ/ρ(0 °C) whatever the water temperature: the operating
    # range is checked on that same Q, not on the flow at the water's density
    pump = {
        "control": "curve",
        "head_a0_m": 30.0,
        "head_a1_s_per_m2": 0.0,
        "head_a2_s2_per_m5": -30.0 / 0.002**2,
        "curve_density_kg_m3": 999.8,
    }
    res = solve(loop(demand_w=650e3, pump=pump))
    flow = res.violations.set_index("quantity").loc["flow_m3_h"]
    mdot = res.pumps.set_index("pump_id").loc["PU", "mdot_kg_s"]
    assert flow["value"] == pytest.approx(mdot / 999.8 * 3600.0)
