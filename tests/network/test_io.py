"""Round trips through GeoJSON, CSV bundles and pandapipes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nuanliu.errors import InvalidInput
from nuanliu.network.generate import generate_city
from nuanliu.network.io import (
    from_pandapipes,
    read_network,
    to_geojson,
    to_pandapipes,
    write_network,
)
from nuanliu.network.model import Network
from nuanliu.network.schema import ELEMENT_KINDS, SCHEMA

from .conftest import tiny_network


def assert_same(a: Network, b: Network, *, rel: float = 0.0) -> None:
    assert a.name == b.name and a.meta == b.meta
    for kind in ELEMENT_KINDS:
        ta, tb = a[kind], b[kind]
        assert list(ta.columns) == list(tb.columns), kind
        assert len(ta) == len(tb), kind
        for col in SCHEMA[kind]:
            x, y = ta[col.name], tb[col.name]
            if col.dtype == "float" and rel:
                np.testing.assert_allclose(x, y, rtol=rel, atol=1e-12, err_msg=f"{kind}.{col.name}")
            else:
                assert x.equals(y), (kind, col.name, x.compare(y) if len(x) == len(y) else None)


@pytest.mark.parametrize(
    "fmt,name", [("geojson", "net.geojson"), ("parquet", "net.parquet"), ("csv", "bundle")]
)
def test_round_trip_is_exact(tmp_path: Path, fmt: str, name: str) -> None:
    net = tiny_network()
    path = write_network(net, tmp_path / name, fmt)
    assert_same(net, read_network(path))


def test_generated_city_round_trips_through_every_format(tmp_path: Path) -> None:
    net = generate_city(150, seed=5, sources=2, mesh_fraction=1.0)
    for name in ("city.geojson", "city.parquet", "city_csv"):
        assert_same(net, read_network(write_network(net, tmp_path / name)))
    back = read_network(_write_pp(net, tmp_path / "city.json"))
    assert_same(net, back, rel=1e-12)


def _write_pp(net: Network, path: Path) -> Path:
    from nuanliu.network.io import write_pandapipes_json

    write_pandapipes_json(net, path, heat_source_return_temp_c=60.0)
    return path


def test_geojson_geometry_and_top_level_properties() -> None:
    doc = to_geojson(tiny_network())
    assert doc["type"] == "FeatureCollection"
    assert doc["properties"]["name"] == "tiny"
    assert doc["properties"]["meta"]["design_outdoor_temp_c"] == -19.0
    by_id = {
        (
            f["properties"]["element"],
            f["properties"].get("pipe_id")
            or f["properties"].get("junction_id")
            or f["properties"].get("consumer_id"),
        ): f
        for f in doc["features"]
    }
    pipe = by_id[("pipe", "p_s1")]
    assert pipe["geometry"]["type"] == "LineString"
    assert pipe["geometry"]["coordinates"] == [[111.0, 40.0], [111.01, 40.0]]
    assert by_id[("junction", "b")]["geometry"] == {"type": "Point", "coordinates": [111.02, 40.0]}
    assert by_id[("consumer", "c1")]["geometry"]["type"] == "Point"
    # NaN becomes null, so the file is strict JSON
    assert pipe["properties"]["dn_mm"] == 200.0
    assert by_id[("pipe", "p_r2")]["properties"]["dn_mm"] is None
    json.dumps(doc, allow_nan=False)


def test_geojson_drawn_in_a_gis_tool_takes_coordinates_from_geometry(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [1.5, 2.5]},
                "properties": {"element": "junction", "junction_id": "j1"},
            },
        ],
    }
    path = tmp_path / "drawn.geojson"
    path.write_text(json.dumps(doc))
    net = read_network(path)
    assert net.junctions.loc[0, ["x", "y"]].tolist() == [1.5, 2.5]


def test_bad_files_are_reported_with_their_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"properties": {"element": "x"}}]}')
    with pytest.raises(InvalidInput, match=r"bad\.geojson.*feature 0"):
        read_network(bad)
    with pytest.raises(InvalidInput, match="no such file"):
        read_network(tmp_path / "missing.geojson")
    folder = tmp_path / "b"
    write_network(tiny_network(), folder, "csv")
    (folder / "pipes.csv").write_text("pipe_id,length_m\np1,long\n")
    with pytest.raises(InvalidInput, match=r"pipes\.length_m"):
        read_network(folder)


def test_csv_keeps_text_ids_verbatim(tmp_path: Path) -> None:
    net = Network.from_tables(
        junctions=[{"junction_id": "007"}, {"junction_id": "NA"}, {"junction_id": "1e3"}]
    )
    back = read_network(write_network(net, tmp_path / "ids", "csv"))
    assert back.junctions["junction_id"].tolist() == ["007", "NA", "1e3"]


_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(_text, _floats, st.one_of(_floats, st.just(math.nan)), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    fmt=st.sampled_from(["geojson", "parquet", "csv"]),
)
def test_arbitrary_values_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory, rows: list, fmt: str
) -> None:
    pipes = pd.DataFrame(
        {
            "pipe_id": [f"p{i}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "length_m": [r[1] for r in rows],
            "dn_mm": [r[2] for r in rows],
            "in_service": [r[3] for r in rows],
        }
    )
    net = Network.from_tables(name="h", meta={"note": "测试"}, pipes=pipes)
    path = tmp_path_factory.mktemp("rt") / {"geojson": "n.geojson", "parquet": "n.parquet"}.get(
        fmt, "n"
    )
    assert_same(net, read_network(write_network(net, path, fmt)))


def test_pandapipes_mapping_of_values() -> None:
    net = tiny_network()
    ppn = to_pandapipes(net)
    pipe = ppn.pipe.iloc[0]
    assert pipe["length_km"] == pytest.approx(0.8)
    assert pipe["inner_diameter_mm"] == pytest.approx(210.1)
    assert pipe["u_w_per_m2k"] == pytest.approx(0.3 / (math.pi * 0.2101))
    assert pipe["text_k"] == pytest.approx(283.15)
    pump = ppn.circ_pump_pressure.iloc[0]
    assert pump["p_flow_bar"] == 9.0 and pump["plift_bar"] == 6.0
    assert pump["t_flow_k"] == pytest.approx(393.15)
    hc = ppn.heat_consumer.set_index("nuanliu_id")
    assert hc.loc["c1", "qext_w"] == 1e6 and hc.loc["c1", "treturn_k"] == pytest.approx(333.15)
    assert hc.loc["c2", "controlled_mdot_kg_per_s"] == 8.0
    # the substation's primary return follows from its exchanger at the design point
    assert 45.0 < hc.loc["st1", "treturn_k"] - 273.15 < 60.0
    assert ppn.junction.loc[1, "height_m"] == 1001.0
    assert ppn.junction_geodata.loc[2, "x"] == pytest.approx(111.02)
    assert_same(net, from_pandapipes(ppn), rel=1e-12)


def test_pandapipes_solves_the_exported_network_with_a_flow_source() -> None:
    import pandapipes

    net = generate_city(30, seed=3, sources=2)
    net.sources.loc[1, ["control", "mdot_kg_s"]] = ["flow", 2.0]
    ppn = to_pandapipes(net)
    pandapipes.pipeflow(ppn, mode="sequential", iter=200, use_numba=False)
    src = ppn.res_heat_consumer[ppn.heat_consumer["nuanliu_element"] == "source"].iloc[0]
    assert src["mdot_from_kg_per_s"] == pytest.approx(2.0)
    assert src["t_to_k"] == pytest.approx(393.15)  # injected at the set supply temperature
    # the pressure source holds its outlet pressure; the flow source does not
    outlet = int(ppn.circ_pump_pressure.loc[0, "flow_junction"])
    assert ppn.res_junction.loc[outlet, "p_bar"] == pytest.approx(
        net.sources.loc[0, "supply_pressure_bar"]
    )


def test_pandapipes_export_explains_what_it_cannot_map() -> None:
    net = generate_city(20, seed=1, sources=2)
    with pytest.raises(InvalidInput, match="control 'heat'.*heat_source_return_temp_c"):
        to_pandapipes(net)
    tiny = tiny_network()
    tiny.stations.loc[0, "heat_demand_w"] = float("nan")
    with pytest.raises(InvalidInput, match="station st1.*heat_demand_w"):
        to_pandapipes(tiny)


def test_native_pandapipes_net_is_imported() -> None:
    import pandapipes as pp

    ppn = pp.create_empty_network(fluid="water")
    j = pp.create_junctions(ppn, 5, pn_bar=5, tfluid_k=363.15)
    pp.create_circ_pump_const_pressure(ppn, j[4], j[0], p_flow_bar=6, plift_bar=3, t_flow_k=363.15)
    pp.create_pipe_from_parameters(ppn, j[0], j[1], length_km=0.5, inner_diameter_mm=100)
    pp.create_heat_consumer(ppn, j[1], j[2], qext_w=2e5, treturn_k=323.15)
    pp.create_pipe_from_parameters(ppn, j[2], j[3], length_km=0.5, inner_diameter_mm=100)
    pp.create_pump_from_parameters(ppn, j[3], j[4], "p", poly_coefficents=[0.5])
    net = from_pandapipes(ppn)
    assert net.sources.loc[
        0, ["control", "supply_pressure_bar", "return_pressure_bar"]
    ].tolist() == ["pressure", 6.0, 3.0]
    assert net.consumers.loc[0, "return_temp_c"] == pytest.approx(50.0)
    assert net.pipes["length_m"].tolist() == pytest.approx([500.0, 500.0])
    assert net.pipes["side"].tolist() == ["supply", "return"]  # inferred from the pump
    assert net.pumps.loc[0, ["control", "lift_bar"]].tolist() == ["lift", 0.5]
    pp.create_ext_grid(ppn, j[0], p_bar=5, t_k=350)
    with pytest.raises(InvalidInput, match="ext_grid"):
        from_pandapipes(ppn)


# -- fast readers and the columnar format ---------------------------------------------------


@pytest.mark.parametrize("name", ["city.geojson", "city.parquet"])
def test_large_generated_city_round_trips_exactly(tmp_path: Path, name: str) -> None:
    net = generate_city(2_000, seed=11, sources=2, zero_demand_fraction=0.1)
    net.pipes.loc[::7, "dn_mm"] = math.nan  # NaN scattered through a column
    assert_same(net, read_network(write_network(net, tmp_path / name)))


def test_parquet_is_one_small_file_that_other_tools_read(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    net = generate_city(300, seed=2)
    path = write_network(net, tmp_path / "city.parquet")
    geo = write_network(net, tmp_path / "city.geojson")
    assert path.stat().st_size * 5 < geo.stat().st_size
    df = pq.read_table(path).to_pandas()
    pipes = df[df["element"] == "pipe"]
    assert pipes["pipe_id"].tolist() == net.pipes["pipe_id"].tolist()
    assert pipes["length_m"].tolist() == net.pipes["length_m"].tolist()
    assert (df["element"] == "consumer").sum() == 300


def test_parquet_keeps_special_floats_extras_and_clashing_column_types(tmp_path: Path) -> None:
    net = tiny_network()
    net.pipes["length_m"] = [1e-300, 5e300, 0.1 + 0.2, 7.0]
    net.junctions.loc[0, "x"] = -0.0
    net.sources.loc[0, "capacity_w"] = math.inf
    net.pipes["tag"] = ["a", "b", "", "é"]  # extra text column
    net.pipes["install_year"] = np.array([1990, 2001, 2015, 2020], dtype=np.int64)
    net.consumers["tag"] = [1.5, math.nan]  # same name, other type, in another kind
    net.valves["note"] = [{"by": "GIS", "layers": [1, 2]}]  # not Arrow-typable: JSON text
    net.meta["nested"] = {"list": [1, 2.5, "三"], "flag": True}
    back = read_network(write_network(net, tmp_path / "n.parquet"))
    assert_same(net, back)
    assert math.copysign(1.0, back.junctions.loc[0, "x"]) == -1.0
    assert back.sources.loc[0, "capacity_w"] == math.inf
    assert back.pipes["install_year"].dtype == np.int64
    assert back.pipes["tag"].tolist() == ["a", "b", "", "é"]
    assert back.consumers["tag"].iloc[0] == 1.5 and math.isnan(back.consumers["tag"].iloc[1])
    assert back.valves.loc[0, "note"] == {"by": "GIS", "layers": [1, 2]}


def test_results_file_is_not_taken_for_a_network(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "results.parquet"
    pq.write_table(pa.table({"element": ["pipes"], "element_id": ["p1"]}), path)
    with pytest.raises(InvalidInput, match=r"results\.parquet: not a Nuanliu network"):
        read_network(path)
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInput, match=r"junk\.parquet: cannot read Parquet"):
        read_network(tmp_path / "junk.parquet")


def test_readers_follow_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A column added to the schema flows through every native format unedited."""
    from nuanliu.network.schema import Column

    pn = Column("pn_bar", "float", "bar", 16.0, "Pressure rating.", gt=0.0)
    monkeypatch.setitem(SCHEMA, "pipes", (*SCHEMA["pipes"], pn))
    net = tiny_network()
    assert net.pipes["pn_bar"].tolist() == [16.0] * 4
    net.pipes.loc[1, "pn_bar"] = 25.0
    for name in ("n.geojson", "n.parquet", "bundle"):
        back = read_network(write_network(net, tmp_path / name))
        assert_same(net, back)
        assert back.pipes["pn_bar"].tolist() == [16.0, 25.0, 16.0, 16.0]


