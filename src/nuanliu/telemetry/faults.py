"""Substation fault detection from telemetry (Gadd & Werner's fault classes).

Each station is judged per local day (Asia/Shanghai) from its hourly means
(``tel_hourly``), against its own history (the preceding ``HISTORY_DAYS``, the relation
to outdoor temperature fitted by least squares where the outdoor temperature is
reported) and its design values where there is no history:

- ``high_return_temp``: the day's primary return is ``RETURN_EXCESS_K`` above what the
  station's history predicts at that outdoor temperature (or above design return + 8 K);
- ``low_delta_t``: primary ΔT ``DT_DEFICIT_K`` and a share ``1 - DT_RATIO`` below the
  history's (or design's) ΔT while the return is not high — the supply arrives too
  cold, flow makes up for it;
- ``stuck_valve``: the control valve does not move (spread below ``VALVE_STILL_PCT``)
  through a day whose load changes (heat or outdoor temperature moving);
- ``curve_not_followed``: secondary supply off the station's heating curve by more
  than ``CURVE_TOL_K`` on average while the valve moves;
- ``meter_fault``: the heat counter runs backwards, disagrees with the integrated
  power, or the metered heat disagrees with the secondary side's (flow × ΔT) or with
  the primary flow × ΔT by more than ``METER_TOL``.

A day needs ``MIN_HOURS`` hourly values of what a check reads (gaps are skipped, not
faults). Findings are stored in ``tel_faults`` with the evidence series and raise
alerts through ``monitor.alerts`` (rules ``tel-fault-<class>``, metric
``substation_fault``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.telemetry.simulate import CP_KJ_KG_K, FAULT_CLASSES, RHO_KG_M3, InjectedFault
from nuanliu.telemetry.store import LOCAL_TZ, Site, list_sites

HISTORY_DAYS = 21
MIN_HOURS = 12
RETURN_EXCESS_K = 5.0
DT_DEFICIT_K = 6.0
DT_RATIO = 0.88
VALVE_STILL_PCT = 0.3
CURVE_TOL_K = 4.0
METER_TOL = 0.2

NAMES = {
    "high_return_temp": ("回水温度偏高", "High return temperature"),
    "low_delta_t": ("供回水温差偏小", "Poor ΔT"),
    "stuck_valve": ("调节阀卡滞", "Stuck control valve"),
    "curve_not_followed": ("未按供热曲线调节", "Heating curve not followed"),
    "meter_fault": ("热量表故障", "Heat-meter fault"),
}


@dataclass
class Finding:
    site_id: str
    fault_class: str
    day: date
    score: float
    message_zh: str
    message_en: str
    evidence: dict[str, Any] = field(default_factory=dict)


def hourly_frame(store: Any, site_ids: list[str], start: datetime, end: datetime) -> pd.DataFrame:
    """Hourly means (and counter last values) per site: columns site_id, hour_ts, points."""
    if not site_ids:
        return pd.DataFrame()
    marks = ", ".join("?" for _ in site_ids)
    with store.read() as q:
        df = q.df(
            f"""SELECT site_id, point, hour_ts, sum_value / n AS mean, last_value
                FROM tel_hourly WHERE site_id IN ({marks}) AND hour_ts >= ? AND hour_ts < ?""",
            [*site_ids, start, end],
        )
    if df.empty:
        return df
    df["hour_ts"] = pd.to_datetime(df["hour_ts"], utc=True)
    counters = df["point"].isin(["primary_heat_gj", "primary_volume_m3"])
    df["v"] = np.where(counters, df["last_value"], df["mean"])
    wide = df.pivot_table(index=["site_id", "hour_ts"], columns="point", values="v")
    return wide.reset_index()


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 48 or np.ptp(x[ok]) < 2.0:
        return None
    slope, icept = np.polyfit(x[ok], y[ok], 1)
    return float(slope), float(icept)


def _series(day: pd.DataFrame, cols: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"hour_ts": [t.isoformat() for t in day["hour_ts"]]}
    for c in cols:
        if c in day:
            out[c] = [None if not np.isfinite(v) else round(float(v), 3) for v in day[c]]
    return out


def _expected(hist: pd.DataFrame, day: pd.DataFrame, col: str) -> np.ndarray | None:
    """The station's own expectation of ``col`` for the day's hours from its history."""
    if col not in hist or hist[col].notna().sum() < 48:
        return None
    if "outdoor_temp_c" in hist and "outdoor_temp_c" in day:
        fit = _fit(hist["outdoor_temp_c"].to_numpy(float), hist[col].to_numpy(float))
        if fit is not None:
            return fit[0] * day["outdoor_temp_c"].to_numpy(float) + fit[1]
    return np.full(len(day), float(np.nanmedian(hist[col])))


def judge_day(site: Site, day: pd.DataFrame, hist: pd.DataFrame, local_day: date) -> list[Finding]:
    """The faults of one station on one local day."""
    found: list[Finding] = []

    def add(cls: str, score: float, zh: str, en: str, cols: list[str], **extra: Any) -> None:
        name_zh, name_en = NAMES[cls]
        ev = {"series": _series(day, cols), **extra}
        found.append(
            Finding(
                site.site_id,
                cls,
                local_day,
                float(score),
                f"{site.name_zh}：{name_zh}（{zh}）",
                f"{site.name_en or site.site_id}: {name_en} ({en})",
                ev,
            )
        )

    def have(*cols: str) -> bool:
        return all(c in day and day[c].notna().sum() >= MIN_HOURS for c in cols)

    high_return = False
    if have("primary_return_temp_c"):
        ret = day["primary_return_temp_c"].to_numpy(float)
        exp = _expected(hist, day, "primary_return_temp_c")
        if exp is not None:
            excess = float(np.nanmean(ret - exp))
            basis = "history"
        elif site.design_return_c is not None:
            excess = float(np.nanmean(ret)) - site.design_return_c - 3.0
            basis = "design"
        else:
            excess = float("nan")
            basis = ""
        if np.isfinite(excess) and excess > RETURN_EXCESS_K:
            high_return = True
            add(
                "high_return_temp",
                excess,
                f"比{'历史' if basis == 'history' else '设计'}高 {excess:.1f} K",
                f"{excess:.1f} K above its {basis}",
                ["primary_supply_temp_c", "primary_return_temp_c", "primary_flow_m3_h"],
                expected_return_c=None if exp is None else [round(float(x), 2) for x in exp],
            )
    if have("primary_supply_temp_c", "primary_return_temp_c") and not high_return:
        dt = (day["primary_supply_temp_c"] - day["primary_return_temp_c"]).to_numpy(float)
        h = (
            hist.assign(_dt=hist["primary_supply_temp_c"] - hist["primary_return_temp_c"])
            if ("primary_supply_temp_c" in hist and "primary_return_temp_c" in hist)
            else hist
        )
        exp = _expected(h, day, "_dt")
        if exp is None and site.design_supply_c is not None and site.design_return_c is not None:
            exp = np.full(len(day), (site.design_supply_c - site.design_return_c) * 0.8)
        if exp is not None:
            want = max(float(np.nanmean(exp)), 1e-6)
            ratio = float(np.nanmean(dt)) / want
            if ratio < DT_RATIO and want - float(np.nanmean(dt)) > DT_DEFICIT_K:
                add(
                    "low_delta_t",
                    1 - ratio,
                    f"温差仅为应有值的 {ratio:.0%}",
                    f"ΔT only {ratio:.0%} of expected",
                    ["primary_supply_temp_c", "primary_return_temp_c", "primary_flow_m3_h"],
                )
    stuck = False
    if have("valve_opening_pct"):
        valve = day["valve_opening_pct"].to_numpy(float)
        spread = float(np.nanmax(valve) - np.nanmin(valve))
        load_moves = False
        if "outdoor_temp_c" in day and day["outdoor_temp_c"].notna().sum() >= MIN_HOURS:
            load_moves = (
                float(np.nanmax(day["outdoor_temp_c"]) - np.nanmin(day["outdoor_temp_c"])) >= 2.0
            )
        if spread < VALVE_STILL_PCT and 0 < float(np.nanmean(valve)) < 100 and load_moves:
            stuck = True
            add(
                "stuck_valve",
                VALVE_STILL_PCT - spread,
                f"阀位全天仅变化 {spread:.2f}%",
                f"valve moved only {spread:.2f} % all day",
                ["valve_opening_pct", "outdoor_temp_c", "secondary_supply_temp_c"],
            )
    if have("secondary_supply_temp_c", "outdoor_temp_c") and site.curve and not stuck:
        target = site.curve_supply_c(day["outdoor_temp_c"].to_numpy(float))
        off = float(np.nanmean(day["secondary_supply_temp_c"].to_numpy(float) - target))
        if abs(off) > CURVE_TOL_K:
            add(
                "curve_not_followed",
                abs(off),
                f"二次供水平均偏离曲线 {off:+.1f} K",
                f"secondary supply {off:+.1f} K off the curve on average",
                ["secondary_supply_temp_c", "outdoor_temp_c", "valve_opening_pct"],
                curve_c=[round(float(x), 2) for x in target],
            )
    meter = _meter_problem(day)
    if meter is not None:
        score, zh, en = meter
        add(
            "meter_fault",
            score,
            zh,
            en,
            ["primary_heat_kw", "primary_heat_gj", "primary_flow_m3_h", "secondary_flow_m3_h"],
        )
    return found


def _meter_problem(day: pd.DataFrame) -> tuple[float, str, str] | None:
    def have(*cols: str) -> bool:
        return all(c in day and day[c].notna().sum() >= MIN_HOURS for c in cols)

    if have("primary_heat_gj"):
        counter = day["primary_heat_gj"].dropna().to_numpy(float)
        back = float(np.min(np.diff(counter))) if len(counter) > 1 else 0.0
        if back < -1e-6:
            return -back, f"累计热量倒退 {-back:.3f} GJ", f"heat counter ran back {-back:.3f} GJ"
    if have(
        "primary_heat_kw",
        "secondary_flow_m3_h",
        "secondary_supply_temp_c",
        "secondary_return_temp_c",
    ):
        sec = (
            day["secondary_flow_m3_h"]
            * RHO_KG_M3
            / 3600
            * CP_KJ_KG_K
            * (day["secondary_supply_temp_c"] - day["secondary_return_temp_c"])
        )
        ratio = float(np.nanmean(day["primary_heat_kw"]) / max(float(np.nanmean(sec)), 1e-6))
        if abs(ratio - 1) > METER_TOL:
            return (
                abs(ratio - 1),
                f"一次热量为二次侧的 {ratio:.0%}",
                f"metered heat is {ratio:.0%} of the secondary side's",
            )
    if have(
        "primary_heat_kw", "primary_flow_m3_h", "primary_supply_temp_c", "primary_return_temp_c"
    ):
        calc = (
            day["primary_flow_m3_h"]
            * RHO_KG_M3
            / 3600
            * CP_KJ_KG_K
            * (day["primary_supply_temp_c"] - day["primary_return_temp_c"])
        )
        mean_calc = float(np.nanmean(calc))
        if mean_calc > 1.0:
            ratio = float(np.nanmean(day["primary_heat_kw"])) / mean_calc
            if abs(ratio - 1) > METER_TOL:
                return (
                    abs(ratio - 1),
                    f"热功率为流量×温差的 {ratio:.0%}",
                    f"heat power is {ratio:.0%} of flow × ΔT",
                )
    return None


def detect(
    store: Any, *, start: datetime, end: datetime, site_ids: list[str] | None = None
) -> list[Finding]:
    """Findings for every station site (or those given) on every local day in [start, end)."""
    sites = [
        s for s in list_sites(store, kind="station") if site_ids is None or s.site_id in site_ids
    ]
    frame = hourly_frame(
        store, [s.site_id for s in sites], start - timedelta(days=HISTORY_DAYS), end
    )
    if frame.empty:
        return []
    frame["local_day"] = frame["hour_ts"].dt.tz_convert(LOCAL_TZ).dt.date
    out: list[Finding] = []
    first_day = pd.Timestamp(start).tz_convert(LOCAL_TZ).date()
    last_day = (pd.Timestamp(end) - pd.Timedelta(microseconds=1)).tz_convert(LOCAL_TZ).date()
    for site in sites:
        rows = frame[frame["site_id"] == site.site_id].sort_values("hour_ts")
        for d, day in rows.groupby("local_day"):
            if not first_day <= d <= last_day:
                continue
            lo = pd.Timestamp(d) - pd.Timedelta(days=HISTORY_DAYS)
            hist_mask = (rows["local_day"] < d) & (rows["local_day"] >= lo.date())
            out.extend(judge_day(site, day, rows[hist_mask], d))
    return out


# ---------------------------------------------------------------- stored findings


def store_findings(
    store: Any, findings: list[Finding], *, now: datetime, start: datetime
) -> dict[str, int]:
    """Record findings: open faults found again are refreshed, new ones inserted, open
    ones not found in the judged window are closed."""
    opened = refreshed = closed = 0
    with store.write() as w:
        open_rows = w.dicts("SELECT fault_id, site_id, fault_class FROM tel_faults WHERE is_open")
        by_key = {(r["site_id"], r["fault_class"]): r["fault_id"] for r in open_rows}
        latest: dict[tuple[str, str], Finding] = {}
        for f in sorted(findings, key=lambda f: f.day):
            latest[(f.site_id, f.fault_class)] = f
        for key, f in latest.items():
            day_start = pd.Timestamp(f.day, tz=LOCAL_TZ).tz_convert("UTC").to_pydatetime()
            day_end = day_start + timedelta(days=1)
            evidence = json.dumps(f.evidence, ensure_ascii=False)
            if key in by_key:
                w.execute(
                    "UPDATE tel_faults SET last_detected_at = ?, window_end = ?, score = ?,"
                    " message_zh = ?, message_en = ?, evidence_json = ? WHERE fault_id = ?",
                    [now, day_end, f.score, f.message_zh, f.message_en, evidence, by_key[key]],
                )
                refreshed += 1
            else:
                w.execute(
                    "INSERT INTO tel_faults (site_id, fault_class, first_detected_at,"
                    " last_detected_at, window_start, window_end, score, message_zh, message_en,"
                    " evidence_json, is_open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
                    [
                        f.site_id,
                        f.fault_class,
                        now,
                        now,
                        day_start,
                        day_end,
                        f.score,
                        f.message_zh,
                        f.message_en,
                        evidence,
                    ],
                )
                opened += 1
        for key, fid in by_key.items():
            if key not in latest:
                w.execute("UPDATE tel_faults SET is_open = FALSE WHERE fault_id = ?", [fid])
                closed += 1
    return {"opened": opened, "refreshed": refreshed, "closed": closed}


def alert_violations(store: Any, rule: Any, now: datetime) -> pd.DataFrame:
    """``monitor.alerts`` provider for metric ``substation_fault``: the open faults of the
    rule's class (rule id ``tel-fault-<class>``), subject the registry station if the
    site is linked to one, else the telemetry site."""
    cls = rule.rule_id.removeprefix("tel-fault-")
    with store.read() as q:
        rows = q.all(
            "SELECT f.site_id, s.station_id, f.score, f.message_zh, f.message_en"
            " FROM tel_faults f JOIN tel_sites s ON s.site_id = f.site_id"
            " WHERE f.is_open AND f.fault_class = ? ORDER BY f.site_id",
            [cls],
        )
    return pd.DataFrame(
        {
            "subject_kind": ["station" if r[1] else "telemetry_site" for r in rows],
            "subject_id": [r[1] or r[0] for r in rows],
            "value": [float(r[2]) for r in rows],
            "message_zh": [r[3] for r in rows],
            "message_en": [r[4] for r in rows],
        },
        columns=["subject_kind", "subject_id", "value", "message_zh", "message_en"],
    )


def fault_rules() -> list[Any]:
    from nuanliu.monitor.alerts import AlertRule

    return [
        AlertRule(
            f"tel-fault-{cls}",
            "substation_fault",
            None,
            timedelta(days=1),
            name_zh=f"换热站{NAMES[cls][0]}",
            name_en=f"Substation: {NAMES[cls][1]}",
            severity="warning",
        )
        for cls in FAULT_CLASSES
    ]


def ensure_rules(store: Any) -> None:
    from nuanliu.monitor.alerts import list_rules, save_rule

    have = {r.rule_id for r in list_rules(store)}
    for rule in fault_rules():
        if rule.rule_id not in have:
            save_rule(store, rule)


def link_alerts(store: Any) -> int:
    """Attach each open fault to its open alert (the evidence stays on the fault row)."""
    linked = 0
    with store.write() as w:
        rows = w.all(
            "SELECT f.fault_id, a.alert_id FROM tel_faults f"
            " JOIN tel_sites s ON s.site_id = f.site_id"
            " JOIN mon_alerts a ON a.rule_id = 'tel-fault-' || f.fault_class"
            "  AND a.subject_id = COALESCE(s.station_id, f.site_id) AND a.cleared_at IS NULL"
            " WHERE f.is_open AND (f.alert_id IS NULL OR f.alert_id <> a.alert_id)"
        )
        for fid, aid in rows:
            w.execute("UPDATE tel_faults SET alert_id = ? WHERE fault_id = ?", [aid, fid])
            linked += 1
    return linked


# ------------------------------------------------------------------- scoring


def score(findings: list[Finding], labels: list[InjectedFault]) -> dict[str, Any]:
    """Precision and recall over (site, class, local day): a labelled day is one the
    fault covers for at least 12 hours."""
    truth: set[tuple[str, str, date]] = set()
    for f in labels:
        t = pd.Timestamp(f.start).tz_convert(LOCAL_TZ)
        end = pd.Timestamp(f.end).tz_convert(LOCAL_TZ)
        d = t.normalize()
        while d < end:
            covered = min(end, d + pd.Timedelta(days=1)) - max(t, d)
            if covered >= pd.Timedelta(hours=12):
                truth.add((f.site_id, f.fault_class, d.date()))
            d += pd.Timedelta(days=1)
    found = {(f.site_id, f.fault_class, f.day) for f in findings}
    tp = len(found & truth)
    per_class = {}
    for cls in FAULT_CLASSES:
        t_c = {x for x in truth if x[1] == cls}
        f_c = {x for x in found if x[1] == cls}
        per_class[cls] = {
            "labelled": len(t_c),
            "found": len(f_c),
            "true": len(t_c & f_c),
        }
    return {
        "precision": tp / len(found) if found else 1.0,
        "recall": tp / len(truth) if truth else 1.0,
        "true_positives": tp,
        "found": len(found),
        "labelled": len(truth),
        "per_class": per_class,
    }


def now_utc() -> datetime:
    return datetime.now(UTC)
