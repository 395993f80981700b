"""The pandapipes importer keeps pandapipes' physics (issue 7): pump curves, ambient
temperature, fixed-flow sources and stray junctions; and the export stays consistent."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.errors import InvalidInput
from nuanliu.network.io import from_pandapipes, to_pandapipes
from nuanliu.network.io.pandapipes_io import (
    UnconnectedJunctionsWarning,
    pandapipes_curve_density_kg_m3,
    read_pandapipes_json,
)
from nuanliu.network.validate import check
from nuanliu.physics.machines import pump_curve_dp_pa
from nuanliu.sim import solve_steady

pp = pytest.importorskip("pandapipes")

K0 = 273.15


def _loop(*, text_k: float | None = 283.15) -> tuple[object, list[int]]:
    """Plant → pipe → consumer → pipe → plant, with junctions 0…3 (4 is free to add)."""
    net = pp.create_empty_network(fluid="water")
    j = list(pp.create_junctions(net, 4, pn_bar=5.0, tfluid_k=363.15))
    pp.create_circ_pump_const_pressure(net, j[3], j[0], p_flow_bar=6, plift_bar=3, t_flow_k=363.15)
    kw = dict(length_km=0.4, inner_diameter_mm=100, k_mm=0.1, u_w_per_m2k=1.5)
    if text_k is not None:
        kw["text_k"] = text_k
    pp.create_pipe_from_parameters(net, j[0], j[1], **kw)
    pp.create_heat_consumer(net, j[1], j[2], qext_w=3e5, treturn_k=323.15)
    pp.create_pipe_from_parameters(net, j[2], j[3], **kw)
    return net, j


# -- pumps --------------------------------------------------------------------------------


@pytest.mark.parametrize("std_type", ["P1", "P2", "P3", "own"])
def test_pump_lift_equals_pandapipes_at_several_flows(std_type: str) -> None:
    net, j = _loop()
    a, b = pp.create_junctions(net, 2, pn_bar=5.0, tfluid_k=330.0)
    if std_type == "own":
        pp.create_pump_from_parameters(
            net,
            a,
            b,
            "own",
            pressure_list=[4.0, 3.6, 2.5],
            flowrate_list=[0, 40, 80],
            reg_polynomial_degree=2,
        )
        std_type = "own"
    else:
        pp.create_pump(net, a, b, std_type)
    curve = net["std_types"]["pump"][std_type]
    pump = from_pandapipes(net).pumps.iloc[0]
    assert pump["control"] == "curve"
    rho0 = pandapipes_curve_density_kg_m3(net)
    assert pump["curve_density_kg_m3"] == rho0
    # whatever the water's density at the pump, the lift is pandapipes' lift
    for rho_water in (958.0, 971.8, 999.8):
        for vdot_m3_h in (0.0, 5.0, 17.3, 30.0, 44.4):
            mdot = vdot_m3_h / 3600.0 * rho0
            ours = pump_curve_dp_pa(
                np.array([mdot]),
                np.array([rho_water]),
                pump["head_a0_m"],
                pump["head_a1_s_per_m2"],
                pump["head_a2_s2_per_m5"],
                pump["speed_ratio"],
                np.array([pump["curve_density_kg_m3"]]),
            )[0]
            theirs = curve.get_pressure(mdot / rho0) * 1e5
            assert ours == pytest.approx(theirs, rel=1e-9, abs=0.0)


def test_fixed_curve_density_law_and_its_slope() -> None:
    """With a fixed curve density the lift is a law of the mass flow alone; without it
    it follows the water (Δp = ρ g H(ṁ/ρ)); the Newton slope is the law's derivative."""
    from nuanliu.physics.machines import pump_curve_ddp_dmdot

    a0, a1, a2, n = np.array([40.0]), np.array([-20.0]), np.array([-900.0]), np.array([0.9])
    m = np.array([30.0])
    fixed = np.array([999.84])
    for rho in (950.0, 1000.0):
        r = np.array([rho])
        assert pump_curve_dp_pa(m, r, a0, a1, a2, n, fixed)[0] == pytest.approx(
            pump_curve_dp_pa(m, fixed, a0, a1, a2, n)[0], rel=1e-15
        )
        for fx in (fixed, np.array([np.nan])):
            h = 1e-4
            fd = (
                pump_curve_dp_pa(m + h, r, a0, a1, a2, n, fx)
                - pump_curve_dp_pa(m - h, r, a0, a1, a2, n, fx)
            ) / (2 * h)
            assert pump_curve_ddp_dmdot(m, r, a1, a2, n, fx)[0] == pytest.approx(fd[0], rel=1e-7)
    follows = [pump_curve_dp_pa(m, np.array([r]), a0, a1, a2, n)[0] for r in (950.0, 1000.0)]
    assert follows[0] != pytest.approx(follows[1], rel=1e-3)


