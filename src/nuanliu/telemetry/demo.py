"""Telemetry for the demo: the twin's stations and sources, two weeks of simulated
hourly telemetry with a few labelled faults, and a fault-detection run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.telemetry import simulate as sim
from nuanliu.telemetry.ingest import TelemetryIngestor
from nuanliu.telemetry.store import list_sites, save_sites

DEMO_STATIONS = 20
DEMO_DAYS = 14.0


def outdoor_series(times: pd.DatetimeIndex) -> np.ndarray:
    """Hohhot in early winter: a daily swing of ±6 K around −8 °C and a 6-day weather cycle."""
    hours = (times - times[0]).total_seconds().to_numpy() / 3600
    local_hour = np.asarray(times.tz_convert("Asia/Shanghai").hour, dtype=float)
    return -8 + 6 * np.sin(2 * np.pi * (local_hour - 9) / 24) + 4 * np.sin(2 * np.pi * hours / 144)


def simulate_into(
    store: Any,
    *,
    end: datetime,
    days: float = DEMO_DAYS,
    stations: int = DEMO_STATIONS,
    fault_share: float = 0.3,
    seed: int = 0,
    network: Any = None,
) -> dict[str, Any]:
    """Register the twin's sites, simulate ``days`` of hourly telemetry up to ``end`` and
    ingest it through the telemetry ingest path. Returns the report and the labels."""
    if network is None:
        from nuanliu.network.examples.tuoketuo import build_tuoketuo_hohhot

        network = build_tuoketuo_hohhot()
    twin = sim.twin_table(network, [-24, -12, 0, 8])
    sites = link_registry(store, sim.twin_sites(network, twin))
    chosen = [s for s in sites if s.kind == "station"][:stations] + [
        s for s in sites if s.kind == "source"
    ]
    save_sites(store, chosen)
    stop = pd.Timestamp(end).floor("h")
    times = pd.date_range(
        stop - pd.Timedelta(hours=int(days * 24)), stop, freq="1h", inclusive="left"
    )
    start = times[0].to_pydatetime()
    labels = sim.random_faults(chosen, start, stop.to_pydatetime(), share=fault_share, seed=seed)
    tbl = sim.simulate(twin, chosen, times, outdoor_series(times), faults=labels, seed=seed)
    sim.save_labels(store, labels)
    ing = TelemetryIngestor(store)
    report = ing.ingest(*_as_batch(tbl), transport="simulator")
    return {
        "report": report,
        "labels": [
            {
                "site_id": f.site_id,
                "fault_class": f.fault_class,
                "start": f.start.isoformat(),
                "end": f.end.isoformat(),
                "magnitude": f.magnitude,
            }
            for f in labels
        ],
    }


def link_registry(store: Any, sites: list[Any]) -> list[Any]:
    """Stations of the registry that stand for twin stations (``network_station_id``)
    give their id and name to the telemetry site, so the site is scoped like the
    station and its alerts land on it."""
    from dataclasses import replace

    with store.read() as q:
        rows = q.all(
            "SELECT network_station_id, station_id, name_zh, name_en FROM stations"
            " WHERE network_station_id IS NOT NULL ORDER BY station_id"
        )
    by_net: dict[str, tuple[str, str, str | None]] = {}
    for net_id, sid, zh, en in rows:
        by_net.setdefault(str(net_id), (str(sid), zh, en))
    out = []
    for site in sites:
        hit = by_net.get(site.network_element_id or "") if site.kind == "station" else None
        if hit is None:
            out.append(site)
        else:
            sid, zh, en = hit
            out.append(replace(site, site_id=sid, station_id=sid, name_zh=zh, name_en=en))
    return out


def _as_batch(tbl: Any) -> tuple[Any, list[Any]]:
    from nuanliu.ingest.model import RawBatch

    cols = {f: tbl.column(f) for f in ("site_id", "ts", "point", "value")}
    return RawBatch(cols, lambda i: f"simulator:{i + 1}", lambda i: ""), []


def seed_demo(store: Any, *, network: Any, now: datetime) -> list[tuple[str, str]]:
    """Idempotent: sites and history are added once; a second run adds nothing."""
    from nuanliu.telemetry.jobs import fault_detection

    if not list_sites(store, kind="station"):
        simulate_into(store, end=now, network=network)
        fault_detection(store, now=now, days=7)
    links = [("Station telemetry 换热站遥测", "/telemetry")]
    with store.read() as q:  # a station with a detected fault shows the most
        faulty = q.all("SELECT MIN(site_id) FROM tel_faults WHERE is_open")[0][0]
    stations = list_sites(store, kind="station")
    shown = faulty or (stations[0].site_id if stations else None)
    if shown:
        links.append((f"{shown} telemetry 遥测", f"/stations/{shown}/telemetry"))
    sources = list_sites(store, kind="source")
    if sources:
        links.append((f"Source {sources[0].site_id}", f"/sources/{sources[0].site_id}"))
    return links


__all__ = ["seed_demo", "simulate_into", "timedelta"]
