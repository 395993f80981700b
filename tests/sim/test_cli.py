"""``nuanliu simulate`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.network.io import write_network

from .networks import line_network

runner = CliRunner()


def test_simulate_example_writes_parquet(tmp_path: Path) -> None:
    out = tmp_path / "res.parquet"
    r = runner.invoke(app, ["simulate", "jiexiu", "--outdoor-temp", "-2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "heat delivered" in r.output and "converged" in r.output
    table = pq.read_table(out)
    df = table.to_pandas()
    assert set(df["element"]) >= {"pipes", "junctions", "stations", "sources"}
    assert (df["element"] == "stations").sum() == 109
    summary = json.loads(table.schema.metadata[b"nuanliu.summary"])
    # −2 °C with design −15 °C: (18 + 2) / (18 + 15) of the design heat
    assert abs(summary["demand_scale"] - 20.0 / 33.0) < 1e-12
    st = df[df["element"] == "stations"]
    assert abs(st["heat_w"].sum() - summary["heat_delivered_w"]) < 1e-6 * st["heat_w"].sum()


def test_simulate_network_file(tmp_path: Path) -> None:
    path = write_network(line_network(), tmp_path / "line.geojson")
    r = runner.invoke(app, ["simulate", str(path), "--outdoor-temp", "30"])
    assert r.exit_code == 0, r.output
    assert "0.000 MW" in r.output  # warm weather: no heating demand


def test_simulate_unknown_input_is_a_usage_error() -> None:
    r = runner.invoke(app, ["simulate", "no-such-network"])
    assert r.exit_code == 2
    assert "example" in r.output


def test_simulate_invalid_network_names_the_problem(tmp_path: Path) -> None:
    net = line_network()
    net.pipes.loc[0, "inner_diameter_m"] = -1.0
    path = write_network(net, tmp_path / "bad.geojson")
    r = runner.invoke(app, ["simulate", str(path)])
    assert r.exit_code == 2
    assert "P0S" in r.output