def test_solved_pump_lift_is_pandapipes_curve_at_the_solved_flow() -> None:
    net = pp.create_empty_network(fluid="water")
    j = pp.create_junctions(net, 5, pn_bar=5.0, tfluid_k=363.15)
    pp.create_circ_pump_const_pressure(
        net, j[4], j[0], p_flow_bar=4, plift_bar=0.5, t_flow_k=363.15
    )
    kw = dict(length_km=1.0, inner_diameter_mm=150, k_mm=0.1)
    pp.create_pipe_from_parameters(net, j[0], j[1], **kw)
    pp.create_pump(net, j[1], j[2], "P1")
    pp.create_heat_consumer(net, j[2], j[3], qext_w=8e5, treturn_k=333.15)
    pp.create_pipe_from_parameters(net, j[3], j[4], **kw)
    res = solve_steady(from_pandapipes(net))
    pu = res.pumps.iloc[0]
    rho0 = pandapipes_curve_density_kg_m3(net)
    expected = net["std_types"]["pump"]["P1"].get_pressure(pu["mdot_kg_s"] / rho0)
    assert pu["lift_bar"] == pytest.approx(expected, rel=1e-9)


def test_exported_pump_curve_is_the_one_pandapipes_evaluates() -> None:
    """Nuanliu → pandapipes: a pump with a fixed curve density exports exactly; one that
    follows the water's density exports exactly at the ``rho_kg_m3`` given."""
    net, _ = _loop()
    a, b = pp.create_junctions(net, 2, pn_bar=5.0, tfluid_k=330.0)
    pp.create_pump(net, a, b, "P1")
    ours = from_pandapipes(net)
    ours.pumps.loc[0, "speed_ratio"] = 0.9
    back = to_pandapipes(ours)
    exported = back["std_types"]["pump"]["nuanliu_PU0"]
    rho0 = pandapipes_curve_density_kg_m3(back)
    row = ours.pumps.iloc[0]
    for vdot_m3_h in (0.0, 10.0, 30.0):
        mdot = vdot_m3_h / 3600.0 * rho0
        for rho_water, fixed in ((965.0, row["curve_density_kg_m3"]), (965.0, np.nan)):
            ours_pa = pump_curve_dp_pa(
                np.array([mdot]),
                np.array([rho_water]),
                row["head_a0_m"],
                row["head_a1_s_per_m2"],
                row["head_a2_s2_per_m5"],
                0.9,
                np.array([fixed]),
            )[0]
            if np.isnan(fixed):
                ours.pumps.loc[0, "curve_density_kg_m3"] = np.nan
                curve = to_pandapipes(ours, rho_kg_m3=965.0)["std_types"]["pump"]["nuanliu_PU0"]
                ours.pumps.loc[0, "curve_density_kg_m3"] = row["curve_density_kg_m3"]
            else:
                curve = exported
            assert curve.get_pressure(mdot / rho0) * 1e5 == pytest.approx(ours_pa, rel=1e-9)


# -- pipes --------------------------------------------------------------------------------


def test_pipe_without_ambient_gets_pandapipes_default() -> None:
    from pandapipes.pf.pipeflow_setup import default_options

    net, _ = _loop(text_k=None)
    imported = from_pandapipes(net)
    assert imported.pipes["ambient_temp_c"].tolist() == pytest.approx(
        [default_options["ambient_temperature"] - K0] * 2
    )
    assert imported.pipes["ambient_temp_c"].iloc[0] == pytest.approx(20.0)
    pp.set_user_pf_options(net, ambient_temperature=278.15)  # the net's own option wins
    assert from_pandapipes(net).pipes["ambient_temp_c"].tolist() == pytest.approx([5.0, 5.0])
    explicit, _ = _loop(text_k=283.15)
    assert from_pandapipes(explicit).pipes["ambient_temp_c"].tolist() == pytest.approx([10.0] * 2)
    # std-type pipes store text_k = 0 K for "the ambient temperature"
    std, j = _loop()
    pp.create_pipe(std, j[1], j[2], std_type="80_GGG", length_km=0.2)
    assert std.pipe["text_k"].iloc[-1] == 0.0
    assert from_pandapipes(std).pipes["ambient_temp_c"].iloc[-1] == pytest.approx(20.0)


