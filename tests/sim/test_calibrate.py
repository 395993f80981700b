"""Calibration recovers known perturbed parameters from the twin's own measurements."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.network.generate import generate_city
from nuanliu.network.model import Network
from nuanliu.sim.calibrate import Observations, calibrate, predict, with_multipliers
from nuanliu.sim.compile import compile_network


def city_with_stations(consumers: int = 40, seed: int = 3) -> Network:
    """A generated city whose buildings are substations with a UA (60/45 °C secondary)."""
    net = generate_city(consumers, seed=seed)
    c = net.consumers
    q = c["heat_demand_w"].to_numpy(float)
    lmtd = (60.0 - 5.0) / np.log(60.0 / 5.0)  # 120 → 50 °C primary against 60/45 °C
    stations = pd.DataFrame(
        {
            "station_id": c["consumer_id"].str.replace("C", "S"),
            "name": c["name"],
            "kind": "substation",
            "primary_supply_junction_id": c["supply_junction_id"],
            "primary_return_junction_id": c["return_junction_id"],
            "heat_demand_w": q,
            "secondary_supply_temp_c": 60.0,
            "secondary_return_temp_c": 45.0,
            "ua_w_per_k": q / lmtd,
        }
    )
    tables = {**net.tables, "consumers": net.consumers.iloc[0:0], "stations": stations}
    return Network.from_tables(name=net.name, meta=net.meta, **tables)


def synthetic_measurements(net: Network, truth: dict, hours: int = 24, noise_k: float = 0.02):
    cn = compile_network(net)
    times = pd.date_range("2025-01-10", periods=hours, freq="1h", tz="UTC")
    sites = list(cn.stations["ids"]) + list(cn.lifts["ids"])
    design = cn.stations["heat_demand_w"]
    share = 0.45 + 0.25 * np.sin(np.arange(hours) / 4.0)
    heat = np.full((hours, len(sites)), np.nan)
    heat[:, : len(design)] = share[:, None] * design[None, :] / 1e3
    supply = np.full((hours, len(sites)), np.nan)
    supply[:, -1] = 105.0 + 10.0 * np.cos(np.arange(hours) / 6.0)
    nan = np.full((hours, len(sites)), np.nan)
    template = Observations(times, sites, {"heat_kw": heat, "supply_temp_c": supply, "dp_bar": nan})
    pred = predict(with_multipliers(cn, truth), template, 3600.0)
    rng = np.random.default_rng(0)
    rows = []
    for j, s in enumerate(sites):
        frame = pd.DataFrame({"site_id": s, "ts": times})
        for q, v in pred.items():
            col = v[:, j]
            if q.endswith("_c"):
                col = col + rng.normal(0.0, noise_k, len(col))
            frame[q] = col
        frame["heat_kw"] = heat[:, j] if j < len(design) else pred["heat_kw"][:, j]
        if j == len(sites) - 1:
            frame["supply_temp_c"] = supply[:, j]
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


@pytest.mark.slow
def test_calibration_recovers_perturbed_heat_loss_and_station_ua() -> None:
    net = city_with_stations()
    truth = {"heat_loss": 1.6, "station_ua": 0.7}
    meas = synthetic_measurements(net, truth)
    res = calibrate(net, meas, parameters=("heat_loss", "station_ua"))
    assert res.multipliers["heat_loss"] == pytest.approx(1.6, rel=0.05)
    assert res.multipliers["station_ua"] == pytest.approx(0.7, rel=0.02)
    fit = res.fit.set_index("quantity")
    assert fit.loc["return_temp_c", "rmse_after"] < 0.1 < fit.loc["return_temp_c", "rmse_before"]
    # the fitted values land in a new network; the input network is unchanged
    assert res.network.stations["ua_w_per_k"].iloc[0] == pytest.approx(
        net.stations["ua_w_per_k"].iloc[0] * res.multipliers["station_ua"]
    )
    assert res.network.meta["calibration"]["heat_loss"] == res.multipliers["heat_loss"]


@pytest.mark.slow
def test_per_station_ua_recovers_one_fouled_exchanger() -> None:
    net = city_with_stations(consumers=20, seed=5)
    cn = compile_network(net)
    each = np.ones(len(cn.stations["ids"]))
    each[3] = 0.5  # one fouled exchanger
    meas = synthetic_measurements(net, {"station_ua_each": each}, noise_k=0.0)
    res = calibrate(net, meas, parameters=("station_ua",), per_station_ua=True)
    per = res.station_ua.set_index("station_id")["multiplier"] * res.multipliers["station_ua"]
    assert per[cn.stations["ids"][3]] == pytest.approx(0.5, rel=0.02)
    others = per.drop(cn.stations["ids"][3])
    assert np.allclose(others, 1.0, rtol=0.02)


@pytest.mark.slow
def test_roughness_is_recovered_from_differential_pressures() -> None:
    net = city_with_stations(consumers=20, seed=8)
    meas = synthetic_measurements(net, {"roughness": 3.0}, hours=6)
    res = calibrate(net, meas, parameters=("roughness",))
    assert res.multipliers["roughness"] == pytest.approx(3.0, rel=0.03)
    fit = res.fit.set_index("quantity")
    assert fit.loc["dp_bar", "rmse_after"] < 0.1 * fit.loc["dp_bar", "rmse_before"]


def test_measurements_naming_unknown_sites_are_refused() -> None:
    net = city_with_stations(consumers=10)
    meas = pd.DataFrame(
        {"site_id": ["NOPE"], "ts": [pd.Timestamp("2025-01-10", tz="UTC")], "return_temp_c": [40.0]}
    )
    with pytest.raises(InvalidInput, match="NOPE"):
        calibrate(net, meas)


def test_network_versions_are_added_never_overwritten(store) -> None:
    from nuanliu.errors import NotFound
    from nuanliu.sim.versions import (
        list_network_versions,
        load_network_version,
        save_network_version,
    )

    net = city_with_stations(consumers=10)
    v1 = save_network_version(store, net, origin="import")
    tables = {k: v.copy() for k, v in net.tables.items()}
    tables["pipes"]["u_w_per_m_k"] = tables["pipes"]["u_w_per_m_k"] * 1.5
    fitted = Network.from_tables(name=net.name, meta=net.meta, **tables)
    v2 = save_network_version(
        store, fitted, origin="calibration", params={"heat_loss": 1.5}, parent_version=v1
    )
    assert (v1, v2) == (1, 2)
    old = load_network_version(store, net.name, 1)
    new = load_network_version(store, net.name)
    assert np.allclose(old.pipes["u_w_per_m_k"], net.pipes["u_w_per_m_k"])
    assert np.allclose(new.pipes["u_w_per_m_k"], 1.5 * net.pipes["u_w_per_m_k"])
    listed = list_network_versions(store, net.name)
    assert listed["version"].tolist() == [1, 2]
    assert listed["origin"].tolist() == ["import", "calibration"]
    with pytest.raises(NotFound):
        save_network_version(store, fitted, origin="calibration", parent_version=9)
    with pytest.raises(NotFound):
        load_network_version(store, net.name, 3)


@pytest.mark.slow
def test_calibrate_command_stores_a_new_version(tmp_path) -> None:
    from typer.testing import CliRunner

    from nuanliu.cli import app
    from nuanliu.network.io import write_network
    from nuanliu.sim.versions import list_network_versions
    from nuanliu.store import open_store

    net = city_with_stations(consumers=15, seed=9)
    path = tmp_path / "city.geojson"
    write_network(net, path)
    meas = synthetic_measurements(net, {"station_ua": 0.8}, hours=8)
    csv = tmp_path / "meas.csv"
    meas.to_csv(csv, index=False)
    url = f"duckdb:///{tmp_path / 'db.duckdb'}"
    args = ["simulate", "calibrate", str(path), "--measurements", str(csv)]
    args += ["--parameters", "station_ua", "--db", url]
    r = CliRunner().invoke(app, args, terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "station_ua: × 0.8" in r.output
    with open_store(url) as store:
        versions = list_network_versions(store, net.name)
    assert versions["origin"].tolist() == ["calibration"]
