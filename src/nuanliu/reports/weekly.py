"""The weekly dispatch (周调度): the week's trend, the ranking of enterprises and
stations against last week, problems carried over, and the supervision orders.

The week is the seven local days ending on ``last_day``. Numbers are
``nuanliu.monitor``'s over the 7-day window (compliant household-days / reporting
household-days).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu.monitor.aggregates import monitor_timezone
from nuanliu.monitor.compliance import compliance_trend, drilldown
from nuanliu.monitor.units import day_window
from nuanliu.reports.brief import Brief, BriefRules, Finding, RowRef
from nuanliu.reports.daily import pct
from nuanliu.reports.findings import _fmt, _name, more_of, pair_translate
from nuanliu.reports.scopes import ReportScope


def _ranking(cur: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
    df = cur.merge(
        last[["unit_id", "rate"]].rename(columns={"rate": "rate_last"}), on="unit_id", how="left"
    )
    df = df.sort_values(["rate", "mean_temp_c", "unit_id"], ascending=[False, False, True])
    return pd.DataFrame(
        {
            "rank": range(1, len(df) + 1),
            "unit_id": df["unit_id"],
            "name_zh": df["name_zh"],
            "name_en": df["name_en"],
            "households": df["households"],
            "rate_pct": pct(df["rate"]),
            "hour_rate_pct": pct(df["hour_rate"]),
            "rate_last_week_pct": pct(df["rate_last"]),
            "delta_last_week_pp": ((df["rate"] - df["rate_last"]) * 100.0).round(1),
            "mean_temp_c": pd.to_numeric(df["mean_temp_c"]).round(1),
        }
    ).reset_index(drop=True)


def order_table(store: Any, enterprise_ids: list[str]) -> pd.DataFrame:
    from nuanliu.oversight.orders import OPEN_STATES, list_orders

    rows = [
        {
            "order_id": o.order_id,
            "enterprise_id": o.enterprise_id,
            "subject_id": o.subject_id,
            "problem": o.problem_zh,
            "state": o.state,
            "deadline": o.deadline,
            "overdue": o.overdue,
            "escalation_level": o.escalation_level,
        }
        for o in list_orders(store, enterprise_ids=enterprise_ids)
        if o.state in OPEN_STATES or o.overdue
    ]
    cols = [
        "order_id",
        "enterprise_id",
        "subject_id",
        "problem",
        "state",
        "deadline",
        "overdue",
        "escalation_level",
    ]
    return pd.DataFrame(rows, columns=cols)


def build_weekly(
    store: Any,
    rs: ReportScope,
    last_day: date,
    *,
    now: datetime | None = None,
    rules: BriefRules | None = None,
) -> Brief:
    rules = rules or BriefRules()
    now = now or datetime.now(UTC)
    scope = rs.data_scope()
    name_zh, name_en = rs.names(store)
    with store.read() as q:
        tz = monitor_timezone(q)
    first = last_day - timedelta(days=6)
    window = day_window(first, last_day + timedelta(days=1), tz)
    prev_first = first - timedelta(days=7)
    as_of = min(window.end_utc, now)
    levels = (
        [rs.level, "enterprise", "station"]
        if rs.level != "enterprise"
        else ["enterprise", "station"]
    )
    cur = drilldown(store, scope, first, window.end_day, levels=levels, hours=True, as_of=as_of)
    # last week's rates only (the ranking compares rates; hour rates are this week's)
    last = drilldown(store, scope, prev_first, first, levels=levels, as_of=window.start_utc)
    trend = compliance_trend(store, scope, first, window.end_day)
    trend = pd.DataFrame(
        {
            "day": trend["day"],
            "households": trend["households"],
            "reporting_households": trend["reporting_households"],
            "compliant_households": trend["compliant_households"],
            "rate_pct": pct(trend["rate"]),
            "mean_temp_c": pd.to_numeric(trend["mean_temp_c"]).round(1),
        }
    )
    rank_e = _ranking(cur["enterprise"], last["enterprise"])
    # stations worst first: a region has thousands; the documents show the first rows
    rank_s = _ranking(cur["station"], last["station"]).iloc[::-1].reset_index(drop=True)
    # carried over: stations below the line both last week and this week
    below_now = set(cur["station"].loc[cur["station"]["rate"] < rules.low_rate, "unit_id"])
    below_last = set(last["station"].loc[last["station"]["rate"] < rules.low_rate, "unit_id"])
    carried = rank_s[rank_s["unit_id"].isin(below_now & below_last)].reset_index(drop=True)
    enterprise_ids = [str(e) for e in cur["enterprise"]["unit_id"]]
    orders = order_table(store, enterprise_ids)

    findings: list[Finding] = []
    top = cur[rs.level][cur[rs.level]["unit_id"] == rs.unit_id]
    if not top.empty:
        r = top.iloc[0]
        prev_rate = last[rs.level].loc[last[rs.level]["unit_id"] == rs.unit_id, "rate"]
        delta = (r["rate"] - prev_rate.iloc[0]) * 100 if len(prev_rate) else None
        zh, en = pair_translate(
            "reports.finding.week_rate",
            name=(name_zh, name_en),
            rate=_fmt(r["rate"] * 100 if pd.notna(r["rate"]) else None),
            delta=_fmt(delta, signed=True),
        )
        findings.append(
            Finding(
                "week_rate",
                rs.level,
                rs.unit_id,
                None,
                "info",
                zh,
                en,
                None,
                (RowRef("trend", "day", (str(first),)),),
            )
        )
    st_ent = _station_enterprises(store)
    worst_carried = carried.sort_values(["rate_pct", "unit_id"])
    for _, r in worst_carried.head(rules.top_n).iterrows():
        zh, en = pair_translate(
            "reports.finding.carried_over", name=_name(r), rate=_fmt(r["rate_pct"])
        )
        findings.append(
            Finding(
                "carried_over",
                "station",
                str(r["unit_id"]),
                st_ent.get(str(r["unit_id"])),
                "warning",
                zh,
                en,
                float(r["rate_pct"]),
                (RowRef("ranking_stations", "unit_id", (str(r["unit_id"]),)),),
                propose_order=True,
            )
        )
    findings += more_of(
        "carried_over", "ranking_stations", worst_carried["unit_id"].iloc[rules.top_n :], rs
    )
    return Brief(
        kind="weekly",
        scope=rs,
        name_zh=name_zh,
        name_en=name_en,
        first_day=window.first_day,
        end_day=window.end_day,
        data_time=as_of,
        tables={
            "trend": trend,
            "ranking_enterprises": rank_e,
            "ranking_stations": rank_s,
            "carried_over": carried,
            "orders": orders,
        },
        findings=findings,
        notes={},
    )


def _station_enterprises(store: Any) -> dict[str, str]:
    with store.read() as q:
        return {str(s): str(e) for s, e in q.all("SELECT station_id, enterprise_id FROM stations")}