def test_heat_loss_without_text_k_matches_pandapipes() -> None:
    """Same heat loss as pandapipes run with its default ambient temperature."""
    net, _ = _loop(text_k=None)
    pp.pipeflow(net, mode="bidirectional", use_numba=False, friction_model="colebrook")
    res = solve_steady(from_pandapipes(net))
    t_pp = net.res_junction["t_k"].to_numpy() - K0
    t_ours = res.junctions.set_index("junction_id").loc[["J0", "J1"], "temp_c"].to_numpy()
    drop_pp, drop_ours = t_pp[0] - t_pp[1], t_ours[0] - t_ours[1]
    assert drop_ours == pytest.approx(drop_pp, rel=0.01)


# -- sources ------------------------------------------------------------------------------


def _bypass_net(*, with_pressure_pump: bool = False) -> object:
    """A fixed-flow plant (circ_pump_mass holding its outlet pressure), two consumers and
    a differential-pressure bypass at the far end (pandapipes needs it: the consumers'
    flows are fixed, so the bypass takes the rest)."""
    net = pp.create_empty_network(fluid="water")
    j = pp.create_junctions(net, 6, pn_bar=5.0, tfluid_k=363.15)
    kw = dict(length_km=0.5, inner_diameter_mm=125, k_mm=0.1, u_w_per_m2k=0.5, text_k=283.15)
    pp.create_circ_pump_const_mass_flow(
        net, j[5], j[0], p_flow_bar=6.0, mdot_flow_kg_per_s=6.0, t_flow_k=363.15
    )
    if with_pressure_pump:
        pp.create_circ_pump_const_pressure(net, j[5], j[0], 6.0, 3.0, t_flow_k=363.15)
    pp.create_pipe_from_parameters(net, j[0], j[1], **kw)
    pp.create_pipe_from_parameters(net, j[1], j[2], **kw)
    pp.create_pipe_from_parameters(net, j[3], j[4], **kw)
    pp.create_pipe_from_parameters(net, j[4], j[5], **kw)
    pp.create_heat_consumer(net, j[1], j[4], qext_w=3e5, treturn_k=323.15)
    pp.create_heat_consumer(net, j[2], j[3], qext_w=2e5, treturn_k=323.15)
    pp.create_valve(net, j[2], j[3], et="ju", inner_diameter_mm=50, loss_coefficient=4.0)
    return net


def test_circ_pump_mass_is_a_flow_source_holding_its_pressure() -> None:
    net = _bypass_net()
    imported = from_pandapipes(net)
    src = imported.sources.iloc[0]
    assert src["control"] == "flow" and src["mdot_kg_s"] == 6.0
    assert src["supply_pressure_bar"] == 6.0 and src["supply_temp_c"] == pytest.approx(90.0)
    assert check(imported) == []
    pp.pipeflow(net, mode="bidirectional", use_numba=False, friction_model="colebrook")
    res = solve_steady(imported)
    p = res.junctions.set_index("junction_id")["pressure_bar"]
    assert p["J0"] == pytest.approx(6.0, abs=1e-9)  # the pressure it holds
    assert p["J5"] == pytest.approx(net.res_junction.loc[5, "p_bar"], rel=0.005)
    assert res.sources.iloc[0]["mdot_kg_s"] == pytest.approx(6.0)


def test_circ_pump_ids_do_not_collide() -> None:
    net = _bypass_net(with_pressure_pump=True)
    src = from_pandapipes(net).sources.set_index("source_id")
    assert set(src.index) == {"S0", "SM0"}
    assert src.loc["SM0", "control"] == "flow" and src.loc["S0", "control"] == "pressure"


