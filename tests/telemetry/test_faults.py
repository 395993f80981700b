"""Fault detection finds the simulator's injected faults (precision and recall), raises
alerts with the evidence attached, and survives the real Tartu series."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nuanliu.store import Store
from nuanliu.telemetry import faults
from nuanliu.telemetry import simulate as sim
from nuanliu.telemetry.ingest import ingest_telemetry_file
from nuanliu.telemetry.jobs import fault_detection
from nuanliu.telemetry.store import Site, save_sites, write_batch

START = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=8)  # local midnight
DAYS = 28


@pytest.fixture(scope="module")
def twin() -> tuple[object, sim.TwinTable]:
    from nuanliu.network.examples.tuoketuo import build_tuoketuo_hohhot

    net = build_tuoketuo_hohhot()
    return net, sim.twin_table(net, [-24, -12, 0, 8])


def _outdoor(n: int) -> np.ndarray:
    h = np.arange(n)
    return -8 + 6 * np.sin(2 * np.pi * (h % 24 - 9) / 24) + 4 * np.sin(2 * np.pi * h / 144)


def _simulate(store: Store, twin: tuple[object, sim.TwinTable], seed: int) -> list:
    net, table = twin
    stations = [s for s in sim.twin_sites(net, table) if s.kind == "station"][:20]
    end = START + timedelta(days=DAYS)
    times = pd.date_range(START, end, freq="1h", inclusive="left")
    labels = sim.random_faults(stations, START, end, share=0.5, seed=seed)
    tbl = sim.simulate(table, stations, times, _outdoor(len(times)), faults=labels, seed=seed)
    save_sites(store, stations)
    write_batch(store, tbl)
    return labels


def test_detection_finds_injected_faults(store: Store, twin) -> None:
    labels = _simulate(store, twin, seed=5)
    assert {f.fault_class for f in labels} == set(sim.FAULT_CLASSES)
    found = faults.detect(store, start=START + timedelta(days=7), end=START + timedelta(days=DAYS))
    result = faults.score(found, labels)
    print("precision/recall", json.dumps(result))
    assert result["precision"] >= 0.9
    assert result["recall"] >= 0.8
    for cls, counts in result["per_class"].items():
        assert counts["true"] >= 1, cls


def test_job_raises_alerts_with_evidence(store: Store, twin) -> None:
    labels = _simulate(store, twin, seed=7)
    fault = max(labels, key=lambda f: f.end)
    now = fault.start + timedelta(days=2)
    summary = fault_detection(store, now=now)
    assert summary["alerts_raised"] >= 1
    with store.read() as q:
        rows = q.dicts(
            "SELECT f.fault_class, f.evidence_json, a.rule_id, a.message_en FROM tel_faults f"
            " JOIN mon_alerts a ON a.alert_id = f.alert_id WHERE f.site_id = ?",
            [fault.site_id],
        )
    assert any(r["fault_class"] == fault.fault_class for r in rows)
    row = next(r for r in rows if r["fault_class"] == fault.fault_class)
    evidence = json.loads(row["evidence_json"])
    assert len(evidence["series"]["hour_ts"]) >= 12
    assert row["rule_id"] == f"tel-fault-{fault.fault_class}"
    again = fault_detection(store, now=now)
    assert again["alerts_raised"] == 0  # idempotent at the same now
    later = fault_detection(store, now=fault.end + timedelta(days=3))
    assert later["alerts_cleared"] >= 1


def test_tartu_full_series_runs(store: Store, shared_data: Path) -> None:
    path = shared_data / "meters" / "tartu" / "tartu_substation_10259_hourly_2019.csv"
    if not path.exists():
        pytest.skip("shared Tartu data not present")
    save_sites(
        store,
        [Site("10259", "station", "塔尔图10259", "Tartu 10259", design_return_c=40.0)],
    )
    rep = ingest_telemetry_file(store, path, profile="kamstrup")
    assert rep.balanced and rep.duplicates >= 264 * 9 - 9 * 2
    found = faults.detect(
        store, start=datetime(2019, 1, 1, tzinfo=UTC), end=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert all(f.site_id == "10259" for f in found)
    summary = fault_detection(store, now=datetime(2019, 12, 31, tzinfo=UTC), days=30)
    assert summary["findings"] >= 0
