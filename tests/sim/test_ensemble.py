"""Season ensembles give the same numbers on a 2-worker Dask cluster as in-process."""

from __future__ import annotations

import pandas as pd
import pytest

from nuanliu.network.generate import generate_city
from nuanliu.sim.ensemble import SeasonCase, run_ensemble


@pytest.mark.slow
def test_ensemble_on_two_dask_workers_equals_the_in_process_run() -> None:
    net = generate_city(60, seed=7)
    cases = [
        SeasonCase("typical", options={"flats_per_element": 2}),
        SeasonCase("harsh", outdoor_offset_k=-4.0, options={"flats_per_element": 2}),
        SeasonCase("mild", outdoor_offset_k=3.0, options={"flats_per_element": 2}),
    ]
    kw = {"start": "2025-01-10", "end": "2025-01-11"}
    local = run_ensemble(net, cases, workers=0, **kw)
    dask = run_ensemble(net, cases, workers=2, **kw)
    pd.testing.assert_frame_equal(local, dask)
    by = local.set_index("label")
    # a harsher winter needs more heat, a milder one less
    assert by.loc["harsh", "heat_produced_j"] > by.loc["typical", "heat_produced_j"]
    assert by.loc["mild", "heat_produced_j"] < by.loc["typical", "heat_produced_j"]


def test_ensemble_command_in_process(tmp_path) -> None:
    from typer.testing import CliRunner

    from nuanliu.cli import app
    from nuanliu.network.io import write_network

    path = tmp_path / "city.geojson"
    write_network(generate_city(20, seed=2), path)
    out = tmp_path / "e.csv"
    args = ["simulate", "ensemble", str(path), "--start", "2025-01-10", "--end"]
    args += ["2025-01-10 04:00", "--outdoor-offsets", "-3,3", "--workers", "0", "-o", str(out)]
    r = CliRunner().invoke(app, args, terminal_width=200)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out)
    assert df["label"].tolist() == ["offset -3 K", "offset +3 K"]
    assert df["heat_produced_j"].iloc[0] > df["heat_produced_j"].iloc[1]