def test_heat_consumer_run_backwards_is_a_source() -> None:
    net, j = _loop()
    a, b = pp.create_junctions(net, 2, pn_bar=5.0, tfluid_k=350.0)
    pp.create_pipe_from_parameters(net, j[1], a, length_km=0.3, inner_diameter_mm=80, k_mm=0.1)
    pp.create_pipe_from_parameters(net, b, j[2], length_km=0.3, inner_diameter_mm=80, k_mm=0.1)
    # return (b) → supply (a): injects 1.5 kg/s at 95 °C
    pp.create_heat_consumer(net, b, a, controlled_mdot_kg_per_s=1.5, treturn_k=368.15)
    # and one adding a set heat at 92 °C
    pp.create_heat_consumer(net, b, a, qext_w=-2e5, treturn_k=365.15)
    src = from_pandapipes(net).sources.set_index("source_id")
    assert list(src.index) == ["S0", "SC1", "SC2"]
    assert src.loc["SC1", ["control", "mdot_kg_s"]].tolist() == ["flow", 1.5]
    assert src.loc["SC1", "supply_temp_c"] == pytest.approx(95.0)
    assert src.loc["SC1", ["supply_junction_id", "return_junction_id"]].tolist() == ["J4", "J5"]
    assert src.loc["SC2", ["control", "heat_w"]].tolist() == ["heat", 2e5]
    assert len(from_pandapipes(net).consumers) == 1


# -- stray junctions ----------------------------------------------------------------------


def test_stray_junction_is_dropped_with_a_warning_or_refused_with_strict() -> None:
    net, _ = _loop()
    pp.create_junction(net, pn_bar=5.0, tfluid_k=300.0, index=17)
    with pytest.warns(UnconnectedJunctionsWarning, match="J17") as rec:
        imported = from_pandapipes(net)
    assert rec[0].message.junction_ids == ["J17"]
    assert "J17" not in set(imported.junctions["junction_id"])
    assert check(imported) == []  # the rest is a valid network
    with pytest.raises(InvalidInput, match="J17"):
        from_pandapipes(net, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_pandapipes(_loop()[0])  # nothing to drop, nothing said


def test_cli_reports_dropped_junctions_and_strict_refuses(tmp_path: Path) -> None:
    net, _ = _loop()
    pp.create_junction(net, pn_bar=5.0, tfluid_k=300.0, index=9)
    path = tmp_path / "stray.json"
    pp.to_json(net, str(path))
    runner = CliRunner()
    ok = runner.invoke(app, ["network", "check", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "J9" in ok.output and "dropped" in ok.output
    strict = runner.invoke(app, ["network", "check", "--strict", str(path)])
    assert strict.exit_code == 2 and "J9" in strict.output
    out = tmp_path / "out.geojson"
    refused = runner.invoke(
        app, ["network", "export", "--strict", str(path), "--to", "geojson", "-o", str(out)]
    )
    assert refused.exit_code == 2 and not out.exists()
    done = runner.invoke(app, ["network", "export", str(path), "--to", "geojson", "-o", str(out)])
    assert done.exit_code == 0, done.output
    ids = [f["properties"].get("junction_id") for f in json.loads(out.read_text())["features"]]
    assert "J9" not in ids
    with pytest.warns(UnconnectedJunctionsWarning):
        assert len(read_pandapipes_json(path).junctions) == 4


def test_simulate_solves_a_pandapipes_file_with_a_stray_junction(tmp_path: Path) -> None:
    net, _ = _loop()
    pp.create_junction(net, pn_bar=5.0, tfluid_k=300.0, index=12)
    path = tmp_path / "stray.json"
    pp.to_json(net, str(path))
    runner = CliRunner()
    ok = runner.invoke(app, ["simulate", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "J12" in ok.output
    strict = runner.invoke(app, ["simulate", "--strict", str(path)])
    assert strict.exit_code == 2 and "J12" in strict.output


def test_flow_sources_holding_pressure_export_as_circ_pump_mass_and_back() -> None:
    from .test_io import assert_same

    first = from_pandapipes(_bypass_net())
    ppn = to_pandapipes(first)
    cm = ppn.circ_pump_mass.iloc[0]
    assert cm["type"] == "pt" and cm["p_flow_bar"] == 6.0 and cm["mdot_flow_kg_per_s"] == 6.0
    assert_same(first, from_pandapipes(ppn), rel=1e-12)
    # beside a pressure source the held pressure is unused: pandapipes must not hold it
    both = from_pandapipes(_bypass_net(with_pressure_pump=True))
    back = to_pandapipes(both)
    assert back.circ_pump_mass.iloc[0]["type"] == "t"
    assert_same(both, from_pandapipes(back), rel=1e-12)
