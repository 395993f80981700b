"""The schematic map: network lines, stations and buildings on lon/lat coordinates.

Only stations and buildings above a household the user may see are sent; network
pipes are sent as anonymous segments (no ids or names) and not at all to residents.
"""

from __future__ import annotations

import math
import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from nuanliu.api.deps import StoreDep
from nuanliu.web.auth import PageUser
from nuanliu.web.cache import TTLCache
from nuanliu.web.context import base_context, thresholds
from nuanliu.web.data import names, rollup, scope_key, snapshot, store_key
from nuanliu.web.i18n import choose_lang, local_name, translate
from nuanliu.web.pages import page_gate
from nuanliu.web.templating import render
from nuanliu.web.twin import get_network

router = APIRouter(include_in_schema=False)
PIPE_CACHE = TTLCache(ttl_s=3600.0, max_entries=4)
MAP_CACHE = TTLCache(ttl_s=60.0, max_entries=256)


def tile_url() -> str:
    """Optional raster tile URL template (``{z}/{x}/{y}``); off unless configured."""
    return os.environ.get("NUANLIU_MAP_TILE_URL", "")


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, user: PageUser) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    return render(request, "map.html", {**base_context(request, user, "map")})


def _finite(*values: Any) -> bool:
    return all(v is not None and isinstance(v, int | float) and math.isfinite(v) for v in values)


def network_segments(app: Any) -> list[list[float]]:
    """Supply-side pipes as [lon1, lat1, lon2, lat2] when the network has lon/lat."""
    net = get_network(app)
    if net is None or str(net.meta.get("crs", "")).upper() != "EPSG:4326":
        return []

    def build() -> list[list[float]]:
        j = net.junctions.set_index("junction_id")
        xy = {k: (float(r["x"]), float(r["y"])) for k, r in j[["x", "y"]].iterrows()}
        pipes = net.pipes
        if "side" in pipes.columns:
            pipes = pipes[pipes["side"] == "supply"]
        out = []
        for a, b in zip(pipes["from_junction_id"], pipes["to_junction_id"], strict=True):
            if a in xy and b in xy and _finite(*xy[a], *xy[b]):
                out.append([round(v, 6) for v in (*xy[a], *xy[b])])
        return out

    return PIPE_CACHE.get_or_compute(id(net), build)


@router.get("/map/data.json")
def map_data(request: Request, user: PageUser, store: StoreDep) -> Response:
    if user is None or str(user.role) in ("resident", "gateway"):
        code = "not_authenticated" if user is None else "permission_denied"
        return JSONResponse({"error": {"code": code}}, status_code=401 if user is None else 403)
    lang, _ = choose_lang(request)
    scope, th = user.scope(), thresholds(request)
    snap = snapshot(store, scope, th=th)

    def build() -> dict[str, Any]:
        reg = names(store)
        _, station_rows = rollup(store, scope, None, None, "station", th=th)
        _, building_rows = rollup(store, scope, None, None, "building", th=th)
        return {
            "pipes": network_segments(request.app),
            "stations": _points(reg["stations"], station_rows, "/stations/", lang),
            "buildings": _points(reg["buildings"], building_rows, "/drill/building/", lang),
            "tile_url": tile_url(),
            "standard": th.standard_temp_c,
            "labels": {
                "pipes": translate("map.pipes", lang),
                "stations": translate("map.stations", lang),
                "buildings": translate("map.buildings", lang),
                "rate": translate("col.rate", lang),
                "temp": translate("col.mean_temp", lang),
                "households": translate("col.households", lang),
                "lon": translate("map.lon", lang),
                "lat": translate("map.lat", lang),
            },
        }

    # One payload per snapshot, scope, language and tile setting.
    key = (store_key(store), scope_key(scope), lang, snap.at, tile_url())
    payload = MAP_CACHE.get_or_compute(key, build)
    return JSONResponse(payload, headers={"Cache-Control": "private, max-age=10"})


def _points(
    table: dict[str, dict[str, Any]], rows: list[dict[str, Any]], prefix: str, lang: str
) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        rec = table.get(r["id"])
        if rec is None:
            continue
        lon, lat = rec.get("lon"), rec.get("lat")
        if not _finite(lon, lat):
            continue
        out.append(
            {
                "name": local_name(rec, lang) or r["id"],
                "value": [round(float(lon), 6), round(float(lat), 6)],
                "rate": None if r["rate_pct"] is None else round(r["rate_pct"], 1),
                "temp": None if r["mean_temp_c"] is None else round(r["mean_temp_c"], 1),
                "households": r["households"],
                "href": f"{prefix}{r['id']}",
            }
        )
    return out
