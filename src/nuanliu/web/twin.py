"""The network twin as the dashboard sees it: the model, the weather now, station results.

The network is loaded once per process and name (``NUANLIU_NETWORK``: an example name or
a path; default the Tuoketuo–Hohhot example). The steady state is solved at the current
outdoor temperature (the shipped typical-year weather) **on the heating curves**: every
source's supply and every station's secondary supply/return follow quality regulation
(``buildings.heating_curve``) from their design values at the design outdoor
temperature — at −2 °C the primary runs near 88 °C, not its 130 °C design. Results are
kept per half degree; a background thread (started with the first page) solves the
current temperature at start-up and again whenever it changes, so a station page never
waits and never says "no result yet" once the first solve (about a second) is done.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from nuanliu.web.cache import TTLCache

log = logging.getLogger(__name__)

DEFAULT_NETWORK = "tuoketuo-hohhot"
SOLVE_CACHE = TTLCache(ttl_s=3600.0, max_entries=32)
# Design point of the curves: Hohhot's design outdoor temperature (GB 50736) and the
# primary design return the sources' supply curve assumes.
DESIGN_OUTDOOR_C = -17.0
PRIMARY_DESIGN_RETURN_C = 50.0
WARM_EVERY_S = 60.0
_NETWORKS: dict[str, Any] = {}
_NETWORKS_LOCK = threading.Lock()


def network_name() -> str:
    return os.environ.get("NUANLIU_NETWORK", DEFAULT_NETWORK)


def get_network(app: FastAPI) -> Any | None:
    """The application's network model, loaded on first use; None when unavailable."""
    state = app.state
    if getattr(state, "web_network_loaded", False):
        return state.web_network
    name = network_name()
    with _NETWORKS_LOCK:  # one copy per process: every app shares it and its results
        if name not in _NETWORKS:
            net = None
            try:
                if Path(name).exists():
                    from nuanliu.network.io import read_network

                    net = read_network(name)
                else:
                    from nuanliu.network.examples import load_example

                    net = load_example(name)
            except Exception as exc:  # the dashboard works without a twin
                log.warning("network %r unavailable for the dashboard: %s", name, exc)
            _NETWORKS[name] = net
    state.web_network = _NETWORKS[name]
    state.web_network_loaded = True
    return state.web_network


def set_network(app: FastAPI, net: Any) -> None:
    """Use ``net`` as the twin (the demo passes the network it built the registry from)."""
    app.state.web_network = net
    app.state.web_network_loaded = True
    ensure_warm(app)  # solve now, before the first visit


def outdoor_temp_c(at: datetime) -> float:
    """Outdoor dry-bulb now, from the shipped Hohhot typical year."""
    import numpy as np

    weather = _weather()
    ns = np.array([int(at.timestamp() * 1e9)], dtype=np.int64)
    return float(weather.at(ns)["temp_c"][0])


_WEATHER: list[Any] = []


def _weather() -> Any:
    if not _WEATHER:
        from nuanliu.weather import TypicalYearWeather

        _WEATHER.append(TypicalYearWeather.shipped("hohhot"))
    return _WEATHER[0]


def on_curves(net: Any, t_out: float) -> tuple[Any, dict[str, float]]:
    """A copy of ``net`` whose stations' secondary set-points follow their heating curve
    at ``t_out``, and each source's supply set-point on the primary curve."""
    from nuanliu.buildings.heating_curve import HeatingCurve

    def curve(supply_c: float, return_c: float) -> HeatingCurve | None:
        if not (math.isfinite(supply_c) and math.isfinite(return_c)) or supply_c <= return_c:
            return None
        if return_c <= 19.0:  # below a room: no radiator curve; keep the set-point
            return None
        return HeatingCurve.quality_regulation(
            design_outdoor_c=DESIGN_OUTDOOR_C, design_supply_c=supply_c, design_return_c=return_c
        )

    out = net.copy()
    st = out.stations
    sup, ret = [], []
    for s_c, r_c in zip(st["secondary_supply_temp_c"], st["secondary_return_temp_c"], strict=True):
        c = curve(float(s_c), float(r_c))
        sup.append(float(c.supply_temp_c(t_out)) if c else s_c)
        ret.append(float(c.return_temp_c(t_out)) if c else r_c)
    st["secondary_supply_temp_c"] = sup
    st["secondary_return_temp_c"] = ret
    sources: dict[str, float] = {}
    for sid, s_c in zip(out.sources["source_id"], out.sources["supply_temp_c"], strict=True):
        c = curve(float(s_c), PRIMARY_DESIGN_RETURN_C)
        if c is not None:
            sources[str(sid)] = float(c.supply_temp_c(t_out))
    return out, sources


