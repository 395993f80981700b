"""Shipped example networks: Jiexiu (real data) and Tuoketuo → Hohhot (illustrative)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nuanliu.errors import NotFound
from nuanliu.network.examples import list_examples, load_example
from nuanliu.network.examples.jiexiu import import_jiexiu
from nuanliu.network.validate import check


def test_examples_are_listed_and_unknown_names_say_what_exists() -> None:
    assert {"jiexiu", "tuoketuo-hohhot"} <= set(list_examples())
    with pytest.raises(NotFound, match="jiexiu"):
        load_example("atlantis")


def test_importing_the_shared_jiexiu_data_reproduces_the_shipped_network(
    shared_data: Path,
) -> None:
    imported = import_jiexiu(shared_data / "networks" / "jiexiu")
    assert imported.equals(load_example("jiexiu"))


def test_jiexiu_counts_length_and_validity(shared_data: Path) -> None:
    raw = pd.read_csv(shared_data / "networks" / "jiexiu" / "jiexiu_network_tree.csv")
    assert len(raw) == 253
    net = load_example("jiexiu")
    assert check(net) == []
    s = net.summary()
    assert s["supply_pipe_length_km"] == pytest.approx(86.5, abs=0.05)
    assert s["pipe_length_km"] == pytest.approx(2 * s["supply_pipe_length_km"])
    assert s["stations"] == (raw["Type"] == "H").sum() == 109
    # every non-source node of the connected trees is a junction pair; S3 is unconnected
    assert net.meta["unconnected_sources"] == ["S3"]
    assert s["junctions"] == 2 * (253 - 1)
    assert s["pipes"] == 2 * (253 - 3)
    assert set(net.sources["source_id"]) == {"S1", "S2"}
    # the design load is the Qmax column read as GJ/h
    q = pd.read_csv(shared_data / "networks" / "jiexiu" / "jiexiu_station_Qmax.csv")
    in_tree = q["A"].str.replace("-", "_").isin(raw["ID"])
    assert s["design_heat_mw"] == pytest.approx(q.loc[in_tree, "B"].sum() / 3.6, rel=1e-9)


def _downstream(net, start: str) -> set[str]:
    sup = net.pipes[net.pipes["side"] == "supply"]
    nxt = sup.groupby("from_junction_id")["to_junction_id"].apply(list).to_dict()
    seen, todo = set(), [start]
    while todo:
        j = todo.pop()
        if j not in seen:
            seen.add(j)
            todo.extend(nxt.get(j, []))
    return seen


def test_jiexiu_design_velocities_are_plausible() -> None:
    """The GJ/h reading keeps the trunk mains below 3 m/s at 120/60 °C."""
    net = load_example("jiexiu")
    for sid in ("S1", "S2"):
        reach = _downstream(net, f"{sid}.s")
        fed = net.stations[net.stations["primary_supply_junction_id"].isin(reach)]
        assert len(fed) > 30
        mdot = fed["heat_demand_w"].sum() / (4190.0 * 60.0)
        first = net.pipes[net.pipes["from_junction_id"] == f"{sid}.s"].iloc[0]
        v = mdot / (960.0 * np.pi * first["inner_diameter_m"] ** 2 / 4)
        assert 0.5 < v < 3.0, (sid, v)
        # read as MW instead, the same trunk would exceed any accepted velocity
        assert v * 3.6 > 4.0


def test_tuoketuo_shipped_file_matches_the_builder() -> None:
    from nuanliu.network.examples.tuoketuo import build_tuoketuo_hohhot

    assert build_tuoketuo_hohhot().equals(load_example("tuoketuo-hohhot"))


def test_tuoketuo_facts() -> None:
    net = load_example("tuoketuo-hohhot")
    assert check(net) == []
    pipes = net.pipes
    line = pipes[pipes["pipe_id"].str.match(r"^L[SR]\d\d$")]
    for side in ("supply", "return"):
        sub = line[line["side"] == side]
        assert sub["length_m"].sum() == pytest.approx(68_400.0, abs=1.0)
        assert (sub["dn_mm"] == 1600).all()
    relay = net.pumps[net.pumps["purpose"] == "relay"]
    stations = relay["from_junction_id"].str.split(".").str[0].unique()
    assert len(stations) == 2
    # parallel pumps in each relay station, on both lines
    per_line = relay.groupby(["from_junction_id", "to_junction_id"]).size()
    assert len(per_line) == 4 and (per_line >= 2).all()
    iso = net.stations[net.stations["kind"] == "isolation"]
    assert len(iso) == 1
    assert (iso["secondary_supply_junction_id"] != "").all()
    subs = net.stations[net.stations["kind"] == "substation"]
    assert 60 <= len(subs) <= 120
    assert subs["floor_area_m2"].sum() == pytest.approx(53e6, rel=0.02)
    assert net.meta["crs"] == "EPSG:4326"
    # city mains (trunk + ring, one side) ≈ 36 km; parallel trunk lines count once
    city = pipes[(pipes["side"] == "supply") & pipes["pipe_id"].str.match(r"^C(Ta|R)")]
    assert city["length_m"].sum() / 1000 == pytest.approx(36.0, rel=0.1)
    # plant and city centre where the public description puts them
    j = net.junctions.set_index("junction_id")
    assert j.loc["L00.s", ["x", "y"]].tolist() == pytest.approx([111.19, 40.20], abs=0.01)
    centre = subs.merge(
        net.junctions, left_on="primary_supply_junction_id", right_on="junction_id"
    )[["x", "y"]].mean()
    assert centre.tolist() == pytest.approx([111.67, 40.82], abs=0.03)


def test_tuoketuo_pressures_are_physical() -> None:
    net = load_example("tuoketuo-hohhot")
    src = net.sources.iloc[0]
    iso = net.stations[net.stations["kind"] == "isolation"].iloc[0]
    for p in (src["supply_pressure_bar"], iso["secondary_supply_pressure_bar"]):
        assert p <= 25.0  # PN25
    # relay pump design lift (curve at the design flow per duty pump) matches one segment
    rho, g = 935.0, 9.80665
    duty = net.pumps[net.pumps["in_service"] & net.pumps["pump_id"].str.contains("-S")]
    q = net.meta["line_design_mdot_kg_s"] / rho / duty.groupby("from_junction_id").size().iloc[0]
    # (pumps are selected with a head margin: the table speed gives the design lift)
    n = duty["speed_ratio"]
    head = duty["head_a0_m"] * n**2 + duty["head_a2_s2_per_m5"] * q**2
    lift_bar = head * rho * g / 1e5
    assert lift_bar.to_numpy() == pytest.approx(net.meta["relay_lift_supply_bar"], rel=1e-3)
    # the lowest supply pressure on the line (relay inlet) stays above the vapour
    # pressure at 130 °C (1.7 bar(g))
    lowest = src["supply_pressure_bar"] - net.meta["relay_lift_supply_bar"]
    assert lowest > 1.7 + 1.0


@pytest.mark.parametrize("name", ["jiexiu", "tuoketuo-hohhot"])
def test_examples_are_solvable_by_pandapipes_within_pressure_limits(name: str) -> None:
    """The independent engine finds a steady state with sane pressures everywhere."""
    import pandapipes

    from nuanliu.network.io import to_pandapipes

    net = load_example(name)
    ppn = to_pandapipes(net)
    pandapipes.pipeflow(ppn, mode="sequential", iter=300, use_numba=False)
    res = ppn.res_junction
    assert res["p_bar"].max() <= 25.0  # PN25
    supply = net.junctions["junction_id"].str.endswith(".s").to_numpy()
    # vapour pressure at the supply temperature (130 °C: 1.7 bar(g)) is never reached
    assert res.loc[supply, "p_bar"].min() > 1.7
    assert res["p_bar"].min() > 0.5
    hc = ppn.res_heat_consumer
    # every station gets the flow it needs with a positive differential pressure
    assert ((hc["p_from_bar"] - hc["p_to_bar"]) > 0.5).all()
    design_w = net.stations.loc[net.stations["kind"] == "substation", "heat_demand_w"].sum()
    delivered_w = ppn.heat_consumer["qext_w"][ppn.heat_consumer["nuanliu_id"] != "ISO"].sum()
    assert delivered_w == pytest.approx(design_w)
