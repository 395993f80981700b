"""Validation: every problem names the element at fault."""

from __future__ import annotations

import time

import pytest

from nuanliu.errors import NetworkInvalid
from nuanliu.network.model import Network
from nuanliu.network.validate import check, validate


def problems(net: Network) -> set[tuple[str, str]]:
    return {(p.kind, p.id) for p in check(net)}


def messages(net: Network, kind: str, id_: str) -> list[str]:
    return [p.problem for p in check(net) if p.kind == kind and p.id == id_]


def test_the_tiny_network_is_valid(tiny: Network) -> None:
    assert check(tiny) == []
    validate(tiny)


def test_validate_raises_with_details_per_element(tiny: Network) -> None:
    tiny.pipes.loc[tiny.pipes["pipe_id"] == "p_s2", "inner_diameter_m"] = 0.0
    tiny.valves.loc[0, "kv_m3_h"] = -3.0
    with pytest.raises(NetworkInvalid) as err:
        validate(tiny)
    details = err.value.details
    assert {"kind": "pipes", "id": "p_s2", "problem": "inner_diameter_m = 0 must be > 0"} in details
    assert any(
        d["kind"] == "valves" and d["id"] == "v1" and "kv_m3_h" in d["problem"] for d in details
    )
    assert "2 problem(s)" in err.value.message


def test_duplicate_ids_are_reported_once_per_id(tiny: Network) -> None:
    tiny.consumers.loc[1, "consumer_id"] = "c1"
    assert messages(tiny, "consumers", "c1") == ["duplicate id"]


def test_missing_id_and_missing_required_values(tiny: Network) -> None:
    tiny.pipes.loc[3, "pipe_id"] = ""
    tiny.pipes.loc[0, "length_m"] = float("nan")
    tiny.sources.loc[0, "supply_temp_c"] = float("nan")
    got = problems(tiny)
    assert ("pipes", "row 3") in got
    assert "missing required value length_m" in messages(tiny, "pipes", "p_s1")
    assert "missing required value supply_temp_c" in messages(tiny, "sources", "src")


def test_unknown_junction_reference(tiny: Network) -> None:
    tiny.consumers.loc[0, "return_junction_id"] = "nowhere"
    assert "return_junction_id = 'nowhere' is not a junction" in messages(tiny, "consumers", "c1")


def test_non_positive_length_and_bad_choice(tiny: Network) -> None:
    tiny.pipes.loc[1, "length_m"] = 0.0
    tiny.pipes.loc[2, "side"] = "middle"
    assert messages(tiny, "pipes", "p_s2") == ["length_m = 0 must be > 0"]
    assert messages(tiny, "pipes", "p_r2") == ["side = 'middle' is not one of supply, return"]


def test_impossible_setpoints(tiny: Network) -> None:
    tiny.sources.loc[0, "return_pressure_bar"] = 9.5
    tiny.consumers.loc[0, "return_temp_c"] = 125.0
    tiny.consumers.loc[1, "heat_demand_w"] = -5.0
    tiny.valves.loc[0, "opening"] = -0.1
    tiny.stations.loc[0, "secondary_return_temp_c"] = 70.0
    tiny.pumps = Network.from_tables(
        pumps=[{"pump_id": "pu", "from_junction_id": "a", "to_junction_id": "b", "efficiency": 1.3}]
    ).pumps
    assert any("must exceed return_pressure_bar" in m for m in messages(tiny, "sources", "src"))
    assert messages(tiny, "consumers", "c1") == [
        "return_temp_c (125 °C) must be below the supply temperature 120 °C"
    ]
    assert messages(tiny, "consumers", "c2") == ["heat_demand_w = -5 must be ≥ 0"]
    assert messages(tiny, "valves", "v1") == ["opening = -0.1 must be ≥ 0"]
    assert any("secondary_return_temp_c (70" in m for m in messages(tiny, "stations", "st1"))
    pump_msgs = messages(tiny, "pumps", "pu")
    assert "efficiency = 1.3 must be ≤ 1" in pump_msgs
    assert "lift_bar is required for control 'lift'" in pump_msgs


def test_conditional_requirements_of_controls(tiny: Network) -> None:
    tiny.sources.loc[0, "control"] = "flow"
    tiny.sources.loc[0, "supply_pressure_bar"] = float("nan")  # else it holds that pressure
    tiny.consumers.loc[1, "mdot_kg_s"] = float("nan")
    assert "mdot_kg_s is required for a flow source" in messages(tiny, "sources", "src")
    assert "mdot_kg_s is required for control 'flow'" in messages(tiny, "consumers", "c2")
    # the only source is no longer a pressure reference
    msgs = messages(tiny, "junctions", "a")
    assert any("no pressure reference" in m for m in msgs)


