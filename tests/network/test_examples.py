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
