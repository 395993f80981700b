"""Schema defaults, dtype coercion and Network helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.network.model import Network
from nuanliu.network.schema import ELEMENT_KINDS, ID_COLUMN, SCHEMA


def test_empty_network_has_every_schema_column_with_its_dtype() -> None:
    net = Network.empty("x")
    for kind in ELEMENT_KINDS:
        table = net[kind]
        assert list(table.columns) == [c.name for c in SCHEMA[kind]]
        for col in SCHEMA[kind]:
            expected = {"str": object, "float": np.float64, "bool": bool}[col.dtype]
            assert table[col.name].dtype == expected, (kind, col.name)


def test_from_tables_fills_defaults_and_coerces_text_values() -> None:
    net = Network.from_tables(
        name="t",
        junctions=[{"junction_id": 1}, {"junction_id": "b", "x": "3.5"}],
        pipes={
            "pipe_id": ["p1"],
            "from_junction_id": [1.0],
            "to_junction_id": ["b"],
            "length_m": ["120"],
            "inner_diameter_m": [0.1],
            "roughness_mm": [None],
            "in_service": ["false"],
        },
    )
    assert net.junctions["junction_id"].tolist() == ["1", "b"]
    assert net.junctions["x"].iloc[1] == 3.5 and math.isnan(net.junctions["x"].iloc[0])
    pipe = net.pipes.iloc[0]
    assert pipe["from_junction_id"] == "1"  # a numeric id read from a file stays "1"
    assert pipe["length_m"] == 120.0
    assert pipe["roughness_mm"] == 0.05  # not given → schema default
    assert pipe["side"] == "supply" and pipe["in_service"] is np.False_
    assert net.summary()["pipes"] == 1


def test_bad_number_names_kind_and_column() -> None:
    with pytest.raises(InvalidInput, match=r"pipes\.length_m.*'long'"):
        Network.from_tables(pipes={"pipe_id": ["p"], "length_m": ["long"]})


def test_bad_boolean_and_unknown_kind_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="in_service"):
        Network.from_tables(valves={"valve_id": ["v"], "in_service": ["maybe"]})
    with pytest.raises(InvalidInput, match="pipez"):
        Network.from_tables(pipez=[])


def test_copy_is_deep_and_equal() -> None:
    net = Network.from_tables(name="n", meta={"crs": "EPSG:4326"}, junctions=[{"junction_id": "a"}])
    dup = net.copy()
    assert dup.equals(net)
    dup.junctions.loc[0, "elevation_m"] = 5.0
    dup.meta["crs"] = "none"
    assert net.junctions.loc[0, "elevation_m"] == 0.0 and net.meta["crs"] == "EPSG:4326"
    assert not dup.equals(net)


def test_summary_counts_length_and_design_heat() -> None:
    net = Network.from_tables(
        junctions=pd.DataFrame({"junction_id": list("abcd")}),
        pipes=[
            {"pipe_id": "s", "from_junction_id": "a", "to_junction_id": "b", "length_m": 1500},
            {
                "pipe_id": "r",
                "side": "return",
                "from_junction_id": "c",
                "to_junction_id": "d",
                "length_m": 1500,
            },
        ],
        consumers=[
            {
                "consumer_id": "c1",
                "supply_junction_id": "b",
                "return_junction_id": "c",
                "heat_demand_w": 2.5e6,
            }
        ],
        stations=[{"station_id": "s1", "heat_demand_w": 1.5e6, "floor_area_m2": 3e4}],
    )
    s = net.summary()
    assert s["pipe_length_km"] == pytest.approx(3.0)
    assert s["supply_pipe_length_km"] == pytest.approx(1.5)
    assert s["design_heat_mw"] == pytest.approx(4.0)
    assert s["floor_area_m2"] == pytest.approx(3e4)
    assert net.element_ids("consumers").tolist() == ["c1"]
    assert ID_COLUMN["stations"] == "station_id"
