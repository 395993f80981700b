"""Findings: sentences generated from a brief's numbers by fixed rules (no language
model), in Chinese and English from the message catalog, each linked to its rows.

Daily rules: the scope's rate against the day before and last week (always); an
enterprise whose rate fell more than ``rate_drop_pp`` points; a station below
``low_rate`` for ``low_days`` days running (proposes an order); an enterprise's sensor
coverage under its quota (proposes an order); offline sensors above
``offline_share_max``; homes cold for ``long_cold_h`` hours or more; an enterprise
without a valid licence or with one ending within ``licence_warn_days``; overdue
complaints (when the hotline is connected).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from nuanliu.reports.brief import Brief, BriefRules, Finding, RowRef
from nuanliu.web.i18n import translate


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _fmt(value: Any, signed: bool = False) -> str:
    f = _num(value)
    if f is None:
        return "–"
    return f"{f:+.1f}" if signed else f"{f:.1f}"


def pair_translate(key: str, **values: Any) -> tuple[str, str]:
    """The catalog text of ``key`` in Chinese and English; a tuple value gives (zh, en)."""
    zh = {k: (v[0] if isinstance(v, tuple) else v) for k, v in values.items()}
    en = {k: (v[1] if isinstance(v, tuple) else v) for k, v in values.items()}
    return translate(key, "zh", **zh), translate(key, "en", **en)


def _name(row: Any) -> tuple[str, str]:
    zh = str(row.get("name_zh") or row.get("unit_id") or row.get("enterprise_id"))
    en = str(row.get("name_en") or zh)
    return zh, en


def _names_of(units: pd.DataFrame, level: str) -> dict[str, tuple[str, str]]:
    rows = units[units["level"] == level]
    return {str(r["unit_id"]): _name(r) for _, r in rows.iterrows()}


def more_of(rule: str, table: str, rest: pd.Series, scope: Any) -> list[Finding]:
    """One sentence for the findings of ``rule`` beyond the ``top_n`` worst (listed)."""
    if rest.empty:
        return []
    zh, en = pair_translate("reports.finding.more", count=len(rest), rule=rule)
    ids = tuple(str(x) for x in rest)
    return [
        Finding(
            f"{rule}_more",
            scope.level,
            scope.unit_id,
            None,
            "info",
            zh,
            en,
            float(len(rest)),
            (RowRef(table, "unit_id", ids),),
        )
    ]


def daily_findings(brief: Brief, rules: BriefRules) -> list[Finding]:
    units = brief.tables["units"]
    out: list[Finding] = []
    scope_row = units[
        (units["level"] == brief.scope.level) & (units["unit_id"] == brief.scope.unit_id)
    ]
    if not scope_row.empty:
        r = scope_row.iloc[0]
        zh, en = pair_translate(
            "reports.finding.scope_rate",
            name=(brief.name_zh, brief.name_en),
            rate=_fmt(r["rate_pct"]),
            prev=_fmt(r["delta_prev_pp"], signed=True),
            week=_fmt(r["delta_week_pp"], signed=True),
            hour_rate=_fmt(r["hour_rate_pct"]),
        )
        out.append(
            Finding(
                "scope_rate",
                brief.scope.level,
                brief.scope.unit_id,
                None,
                "info",
                zh,
                en,
                _num(r["rate_pct"]),
                (RowRef("units", "unit_id", (brief.scope.unit_id,)),),
            )
        )
    ents = units[units["level"] == "enterprise"]
    for _, r in ents.iterrows():
        drop = _num(r["delta_prev_pp"])
        if drop is not None and drop < -rules.rate_drop_pp:
            zh, en = pair_translate(
                "reports.finding.rate_fell",
                name=_name(r),
                rate=_fmt(r["rate_pct"]),
                drop=_fmt(-drop),
                prev=_fmt(r["rate_prev_pct"]),
            )
            out.append(
                Finding(
                    "rate_fell",
                    "enterprise",
                    str(r["unit_id"]),
                    str(r["unit_id"]),
                    "warning",
                    zh,
                    en,
                    drop,
                    (RowRef("units", "unit_id", (str(r["unit_id"]),)),),
                )
            )
    ent_names = _names_of(units, "enterprise")
    stations: pd.DataFrame = brief.notes["stations"]
    low = stations[stations["low_days"] >= rules.low_days].sort_values(["rate", "unit_id"])
    for _, r in low.head(rules.top_n).iterrows():
        eid = str(r["enterprise_id"])
        zh, en = pair_translate(
            "reports.finding.station_low",
            name=_name(r),
            enterprise=ent_names.get(eid, (eid, eid)),
            days=int(r["low_days"]),
            limit=_fmt(rules.low_rate * 100),
            rate=_fmt(_num(r["rate"]) * 100 if _num(r["rate"]) is not None else None),
        )
        out.append(
            Finding(
                "station_low",
                "station",
                str(r["unit_id"]),
                eid,
                "warning",
                zh,
                en,
                _num(r["rate"]),
                (RowRef("units", "unit_id", (str(r["unit_id"]),)),),
                propose_order=True,
            )
        )
    out += more_of("station_low", "units", low["unit_id"].iloc[rules.top_n :], brief.scope)
    cov = brief.tables["coverage"]
    for _, r in cov.iterrows():
        eid = str(r["enterprise_id"])
        c, quota = _num(r["coverage_pct"]), _num(r["quota_pct"])
        ref = (RowRef("coverage", "enterprise_id", (eid,)),)
        if c is not None and quota is not None and c < quota:
            zh, en = pair_translate(
                "reports.finding.coverage_low", name=_name(r), coverage=_fmt(c), quota=_fmt(quota)
            )
            out.append(
                Finding("coverage_low", "enterprise", eid, eid, "warning", zh, en, c, ref, True)
            )
        sensors, offline = _num(r["sensors"]) or 0.0, _num(r["offline_sensors"]) or 0.0
        if sensors > 0 and offline / sensors > rules.offline_share_max:
            zh, en = pair_translate(
                "reports.finding.offline_high",
                name=_name(r),
                offline=int(offline),
                sensors=int(sensors),
                share=_fmt(offline / sensors * 100),
            )
            out.append(
                Finding("offline_high", "enterprise", eid, eid, "warning", zh, en, offline, ref)
            )
        state = str(r["licence_state"])
        valid_to = r.get("licence_valid_to")
        if state == "valid" and valid_to is not None and not pd.isna(valid_to):
            left = (valid_to - brief.first_day).days
            if left <= rules.licence_warn_days:
                zh, en = pair_translate(
                    "reports.finding.licence_expiring",
                    name=_name(r),
                    date=str(valid_to),
                    days=left,
                )
                out.append(
                    Finding("licence_expiring", "enterprise", eid, eid, "info", zh, en, left, ref)
                )
        if state != "valid":
            zh, en = pair_translate(
                "reports.finding.no_licence",
                name=_name(r),
                state=(
                    translate(f"oversight.licence_state.{state}", "zh"),
                    translate(f"oversight.licence_state.{state}", "en"),
                ),
            )
            out.append(Finding("no_licence", "enterprise", eid, eid, "critical", zh, en, None, ref))
    long_cold: pd.DataFrame = brief.notes["long_cold"]
    for eid, rows in long_cold.groupby("enterprise_id"):
        zh, en = pair_translate(
            "reports.finding.long_cold",
            name=ent_names.get(str(eid), (str(eid), str(eid))),
            count=len(rows),
            hours=rules.long_cold_h,
            longest=int(rows["longest_run_h"].max()),
        )
        ids = tuple(str(h) for h in rows["household_id"])
        out.append(
            Finding(
                "long_cold",
                "enterprise",
                str(eid),
                str(eid),
                "warning",
                zh,
                en,
                float(len(rows)),
                (RowRef("cold_homes", "household_id", ids),),
            )
        )
    complaints = brief.tables.get("complaints")
    if complaints is not None:
        for _, r in complaints[complaints["overdue"] > 0].iterrows():
            eid = str(r["enterprise_id"])
            zh, en = pair_translate(
                "reports.finding.complaints_overdue",
                name=ent_names.get(eid, (eid, eid)),
                overdue=int(r["overdue"]),
            )
            out.append(
                Finding(
                    "complaints_overdue",
                    "enterprise",
                    eid,
                    eid,
                    "warning",
                    zh,
                    en,
                    float(r["overdue"]),
                    (RowRef("complaints", "enterprise_id", (eid,)),),
                )
            )
    return out
