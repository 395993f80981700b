"""Read models for the dashboard: compliance roll-ups, household status, series.

Compliance figures come from ``nuanliu.monitor.compliance`` (the same numbers the API
and the reports show; definitions there): today's local day, per unit, from the
maintained aggregates. This module adds what only pages need — the KPIs of one unit
together with its children, the latest temperature of each household of a building,
time series for charts — and caches results for a few seconds per (store, scope),
because many users look at the same figures and sensors report every few minutes.

Every query over households joins ``household_context`` filtered with the caller's
``Scope``: the data layer decides what a user may see; templates never filter.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu.errors import NotFound
from nuanliu.scope import Scope
from nuanliu.web.cache import TTLCache

# Figures of a scope are recomputed at most once a minute (compliance is per day and
# sensors report every few minutes; the roll-up of a city costs about a second of CPU);
# a stale copy (≤ 10 min) is served while one background thread refreshes it, so no
# page waits on the roll-up query.
SNAPSHOT_CACHE = TTLCache(ttl_s=60.0, stale_s=600.0, max_entries=256)
TREND_CACHE = TTLCache(ttl_s=600.0, stale_s=3600.0, max_entries=256)
REGISTRY_CACHE = TTLCache(ttl_s=60.0, stale_s=3600.0)
ADDRESS_CACHE = TTLCache(ttl_s=300.0, max_entries=4096)

LEVEL_COLUMN = {
    "region": "region_id",
    "city": "city_id",
    "enterprise": "enterprise_id",
    "station": "station_id",
    "building": "building_id",
    "household": "household_id",
}
CHAIN = ("region", "city", "enterprise", "station", "building", "household")
CHILD_LEVEL = {
    "region": "city",
    "city": "enterprise",
    "enterprise": "station",
    "station": "building",
    "building": "household",
}


@dataclass(frozen=True)
class Thresholds:
    standard_temp_c: float = 18.0
    cold_temp_c: float = 16.0
    overheat_temp_c: float = 24.0
    offline_after: timedelta = timedelta(hours=2)


def store_key(store: Any) -> str:
    """A key unique to this store object for its lifetime (``id()`` may be reused)."""
    token = getattr(store, "_nuanliu_web_cache_token", None)
    if token is None:
        token = uuid.uuid4().hex
        try:
            store._nuanliu_web_cache_token = token
        except AttributeError:  # a store without instance attributes: fall back to id()
            return f"id-{id(store)}"
    return str(token)


def scope_key(scope: Scope) -> tuple[Any, ...]:
    return (
        scope.region_ids,
        scope.enterprise_ids,
        scope.community_ids,
        scope.household_ids,
        scope.mask_personal,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)


def names(store: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``registry(store)`` as plain dicts ``{table: {id: row}}`` for fast label lookups."""

    def load() -> dict[str, dict[str, dict[str, Any]]]:
        return {
            table: {str(k): v for k, v in frame.to_dict("index").items()}
            for table, frame in registry(store).items()
        }

    return REGISTRY_CACHE.get_or_compute(("names", store_key(store)), load)


def registry(store: Any) -> dict[str, pd.DataFrame]:
    """Names and coordinates of regions, enterprises, stations, buildings (cached labels).

    Labels only: whether a row may be shown is decided by scoped queries, never here.
    """

    def load() -> dict[str, pd.DataFrame]:
        with store.read() as q:
            return {
                "regions": q.df(
                    "SELECT region_id, parent_id, level, name_zh, name_en, standard_temp_c "
                    "FROM regions",
                    [],
                ).set_index("region_id", drop=False),
                "enterprises": q.df(
                    "SELECT enterprise_id, region_id, name_zh, name_en, licence_no "
                    "FROM enterprises",
                    [],
                ).set_index("enterprise_id", drop=False),
                "stations": q.df(
                    "SELECT station_id, enterprise_id, region_id, name_zh, name_en, "
                    "network_station_id, lon, lat FROM stations",
                    [],
                ).set_index("station_id", drop=False),
                "communities": q.df(
                    "SELECT community_id, region_id, name_zh, name_en, enterprise_steward_name,"
                    " enterprise_steward_phone, government_steward_name, government_steward_phone"
                    " FROM communities",
                    [],
                ).set_index("community_id", drop=False),
                "buildings": q.df(
                    "SELECT building_id, station_id, community_id, name_zh, name_en, address, "
                    "lon, lat, floors, year_built FROM buildings",
                    [],
                ).set_index("building_id", drop=False),
            }

    return REGISTRY_CACHE.get_or_compute(("registry", store_key(store)), load)


