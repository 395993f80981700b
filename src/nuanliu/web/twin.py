"""The network twin as the dashboard sees it: the model, the weather now, station results.

The network is loaded once per application (``NUANLIU_NETWORK``: an example name or a
path; default the Tuoketuo–Hohhot example) and compiled once; the steady state is solved
at the current outdoor temperature (the shipped typical-year weather) and kept for ten
minutes per half degree, so a station page costs a dictionary lookup.
"""

from __future__ import annotations

import logging
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from nuanliu.web.cache import TTLCache

log = logging.getLogger(__name__)

DEFAULT_NETWORK = "tuoketuo-hohhot"
SOLVE_CACHE = TTLCache(ttl_s=600.0, max_entries=16)


def network_name() -> str:
    return os.environ.get("NUANLIU_NETWORK", DEFAULT_NETWORK)


def get_network(app: FastAPI) -> Any | None:
    """The application's network model, loaded on first use; None when unavailable."""
    state = app.state
    if getattr(state, "web_network_loaded", False):
        return state.web_network
    net = None
    name = network_name()
    try:
        if Path(name).exists():
            from nuanliu.network.io import read_network

            net = read_network(name)
        else:
            from nuanliu.network.examples import load_example

            net = load_example(name)
    except Exception as exc:  # the dashboard works without a twin
        log.warning("network %r unavailable for the dashboard: %s", name, exc)
    state.web_network = net
    state.web_network_loaded = True
    return net


def set_network(app: FastAPI, net: Any) -> None:
    """Use ``net`` as the twin (the demo passes the network it built the registry from)."""
    app.state.web_network = net
    app.state.web_network_loaded = True


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


def _compiled(app: FastAPI, net: Any) -> Any:
    compiled = getattr(app.state, "web_compiled", None)
    if compiled is None or getattr(app.state, "web_compiled_for", None) is not net:
        from nuanliu.sim import compile_network

        compiled = compile_network(net)
        app.state.web_compiled = compiled
        app.state.web_compiled_for = net
    return compiled


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
            from nuanliu.sim import solve_steady

            res = solve_steady(_compiled(app, net), outdoor_temp_c=t_out, raise_on_failure=False)
        except Exception as exc:  # show the page without the twin
            log.warning("twin solve failed at %.1f °C: %s", t_out, exc)
            return None
        return {
            "outdoor_temp_c": t_out,
            "status": str(getattr(res, "status", "")),
            "stations": _station_rows(res.stations),
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


def _station_rows(df: Any) -> dict[str, dict[str, Any]]:
    """Per station: primary in/out temperatures and flow, secondary temperatures and
    flow, heat transferred (columns of ``SteadyResult.stations``)."""
    out: dict[str, dict[str, Any]] = {}
    frame = df.reset_index() if "station_id" not in df.columns else df
    for row in frame.to_dict("records"):
        heat_w = _pick(row, "heat_w")
        out[str(row["station_id"])] = {
            "primary_supply_temp_c": _pick(row, "temp_in_c"),
            "primary_return_temp_c": _pick(row, "temp_out_c"),
            "secondary_supply_temp_c": _pick(row, "secondary_supply_temp_c"),
            "secondary_return_temp_c": _pick(row, "secondary_return_temp_c"),
            "mdot_kg_s": _pick(row, "mdot_kg_s"),
            "secondary_mdot_kg_s": _pick(row, "secondary_mdot_kg_s"),
            "heat_mw": heat_w / 1e6 if heat_w is not None else None,
        }
    return out