def test_isolated_junction_and_unfed_consumer(tiny: Network) -> None:
    tiny.junctions = Network.from_tables(
        junctions=[
            *tiny.junctions.to_dict("records"),
            {"junction_id": "lonely"},
            {"junction_id": "x1"},
            {"junction_id": "x2"},
        ]
    ).junctions
    tiny.consumers = Network.from_tables(
        consumers=[
            *tiny.consumers.to_dict("records"),
            {
                "consumer_id": "orphan",
                "supply_junction_id": "x1",
                "return_junction_id": "x2",
                "heat_demand_w": 1e5,
                "return_temp_c": 50.0,
            },
        ]
    ).consumers
    assert messages(tiny, "junctions", "lonely") == ["not connected to anything"]
    assert "no path to a heat source" in messages(tiny, "consumers", "orphan")
    part_msgs = messages(tiny, "junctions", "x1")
    assert any("no pressure reference" in m and "x1, x2" in m for m in part_msgs)
    assert any("not connected to any heat source" in m for m in part_msgs)


def test_out_of_service_pipe_can_disconnect_a_consumer(tiny: Network) -> None:
    # b and br are only reached through p_s2 / p_r2 and consumer c2
    tiny.pipes.loc[tiny.pipes["pipe_id"].isin(["p_s2", "p_r2"]), "in_service"] = False
    assert "no path to a heat source" in messages(tiny, "consumers", "c2")


def test_modelled_secondary_is_a_separate_part_with_its_own_reference(tiny: Network) -> None:
    net = tiny.copy()
    extra_j = [{"junction_id": j} for j in ("s2_out", "s2_in", "k")]
    net.junctions = Network.from_tables(
        junctions=[*net.junctions.to_dict("records"), *extra_j]
    ).junctions
    net.stations.loc[0, ["secondary_supply_junction_id", "secondary_return_junction_id"]] = [
        "s2_out",
        "s2_in",
    ]
    net.stations.loc[0, ["secondary_supply_pressure_bar", "secondary_return_pressure_bar"]] = [
        6.0,
        2.0,
    ]
    net.stations.loc[0, "kind"] = "isolation"
    net.pipes = Network.from_tables(
        pipes=[
            *net.pipes.to_dict("records"),
            {
                "pipe_id": "q1",
                "from_junction_id": "s2_out",
                "to_junction_id": "k",
                "length_m": 100,
                "inner_diameter_m": 0.1,
            },
        ]
    ).pipes
    net.consumers = Network.from_tables(
        consumers=[
            *net.consumers.to_dict("records"),
            {
                "consumer_id": "c3",
                "supply_junction_id": "k",
                "return_junction_id": "s2_in",
                "heat_demand_w": 1e5,
                "return_temp_c": 40.0,
            },
        ]
    ).consumers
    assert check(net) == []
    # without the station's pressure hold the secondary part has no reference
    net.stations.loc[0, "in_service"] = False
    got = [p for p in check(net) if "no pressure reference" in p.problem]
    assert len(got) == 1 and "s2_in" in got[0].problem
    assert "no path to a heat source" in messages(net, "consumers", "c3")
    # the secondary part may not be hotter than what heats it
    net.stations.loc[0, "in_service"] = True
    net.consumers.loc[2, "return_temp_c"] = 65.0  # above the 60 °C secondary set-point
    assert any("below the supply temperature 60" in m for m in messages(net, "consumers", "c3"))


def test_wrong_dtype_after_in_place_edit_is_reported(tiny: Network) -> None:
    tiny.pipes["length_m"] = tiny.pipes["length_m"].astype(str)
    (prob,) = check(tiny)
    assert prob.kind == "pipes" and "length_m" in prob.problem and "float" in prob.problem
    assert check(tiny.normalized()) == []


@pytest.mark.timeout(60)
def test_validation_is_fast_on_a_200k_element_network() -> None:
    from nuanliu.network.generate import generate_city

    net = generate_city(consumers=33_000, seed=3)
    assert net.n_elements() >= 200_000
    t0 = time.perf_counter()
    probs = check(net)
    elapsed = time.perf_counter() - t0
    assert probs == []
    assert elapsed < 3.0, f"check took {elapsed:.2f} s"


def test_isolation_station_separates_hydraulic_parts() -> None:
    from nuanliu.network.examples import load_example
    from nuanliu.network.validate import hydraulic_parts

    net = load_example("tuoketuo-hohhot")
    parts = hydraulic_parts(net)
    assert parts.nunique() == 2
    assert parts["L00.s"] == parts["ISO.p.r"] != parts["ISO.c.s"] == parts["HH001.r"]


def test_modelled_secondary_joined_to_its_primary_is_reported() -> None:
    from nuanliu.network.examples import load_example

    net = load_example("tuoketuo-hohhot")
    extra = {
        "pipe_id": "shortcut",
        "from_junction_id": "ISO.p.s",
        "to_junction_id": "ISO.c.s",
        "length_m": 10.0,
        "inner_diameter_m": 0.3,
    }
    net.pipes = Network.from_tables(pipes=[*net.pipes.to_dict("records"), extra]).pipes
    assert any(
        "hydraulically connected to the primary" in m for m in messages(net, "stations", "ISO")
    )