def household_labels(store: Any, lang: str) -> dict[str, dict[str, str]]:
    """``{household_id: {"label": "<building name> <flat address>", "building_id": ...}}``:
    how a home is named on every page (addresses are not personal data)."""
    from nuanliu.web.i18n import local_name

    def load() -> dict[str, dict[str, str]]:
        with store.read() as q:
            rows = q.all("SELECT household_id, building_id, address FROM households", [])
        buildings = names(store)["buildings"]
        out = {}
        for hid, bid, address in rows:
            row = buildings.get(str(bid))
            building = local_name(row, lang) if row else ""
            flat = "" if address is None else str(address)
            at = flat.find(building) if building else -1
            text = flat[at:] if at >= 0 else f"{building} {flat}".strip()
            out[str(hid)] = {"label": text or str(hid), "building_id": str(bid)}
        return out

    return REGISTRY_CACHE.get_or_compute(("household-labels", store_key(store), lang), load)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    rate = _num(rec.get("rate"))
    return {
        "id": str(rec["unit_id"]),
        "name_zh": rec.get("name_zh"),
        "name_en": rec.get("name_en"),
        "households": int(rec["households"]),
        "reporting": int(rec["reporting_households"]),
        "compliant": int(rec["compliant_households"]),
        "reporting_days": int(rec["reporting_days"]),
        "compliant_days": int(rec["compliant_days"]),
        "rate_pct": None if rate is None else 100.0 * rate,
        "cold": int(rec["cold_households"]),
        "overheated": int(rec["overheated_households"]),
        "offline": int(rec["offline_sensors"]),
        "mean_temp_c": _num(rec.get("mean_temp_c")),
    }


def combine(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """KPIs of several units together (rate from household-days, mean weighted)."""
    keys = ("households", "reporting", "compliant", "reporting_days", "compliant_days",
            "cold", "overheated", "offline")  # fmt: skip
    out: dict[str, Any] = {k: sum(r[k] for r in rows) for k in keys}
    days = out["reporting_days"]
    out["rate_pct"] = 100.0 * out["compliant_days"] / days if days else None
    weighted = [(r["mean_temp_c"], r["reporting"]) for r in rows if r["mean_temp_c"] is not None]
    weight = sum(w for _, w in weighted)
    out["mean_temp_c"] = sum(m * w for m, w in weighted) / weight if weight else None
    return out


def worst_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["rate_pct"] is None, r["rate_pct"] or 0.0, r["id"]))


CONTEXT_SQL = """
SELECT hc.household_id, hc.building_id, hc.station_id, hc.enterprise_id, hc.community_id,
       hc.county_id, hc.city_id, hc.region_id, hc.standard_temp_c
FROM household_context hc WHERE {where}
"""

# Temperature now = mean of the latest hourly bucket of each sensor (from the monitoring
# aggregates: one row per sensor, no scan of raw readings), averaged over a household's
# sensors that reported within the offline window.
NOW_SQL = """
SELECT s.household_id, SUM(h.sum_temp_c) / SUM(h.n) AS temp_c, MAX(l.last_ts) AS last_ts
FROM mon_sensor_last_seen l
JOIN mon_sensor_hourly h ON h.sensor_id = l.sensor_id AND h.last_ts = l.last_ts
JOIN sensors s ON s.sensor_id = l.sensor_id
JOIN household_context hc ON hc.household_id = s.household_id
WHERE l.last_ts > ? AND l.last_ts <= ? AND h.hour_ts >= ? AND {where}
GROUP BY s.household_id
"""