def _features(*props: dict) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": None, "properties": p} for p in props],
    }


def test_geojson_from_other_tools_is_read_leniently(tmp_path: Path) -> None:
    # NaN literals (Python's json writes them), numbers as text, features that leave out
    # columns, and a junction whose coordinates are only in its geometry
    text = json.dumps(
        _features(
            {"element": "junction", "junction_id": "a", "x": 1.0, "y": 2.0},
            {"element": "junction", "junction_id": "b", "elevation_m": "12.5"},
            {
                "element": "pipe",
                "pipe_id": "p",
                "from_junction_id": "a",
                "to_junction_id": "b",
                "length_m": float("nan"),
                "in_service": "yes",
            },
        )
    )
    doc = json.loads(text)
    doc["features"][1]["geometry"] = {"type": "Point", "coordinates": [3.0, 4.0]}
    path = tmp_path / "other.geojson"
    path.write_text(json.dumps(doc))
    assert "NaN" in path.read_text()
    net = read_network(path)
    assert net.junctions[["x", "y"]].to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert net.junctions["elevation_m"].tolist() == [0.0, 12.5]
    assert math.isnan(net.pipes.loc[0, "length_m"]) and bool(net.pipes.loc[0, "in_service"])


def test_geojson_errors_name_file_line_and_value(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [}\n')
    with pytest.raises(InvalidInput, match=r"broken\.geojson: invalid JSON at line 2"):
        read_network(path)
    path.write_text(json.dumps(_features({"element": "pipe", "pipe_id": "p", "length_m": "long"})))
    with pytest.raises(
        InvalidInput, match=r"broken\.geojson: pipes\.length_m: not a number: 'long'"
    ):
        read_network(path)
    net = tiny_network()
    net.pipes.loc[0, "length_m"] = math.inf
    with pytest.raises(InvalidInput, match=r"pipes\.length_m: infinite"):
        write_network(net, tmp_path / "inf.geojson")


_any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(_text, _any_float, _any_float, st.booleans(), st.integers(-(2**63), 2**63 - 1)),
        min_size=0,
        max_size=6,
    ),
    consumers=st.lists(st.tuples(_text, _any_float), min_size=0, max_size=4),
    meta=st.dictionaries(
        _text,
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _floats | _text,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
            max_leaves=6,
        ),
        max_size=4,
    ),
)
def test_parquet_round_trips_anything_exactly(
    tmp_path_factory: pytest.TempPathFactory, rows: list, consumers: list, meta: dict
) -> None:
    pipes = pd.DataFrame(
        {
            "pipe_id": [f"p{i}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "length_m": [r[1] for r in rows],
            "dn_mm": [r[2] for r in rows],
            "in_service": [r[3] for r in rows],
            "asset_number": pd.Series([r[4] for r in rows], dtype=np.int64),
        }
    )
    cons = pd.DataFrame(
        {
            "consumer_id": [f"c{i}" for i in range(len(consumers))],
            "name": [c[0] for c in consumers],
            "heat_demand_w": [c[1] for c in consumers],
        }
    )
    net = Network.from_tables(name="h 网", meta=meta, pipes=pipes, consumers=cons)
    path = tmp_path_factory.mktemp("pq") / "n.parquet"
    back = read_network(write_network(net, path))
    assert_same(net, back)
    for kind in ELEMENT_KINDS:  # bit for bit, NaN, −0.0 and ±inf included
        for col in SCHEMA[kind]:
            if col.dtype == "float":
                a, b = net[kind][col.name].to_numpy(), back[kind][col.name].to_numpy()
                assert a.tobytes() == b.tobytes(), (kind, col.name)
    assert back.pipes["asset_number"].tolist() == pipes["asset_number"].tolist()


def test_parquet_from_another_schema_version(tmp_path: Path) -> None:
    """A kind the file lacks reads as empty; a kind this version lacks is refused."""
    import orjson
    import pyarrow.parquet as pq

    from nuanliu.network.io.parquet import METADATA_KEY, to_arrow

    net = tiny_network()
    table = to_arrow(net)
    info = orjson.loads(table.schema.metadata[METADATA_KEY])
    older = dict(info, kinds={k: v for k, v in info["kinds"].items() if k != "valves"})
    pq.write_table(
        table.replace_schema_metadata({METADATA_KEY: orjson.dumps(older)}), tmp_path / "old.parquet"
    )
    back = read_network(tmp_path / "old.parquet")
    assert back.valves.empty and list(back.valves.columns) == list(net.valves.columns)
    assert back.pipes.equals(net.pipes)
    newer = dict(info, kinds={**info["kinds"], "heat_pumps": info["kinds"]["valves"]})
    pq.write_table(
        table.replace_schema_metadata({METADATA_KEY: orjson.dumps(newer)}), tmp_path / "new.parquet"
    )
    with pytest.raises(InvalidInput, match="'heat_pumps' is not known"):
        read_network(tmp_path / "new.parquet")
