"""The map: the twin's geometry (heat sources, mains, stations) and the buildings, on
lon/lat at equal scale (a geographic projection, zoom and pan), with layers — network,
stations by compliance against their target, buildings by today's mean temperature,
room for more (tickets) — and optionally raster tiles from a configured URL.

Only stations and buildings above a household the user may see are sent, and the view
opens on them (a steward sees their estate, not the whole city); network pipes are sent
as anonymous segments (no ids or names) and not at all to residents.
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
from nuanliu.web.data import names, rollup, scope_key, snapshot, store_key, target_of
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


def _geographic(net: Any) -> bool:
    return net is not None and str(net.meta.get("crs", "")).upper() == "EPSG:4326"


def network_segments(app: Any) -> list[list[float]]:
    """Supply-side pipes as [lon1, lat1, lon2, lat2, DN mm] when the network has lon/lat
    (parallel pipes between the same junctions drawn once, with their total DN)."""
    net = get_network(app)
    if not _geographic(net):
        return []

    def build() -> list[list[float]]:
        j = net.junctions.set_index("junction_id")
        xy = {k: (float(r["x"]), float(r["y"])) for k, r in j[["x", "y"]].iterrows()}
        pipes = net.pipes
        if "side" in pipes.columns:
            pipes = pipes[pipes["side"] == "supply"]
        dn = pipes["dn_mm"] if "dn_mm" in pipes.columns else [float("nan")] * len(pipes)
        seen: dict[tuple[str, str], list[float]] = {}
        for a, b, size in zip(pipes["from_junction_id"], pipes["to_junction_id"], dn, strict=True):
            if a in xy and b in xy and _finite(*xy[a], *xy[b]) and xy[a] != xy[b]:
                key = (min(a, b), max(a, b))
                size = float(size) if _finite(size) else 0.0
                if key in seen:
                    seen[key][4] += size
                else:
                    seen[key] = [*(round(v, 6) for v in (*xy[a], *xy[b])), size]
        return list(seen.values())

    return PIPE_CACHE.get_or_compute(("pipes", id(net)), build)


def network_sources(app: Any, lang: str) -> list[dict[str, Any]]:
    """Heat sources at their supply junction: name and position."""
    net = get_network(app)
    if not _geographic(net):
        return []
    j = net.junctions.set_index("junction_id")
    out = []
    for row in net.sources.to_dict("records"):
        jid = row.get("supply_junction_id")
        if jid not in j.index:
            continue
        x, y = float(j.at[jid, "x"]), float(j.at[jid, "y"])
        if _finite(x, y):
            out.append({"name": _in_lang(str(row.get("name") or ""), lang), "value": [x, y]})
    return out


def _in_lang(name: str, lang: str) -> str:
    """Network element names hold both languages ("托克托电厂 Tuoketuo power plant"):
    the Chinese part for Chinese pages, the rest for English ones."""
    import re

    zh = "".join(re.findall(r"[\u4e00-\u9fff（）()·\d]+", name)).strip()
    en = re.sub(r"[\u4e00-\u9fff（）]+", "", name).strip()
    return (zh if lang == "zh" else en) or name


def bounds(points: list[dict[str, Any]]) -> list[list[float]] | None:
    """``[[west, north], [east, south]]`` around the points, padded (None without)."""
    if not points:
        return None
    lons = [p["value"][0] for p in points]
    lats = [p["value"][1] for p in points]
    pad_lon = max((max(lons) - min(lons)) * 0.08, 0.004)
    pad_lat = max((max(lats) - min(lats)) * 0.08, 0.003)
    return [[min(lons) - pad_lon, max(lats) + pad_lat], [max(lons) + pad_lon, min(lats) - pad_lat]]


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
        stations = _points(reg["stations"], station_rows, "/stations/", lang)
        buildings = _points(reg["buildings"], building_rows, "/drill/building/", lang)
        sources = network_sources(request.app, lang)
        return {
            "pipes": network_segments(request.app),
            "sources": sources,
            "stations": stations,
            "buildings": buildings,
            # Open on what the user may see; the whole network is a zoom-out away.
            "bounds": bounds(buildings + stations) or bounds(sources),
            "tile_url": tile_url(),
            "standard": th.standard_temp_c,
            "cold": th.cold_temp_c,
            "overheat": th.overheat_temp_c,
            "target": target_of(store, scope),
            "labels": {
                "sources": translate("map.sources", lang),
                "pipes": translate("map.pipes", lang),
                "stations": translate("map.stations", lang),
                "buildings": translate("map.buildings", lang),
                "rate": translate("col.rate", lang),
                "temp": translate("col.mean_temp", lang),
                "households": translate("col.households", lang),
                "legend_temp": translate("map.legend_temp", lang),
                "legend_rate": translate("map.legend_rate", lang),
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