@dataclass
class Snapshot:
    """Today's figures of one scope at every level, and each household's status now."""

    at: datetime
    ctx: pd.DataFrame  # one row per household in scope, indexed by household_id
    units: dict[str, dict[str, dict[str, Any]]]  # level -> unit id -> KPI row
    parents: dict[tuple[str, str], dict[str, Any]]  # memoised lookups built from ctx

    def children(self, level: str | None, entity_id: str | None, child: str) -> list[dict]:
        rows = self.units.get(child, {})
        if level is None:
            return list(rows.values())
        key = (child, level)
        if key not in self.parents:  # built once per snapshot; races only redo the work
            self.parents[key] = _parent_map(self.ctx, child, level)
        parent_of = self.parents[key]
        return [r for uid, r in rows.items() if parent_of.get(uid) == entity_id]


def _parent_map(ctx: pd.DataFrame, child: str, parent: str) -> dict[str, str]:
    pairs = ctx[[LEVEL_COLUMN[child], LEVEL_COLUMN[parent]]].dropna().drop_duplicates()
    return dict(zip(pairs.iloc[:, 0].astype(str), pairs.iloc[:, 1].astype(str), strict=True))


def snapshot(
    store: Any, scope: Scope, *, th: Thresholds | None = None, now: datetime | None = None
) -> Snapshot:
    """The scope's snapshot (cached; see SNAPSHOT_CACHE). ``now`` pins the time (tests).

    Every household's status is ``nuanliu.monitor.standard.household_status`` of its
    row in the same drill-down that gives the units' counts, so a badge and a count can
    never disagree.
    """
    from nuanliu.monitor.compliance import drilldown
    from nuanliu.monitor.standard import household_status

    th = th or Thresholds()

    def load() -> Snapshot:
        at = now or now_utc()
        where, params = scope.where("hc")
        with store.read() as q:
            ctx = q.df(CONTEXT_SQL.format(where=where), params)
            since = at - th.offline_after
            cur = q.df(
                NOW_SQL.format(where=where),
                [since, at, since - timedelta(hours=1), *params],
            )
        levels = list(CHAIN)  # households too: their status is their compliance row
        out = drilldown(
            store,
            scope,
            at,
            levels=levels,
            as_of=at,
            offline_after=th.offline_after,
            standard_c=th.standard_temp_c,
            cold_temp_c=th.cold_temp_c,
            overheat_temp_c=th.overheat_temp_c,
        )
        units = {
            lv: {str(r["unit_id"]): _row(r) for r in out[lv].to_dict("records") if r["unit_id"]}
            for lv in levels
        }
        ctx["standard_temp_c"] = pd.to_numeric(ctx["standard_temp_c"]).fillna(th.standard_temp_c)
        ctx = ctx.merge(cur, on="household_id", how="left").set_index("household_id", drop=False)
        ctx["temp_c"] = pd.to_numeric(ctx["temp_c"])  # the latest hour: shown, never judged
        facts = out["household"].set_index(out["household"]["unit_id"].astype(str))
        facts = facts.reindex(ctx.index.astype(str))
        ctx["day_mean_c"] = pd.to_numeric(facts["mean_temp_c"]).to_numpy()
        ctx["status"] = [household_status(r) for r in facts.to_dict("records")]
        return Snapshot(at, ctx, units, {})

    if now is not None:
        return load()
    key = ("snapshot", store_key(store), scope_key(scope), th)
    return SNAPSHOT_CACHE.get_or_compute(key, load)