def station_results(app: FastAPI, at: datetime, *, wait: bool = False) -> dict[str, Any] | None:
    """Steady-state results per network station at the outdoor temperature of ``at``.

    Returns ``{"outdoor_temp_c", "status", "stations": {network_station_id: {...}}}`` or
    None when there is no network, the solver failed, or (``wait=False``) the first solve
    at this temperature is still running in the background — a page never waits for it.
    """
    net = get_network(app)
    if net is None:
        return None
    try:
        t_out = round(outdoor_temp_c(at) * 2.0) / 2.0
    except Exception as exc:
        log.warning("no outdoor temperature for the twin: %s", exc)
        return None

    def solve() -> dict[str, Any] | None:
        try:
            from nuanliu.sim import compile_network, solve_steady

            curved, supply = on_curves(net, t_out)
            res = solve_steady(
                compile_network(curved),
                outdoor_temp_c=t_out,
                raise_on_failure=False,
                supply_temp_c=supply or None,
            )
        except Exception as exc:  # show the page without the twin
            log.warning("twin solve failed at %.1f °C: %s", t_out, exc)
            return None
        return {
            "outdoor_temp_c": t_out,
            "source_supply_c": supply,
            "status": str(getattr(res, "status", "")),
            "stations": _station_rows(res.stations, net.stations),
        }

    key = (id(net), t_out)
    if wait:
        return SOLVE_CACHE.get_or_compute(key, solve)
    return SOLVE_CACHE.peek_or_start(key, solve)


def _pick(row: dict[str, Any], *names: str) -> float | None:
    for name in names:
        value = row.get(name)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            return float(value)
    return None


def curve_points(supply_c: Any, return_c: Any) -> dict[str, Any]:
    """The quality-regulation curve of a station's design point, for a chart."""
    from nuanliu.buildings.heating_curve import HeatingCurve

    try:
        c = HeatingCurve.quality_regulation(
            design_outdoor_c=DESIGN_OUTDOOR_C,
            design_supply_c=float(supply_c),
            design_return_c=float(return_c),
        )
    except Exception:  # no usable design point: no curve
        return {"supply": [], "return": []}
    xs = [float(x) for x in range(int(DESIGN_OUTDOOR_C) - 3, 16)]
    return {
        "supply": [[x, round(float(c.supply_temp_c(x)), 1)] for x in xs],
        "return": [[x, round(float(c.return_temp_c(x)), 1)] for x in xs],
    }


def _station_rows(df: Any, design: Any = None) -> dict[str, dict[str, Any]]:
    """Per station: primary in/out temperatures and flow, secondary temperatures and
    flow, heat transferred (columns of ``SteadyResult.stations``), and the network's
    design secondary temperatures and heated area (``design``: its stations table)."""
    out: dict[str, dict[str, Any]] = {}
    frame = df.reset_index() if "station_id" not in df.columns else df
    info = {} if design is None else design.set_index("station_id").to_dict("index")
    for row in frame.to_dict("records"):
        heat_w = _pick(row, "heat_w")
        d = info.get(row["station_id"], {})
        out[str(row["station_id"])] = {
            "design_secondary_supply_c": _pick(d, "secondary_supply_temp_c"),
            "design_secondary_return_c": _pick(d, "secondary_return_temp_c"),
            "floor_area_m2": _pick(d, "floor_area_m2"),
            "primary_supply_temp_c": _pick(row, "temp_in_c"),
            "primary_return_temp_c": _pick(row, "temp_out_c"),
            "secondary_supply_temp_c": _pick(row, "secondary_supply_temp_c"),
            "secondary_return_temp_c": _pick(row, "secondary_return_temp_c"),
            "mdot_kg_s": _pick(row, "mdot_kg_s"),
            "secondary_mdot_kg_s": _pick(row, "secondary_mdot_kg_s"),
            "heat_mw": heat_w / 1e6 if heat_w is not None else None,
        }
    return out


def ensure_warm(app: FastAPI) -> None:
    """Start (once per application) the thread that keeps the twin solved at the current
    outdoor temperature: now, and again whenever the half-degree bucket changes."""
    if getattr(app.state, "twin_warmer", None) is not None:
        return
    ref = weakref.ref(app)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            target = ref()
            if target is None:  # the application is gone
                return
            try:
                station_results(target, datetime.now(UTC), wait=True)
            except Exception:  # keep trying; the page shows the twin as unavailable
                log.exception("twin warm-up failed")
            del target
            stop.wait(WARM_EVERY_S)

    thread = threading.Thread(target=run, name="twin-warmer", daemon=True)
    app.state.twin_warmer = (thread, stop)
    thread.start()