def rollup(
    store: Any,
    scope: Scope,
    level: str | None,
    entity_id: str | None,
    child_level: str | None,
    *,
    th: Thresholds | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Today's KPIs of one unit (or of everything in scope when ``level`` is None) and of
    its children at ``child_level``, worst compliance first.

    NotFound when the unit has no household the caller may see: out-of-scope units are
    treated as absent, which does not even confirm that they exist.
    """
    snap = snapshot(store, scope, th=th, now=now)
    if level is None:
        kpi = combine(list(snap.units.get("region", {}).values()))
    else:
        unit = snap.units.get(level, {}).get(entity_id or "")
        if unit is None:
            raise NotFound(f"{level} {entity_id!r} not found", details={level: entity_id})
        kpi = unit
    children = snap.children(level, entity_id, child_level) if child_level else []
    return kpi, worst_first(children)


def first_split_level(store: Any, scope: Scope, th: Thresholds | None = None) -> str:
    """The first level at which the visible households split (a city user sees enterprises)."""
    snap = snapshot(store, scope, th=th)
    for lv in CHAIN[:-1]:
        if len(snap.units.get(lv, {})) > 1:
            return lv
    return "building"


def ancestors(store: Any, scope: Scope, level: str, entity_id: str) -> dict[str, str]:
    """Ids of the chain above a visible unit (empty when the unit is not visible)."""
    snap = snapshot(store, scope)
    key = ("chain", level)
    if key not in snap.parents:  # one table per level and snapshot, then dict lookups
        cols = [LEVEL_COLUMN[lv] for lv in CHAIN]
        first = snap.ctx.drop_duplicates(LEVEL_COLUMN[level])[cols]
        snap.parents[key] = {
            str(row[LEVEL_COLUMN[level]]): {
                lv: str(row[LEVEL_COLUMN[lv]]) for lv in CHAIN if pd.notna(row[LEVEL_COLUMN[lv]])
            }
            for row in first.to_dict("records")
        }
    return dict(snap.parents[key].get(entity_id, {}))


STATUS_ORDER = {"offline": 0, "cold": 1, "low": 2, "overheated": 3, "ok": 4}


def household_status(
    store: Any,
    scope: Scope,
    level: str,
    entity_id: str,
    *,
    lang: str = "zh",
    th: Thresholds | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Households under one unit with today's mean, their latest hourly temperature and
    their status (``nuanliu.monitor.standard``: judged on today's mean)."""
    ctx = snapshot(store, scope, th=th, now=now).ctx
    part = ctx[ctx[LEVEL_COLUMN[level]] == entity_id]
    if part.empty:
        return []
    ids = part["household_id"].tolist()

    def load_addresses() -> dict[str, str]:
        marks = ", ".join("?" for _ in ids)
        with store.read() as q:
            sql = f"SELECT household_id, address FROM households WHERE household_id IN ({marks})"
            return {str(h): a for h, a in q.all(sql, ids)}

    addresses = ADDRESS_CACHE.get_or_compute(
        ("addresses", store_key(store), level, entity_id, len(ids)), load_addresses
    )
    labels = household_labels(store, lang)
    out = []
    for r in part.to_dict("records"):
        last = r.get("last_ts")
        hid = str(r["household_id"])
        out.append(
            {
                "household_id": hid,
                "label": labels.get(hid, {}).get("label", hid),
                "address": addresses.get(r["household_id"]) or "",
                "standard_temp_c": float(r["standard_temp_c"]),
                "temp_c": _num(r.get("day_mean_c")),
                "latest_temp_c": _num(r.get("temp_c")),
                "last_ts": None if last is None or pd.isna(last) else last,
                "status": r["status"],
            }
        )
    out.sort(key=lambda r: (STATUS_ORDER[r["status"]], r["temp_c"] or 0.0, r["household_id"]))
    return out


def daily_compliance(
    store: Any,
    scope: Scope,
    *,
    days: int = 7,
    level: str | None = None,
    unit_id: str | None = None,
    th: Thresholds | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Compliance, mean indoor and outdoor temperature per local day for the last
    ``days`` days (today included), of the scope or of one unit in it."""
    from nuanliu.monitor.compliance import compliance_trend

    th = th or Thresholds()

    def load() -> list[dict[str, Any]]:
        at = now or now_utc()
        df = compliance_trend(
            store,
            scope,
            at - timedelta(days=days - 1),
            at,
            level=level,
            unit_id=unit_id,
            standard_c=th.standard_temp_c,
        )
        outdoor = outdoor_daily_c([pd.Timestamp(d).date() for d in df["day"]])
        return [
            {
                "date": str(r["day"]),
                "reporting": int(r["reporting_households"]),
                "rate_pct": None if _num(r["rate"]) is None else 100.0 * float(r["rate"]),
                "mean_temp_c": _num(r.get("mean_temp_c")),
                "outdoor_c": out_c,
            }
            for r, out_c in zip(df.to_dict("records"), outdoor, strict=True)
        ]

    if now is not None:
        return load()
    key = ("trend", store_key(store), scope_key(scope), days, level, unit_id, th)
    return TREND_CACHE.get_or_compute(key, load)


def outdoor_daily_c(days: list[Any]) -> list[float | None]:
    """Daily mean outdoor temperature of each local day (the shipped Hohhot typical
    year, the weather the twin and the simulator use; None when unavailable)."""
    if not days:
        return []
    try:
        import numpy as np

        from nuanliu.web.twin import _weather

        weather = _weather()
    except Exception:  # no weather data shipped: the chart goes without
        return [None] * len(days)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    out: list[float | None] = []
    for day in days:
        start = datetime.combine(day, datetime.min.time(), tz)
        ns = np.array([int((start + timedelta(hours=h)).timestamp() * 1e9) for h in range(24)])
        out.append(round(float(np.mean(weather.at(ns)["temp_c"])), 1))
    return out


def trend_json(rows: list[dict[str, Any]], target: float, lang: str) -> dict[str, Any]:
    """What the trend chart draws: compliance against its target, households reporting,
    mean indoor and outdoor temperature per day."""
    from nuanliu.web.i18n import translate

    return {
        "dates": [d["date"] for d in rows],
        "rates": [None if d["rate_pct"] is None else round(d["rate_pct"], 2) for d in rows],
        "reporting": [d["reporting"] for d in rows],
        "indoor": [None if d["mean_temp_c"] is None else round(d["mean_temp_c"], 2) for d in rows],
        "outdoor": [d["outdoor_c"] for d in rows],
        "labels": {
            "rate": translate("chart.rate", lang),
            "target": translate("chart.target", lang, target=f"{target:g}"),
            "reporting": translate("chart.reporting", lang),
            "indoor": translate("chart.mean_temp", lang),
            "outdoor": translate("chart.outdoor", lang),
        },
        "target": target,
    }


def household_detail(
    store: Any, scope: Scope, household_id: str, *, th: Thresholds | None = None
) -> dict[str, Any]:
    """The household's record, chain, status now and sensors; NotFound when out of scope."""
    ctx = snapshot(store, scope, th=th).ctx
    if household_id not in ctx.index:
        raise NotFound(f"household {household_id!r} not found", details={"household": household_id})
    chain = ctx.loc[household_id]
    with store.read() as q:  # the record and its sensors in one round trip
        joined = q.all(
            "SELECT h.household_id, h.building_id, h.address, h.floor_area_m2, h.metered,"
            " h.resident_name, h.resident_phone, s.sensor_id, s.room, s.model"
            " FROM households h LEFT JOIN sensors s ON s.household_id = h.household_id"
            " WHERE h.household_id = ? ORDER BY s.sensor_id",
            [household_id],
        )
    if not joined:
        raise NotFound(f"household {household_id!r} not found", details={"household": household_id})
    rows = [r[:7] for r in joined]
    sensors = [r[7:] for r in joined if r[7] is not None]
    cols = ["household_id", "building_id", "address", "floor_area_m2", "metered",
            "resident_name", "resident_phone"]  # fmt: skip
    rec = dict(zip(cols, rows[0], strict=True))
    for key in ("station_id", "enterprise_id", "community_id", "city_id", "region_id"):
        value = chain[key]
        rec[key] = None if pd.isna(value) else str(value)
    if scope.mask_personal:
        rec["resident_name"] = mask_text(rec["resident_name"])
        rec["resident_phone"] = mask_text(rec["resident_phone"], keep=3)
    rec["standard_temp_c"] = float(chain["standard_temp_c"])
    rec["sensors"] = [{"sensor_id": s[0], "room": s[1], "model": s[2]} for s in sensors]
    last = chain.get("last_ts")
    rec["now"] = {
        "status": chain["status"],
        "day_mean_c": _num(chain.get("day_mean_c")),
        "temp_c": _num(chain.get("temp_c")),
        "last_ts": None if last is None or pd.isna(last) else last,
    }
    return rec


def mask_text(value: Any, keep: int = 1) -> str:
    text = "" if value is None else str(value)
    return text[:keep] + "*" * max(len(text) - keep, 0) if text else ""


SERIES_SQL = """
SELECT h.sensor_id, h.hour_ts, h.sum_temp_c / h.n AS temp_c
FROM mon_sensor_hourly h
WHERE h.sensor_id IN ({marks}) AND h.hour_ts >= ? AND h.hour_ts <= ?
ORDER BY h.sensor_id, h.hour_ts
"""


def outdoor_hourly(since: datetime, until: datetime) -> list[tuple[int, float]]:
    """Hourly outdoor temperature (epoch ms at mid-hour, °C) of the shipped typical year."""
    try:
        import numpy as np

        from nuanliu.web.twin import _weather

        weather = _weather()
    except Exception:  # no weather data shipped
        return []
    first = since.replace(minute=0, second=0, microsecond=0)
    hours = max(0, int((until - first).total_seconds() // 3600))
    ms = [int((first + timedelta(hours=h)).timestamp() * 1000) + 1_800_000 for h in range(hours)]
    if not ms:
        return []
    temps = weather.at(np.array(ms, dtype=np.int64) * 1_000_000)["temp_c"]
    return [(m, round(float(t), 1)) for m, t in zip(ms, temps, strict=True)]


def household_series(
    store: Any,
    sensor_ids: list[str],
    *,
    days: int = 3,
    since: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, list[tuple[int, float]]]:
    """Hourly mean temperature per sensor (epoch ms at mid-hour, °C) for a chart, from
    the monitoring hourly aggregates. The caller checks scope with ``household_detail``
    and passes the household's sensors.
    """
    if not sensor_ids:
        return {}
    at = now or now_utc()
    marks = ", ".join("?" for _ in sensor_ids)
    with store.read() as q:
        first = since or at - timedelta(days=days)
        rows = q.all(SERIES_SQL.format(marks=marks), [*sensor_ids, first, at])
    out: dict[str, list[tuple[int, float]]] = {}
    for sensor_id, hour_ts, temp in rows:
        ts = pd.Timestamp(hour_ts)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        out.setdefault(str(sensor_id), []).append(
            (int(ts.timestamp() * 1000) + 1_800_000, round(float(temp), 2))
        )
    return out


def target_of(
    store: Any, scope: Scope, level: str | None = None, entity_id: str | None = None
) -> float:
    """The compliance target (%) the unit (or the whole scope) is held to: its city's,
    else its region's, else the default (``nuanliu.monitor.standard``); when the
    households span cities with different targets, the strictest. Configured targets
    are read at most once a minute."""
    from nuanliu.monitor.standard import DEFAULT_TARGET_PCT, compliance_targets

    targets = REGISTRY_CACHE.get_or_compute(
        ("targets", store_key(store)), lambda: compliance_targets(store)
    )
    snap = snapshot(store, scope)
    key = ("target", level, entity_id, tuple(sorted(targets.items())))
    if key not in snap.parents:  # once per snapshot and unit
        ctx = snap.ctx if level is None else snap.ctx[snap.ctx[LEVEL_COLUMN[level]] == entity_id]
        found = []
        for city, region in ctx[["city_id", "region_id"]].drop_duplicates().itertuples(index=False):
            chain = [x for x in (city, region) if isinstance(x, str)]
            found.append(next((targets[x] for x in chain if x in targets), DEFAULT_TARGET_PCT))
        snap.parents[key] = {"pct": max(found) if found else DEFAULT_TARGET_PCT}
    return float(snap.parents[key]["pct"])
