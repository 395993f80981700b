"""``nuanliu monitor …``: compliance drill-down, cold/overheated/offline homes,
suspicious data and alerts, as rich tables with Chinese and English headers."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from nuanliu.cli_store import cli_store
from nuanliu.config import load_settings
from nuanliu.errors import InvalidInput
from nuanliu.scope import Scope

app = typer.Typer(no_args_is_help=True, help="Indoor-temperature monitoring (室温监测).")
alerts_app = typer.Typer(no_args_is_help=True, help="Alerts (告警): evaluate, list, acknowledge.")
app.add_typer(alerts_app, name="alerts")

console = Console()
EVERYTHING = Scope.everything()

DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the data dir)")


def _tz() -> ZoneInfo:
    return ZoneInfo(load_settings().timezone)


def _day(text: str | None) -> date:
    if not text:
        return datetime.now(_tz()).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from exc


def _instant(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO time") from exc
    return value if value.tzinfo else value.replace(tzinfo=_tz())


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "–"
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    if kind == "temp":
        return f"{float(value):.1f}"
    if kind == "time":
        ts = pd.Timestamp(value)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        return ts.tz_convert(_tz()).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _print(df: pd.DataFrame, columns: list[tuple[str, str, str]], title: str) -> None:
    """Columns: (dataframe column, header 中文 / English, format kind)."""
    table = Table(title=title, header_style="bold")
    for _, header, kind in columns:
        table.add_column(header, justify="right" if kind in ("pct", "temp", "int") else "left")
    for row in df.itertuples(index=False):
        rec = row._asdict()
        table.add_row(*[_fmt(rec.get(col), kind) for col, _, kind in columns])
    console.print(table)
    if df.empty:
        console.print("无数据 / no rows")


@app.command("compliance")
def compliance_cmd(
    db: str | None = DbOpt,
    level: str = typer.Option("city", help="city | county | enterprise | station | building"),
    day: str | None = typer.Option(None, help="Local day YYYY-MM-DD (default today)"),
    days: int = typer.Option(1, min=1, help="Number of days from --day"),
    parent: str | None = typer.Option(None, help="Only units under this parent id"),
    hours: bool = typer.Option(False, help="Also the share of compliant household-hours"),
) -> None:
    """Compliance rate (室温达标率) per unit."""
    from nuanliu.monitor.compliance import compliance

    first = _day(day)
    with cli_store(db, console) as store:
        df = compliance(
            store,
            EVERYTHING,
            level,
            parent_id=parent,
            start=first,
            end=first + timedelta(days=days),
            hours=hours,
        )
    cols = [
        ("unit_id", "编号 ID", "str"),
        ("name_zh", "名称", "str"),
        ("name_en", "Name", "str"),
        ("households", "户数 Households", "int"),
        ("reporting_households", "在线 Reporting", "int"),
        ("compliant_households", "达标 Compliant", "int"),
        ("rate", "达标率 Rate", "pct"),
        ("mean_temp_c", "均温 Mean °C", "temp"),
        ("min_temp_c", "最低 Min °C", "temp"),
        ("cold_households", "低温 Cold", "int"),
        ("overheated_households", "超温 Overheated", "int"),
        ("offline_sensors", "离线 Offline", "int"),
    ]
    if hours:
        cols.append(("hour_rate", "小时达标率 Hour rate", "pct"))
    _print(df, cols, f"室温达标率 Compliance — {level}, {first} ({days} d)")


def _window(day: str | None) -> tuple[datetime, datetime]:
    first = _day(day)
    start = datetime.combine(first, datetime.min.time(), tzinfo=_tz())
    return start, start + timedelta(days=1)


HOME_COLS = [
    ("household_id", "住户 Household", "str"),
    ("address", "地址 Address", "str"),
    ("station_id", "换热站 Station", "str"),
    ("longest_run_h", "连续小时 Run h", "int"),
    ("hours", "累计小时 Hours", "int"),
    ("since", "开始 Since", "time"),
    ("mean_temp_c", "均温 Mean °C", "temp"),
    ("min_temp_c", "最低 Min °C", "temp"),
]


@app.command("cold")
def cold_cmd(
    db: str | None = DbOpt,
    day: str | None = typer.Option(None, help="Local day YYYY-MM-DD (default today)"),
    below: float = typer.Option(16.0, help="Threshold °C"),
    min_hours: int = typer.Option(6, help="Consecutive hours below the threshold"),
) -> None:
    """Cold homes (低温户): hourly mean below the threshold for N hours in a row."""
    from nuanliu.monitor.homes import cold_homes

    start, end = _window(day)
    with cli_store(db, console) as store:
        df = cold_homes(store, EVERYTHING, start, end, below_c=below, min_hours=min_hours)
    _print(df, HOME_COLS, f"低温户 Cold homes < {below:g} °C ≥ {min_hours} h")


@app.command("overheated")
def overheated_cmd(
    db: str | None = DbOpt,
    day: str | None = typer.Option(None, help="Local day YYYY-MM-DD (default today)"),
    above: float = typer.Option(24.0, help="Threshold °C"),
    min_hours: int = typer.Option(6, help="Consecutive hours above the threshold"),
) -> None:
    """Overheated homes (超温户, wasted heat)."""
    from nuanliu.monitor.homes import overheated_homes

    start, end = _window(day)
    with cli_store(db, console) as store:
        df = overheated_homes(store, EVERYTHING, start, end, above_c=above, min_hours=min_hours)
    _print(df, HOME_COLS, f"超温户 Overheated homes > {above:g} °C ≥ {min_hours} h")


@app.command("offline")
def offline_cmd(
    db: str | None = DbOpt,
    at: str | None = typer.Option(None, help="As of this time (ISO; default now)"),
    silent_h: float = typer.Option(2.0, help="Silent for more than this many hours"),
) -> None:
    """Offline sensors (离线设备)."""
    from nuanliu.monitor.homes import offline_sensors

    with cli_store(db, console) as store:
        df = offline_sensors(store, EVERYTHING, _instant(at), silent_for=timedelta(hours=silent_h))
    cols = [
        ("sensor_id", "设备 Sensor", "str"),
        ("household_id", "住户 Household", "str"),
        ("address", "地址 Address", "str"),
        ("station_id", "换热站 Station", "str"),
        ("last_seen", "最后上报 Last seen", "time"),
        ("silent_h", "静默小时 Silent h", "temp"),
    ]
    _print(df, cols, f"离线设备 Offline sensors (> {silent_h:g} h)")


@app.command("suspicious")
def suspicious_cmd(
    db: str | None = DbOpt,
    day: str | None = typer.Option(None, help="Local day YYYY-MM-DD (default today)"),
) -> None:
    """Suspicious data (异常数据): stuck values, jumps, spikes, open windows."""
    from nuanliu.monitor.suspicious import suspicious_readings

    start, end = _window(day)
    with cli_store(db, console) as store:
        df = suspicious_readings(store, EVERYTHING, start, end)
    cols = [
        ("sensor_id", "设备 Sensor", "str"),
        ("household_id", "住户 Household", "str"),
        ("kind", "类型 Kind", "str"),
        ("start", "开始 Start", "time"),
        ("end", "结束 End", "time"),
        ("value_c", "数值 Value °C", "temp"),
        ("detail", "说明 Detail", "str"),
    ]
    _print(df, cols, "异常数据 Suspicious data")


@app.command("rebuild")
def rebuild_cmd(db: str | None = DbOpt) -> None:
    """Recompute every monitoring aggregate from the raw readings."""
    from nuanliu.monitor.aggregates import rebuild_aggregates

    with cli_store(db, console) as store:
        rebuild_aggregates(store)
    console.print("已重建 / aggregates rebuilt")


ALERT_COLS = [
    ("alert_id", "编号 ID", "int"),
    ("rule_name_zh", "规则", "str"),
    ("subject_kind", "对象 Kind", "str"),
    ("subject_id", "对象 Subject", "str"),
    ("state", "状态 State", "str"),
    ("raised_at", "产生 Raised", "time"),
    ("acknowledged_by", "确认人 Ack by", "str"),
    ("cleared_at", "解除 Cleared", "time"),
    ("message_en", "Message", "str"),
]


@alerts_app.command("evaluate")
def alerts_evaluate(
    db: str | None = DbOpt,
    at: str | None = typer.Option(None, help="Evaluate as of this time (ISO; default now)"),
    defaults: bool = typer.Option(True, help="Create the default rules first when there are none"),
) -> None:
    """Evaluate every rule: raise, keep or clear alerts; notify the webhook."""
    from nuanliu.monitor.alerts import default_rules, evaluate_alerts, list_rules, save_rule

    with cli_store(db, console) as store:
        if defaults and not list_rules(store):
            for rule in default_rules():
                save_rule(store, rule)
        report = evaluate_alerts(store, _instant(at))
    failed = sum(1 for d in report.deliveries if not d["delivered"])
    console.print(
        f"新增 raised {len(report.raised)} · 解除 cleared {len(report.cleared)} · "
        f"未解除 open {report.still_open} · 通知 notified "
        f"{len(report.deliveries) - failed} (失败 failed {failed})"
    )


@alerts_app.command("list")
def alerts_list(
    db: str | None = DbOpt,
    state: str = typer.Option("open", help="open | raised | acknowledged | cleared | all"),
    limit: int = typer.Option(100, min=1),
) -> None:
    """List alerts."""
    from nuanliu.monitor.alerts import list_alerts

    with cli_store(db, console) as store:
        df = list_alerts(store, EVERYTHING, state=None if state == "all" else state, limit=limit)
    _print(df, ALERT_COLS, f"告警 Alerts ({state})")


@alerts_app.command("ack")
def alerts_ack(
    alert_id: int = typer.Argument(..., help="Alert id"),
    by: str = typer.Option(..., "--by", help="Who acknowledges"),
    db: str | None = DbOpt,
) -> None:
    """Acknowledge an alert (确认告警)."""
    from nuanliu.monitor.alerts import acknowledge

    with cli_store(db, console) as store:
        try:
            alert = acknowledge(store, alert_id, by)
        except InvalidInput as exc:
            raise typer.BadParameter(exc.message) from exc
    console.print(
        f"告警 {alert_id} 已确认 / acknowledged by {alert['acknowledged_by']} at "
        f"{_fmt(alert['acknowledged_at'], 'time')}"
    )


@alerts_app.command("rules")
def alerts_rules(db: str | None = DbOpt) -> None:
    """List alert rules."""
    from nuanliu.monitor.alerts import list_rules

    with cli_store(db, console) as store:
        rules = list_rules(store)
    df = pd.DataFrame(
        [
            {
                "rule_id": r.rule_id,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "metric": r.metric,
                "threshold": r.threshold,
                "hours": r.duration.total_seconds() / 3600,
                "level": r.subject_level or "",
                "enabled": "yes" if r.enabled else "no",
            }
            for r in rules
        ]
    )
    cols = [
        ("rule_id", "规则 Rule", "str"),
        ("name_zh", "名称", "str"),
        ("name_en", "Name", "str"),
        ("metric", "指标 Metric", "str"),
        ("threshold", "阈值 Threshold", "str"),
        ("hours", "时长 Hours", "temp"),
        ("level", "层级 Level", "str"),
        ("enabled", "启用 Enabled", "str"),
    ]
    _print(df, cols, "告警规则 Alert rules")


@app.command("target")
def target_cmd(
    region_id: str = typer.Argument(..., help="city (or region) id"),
    percent: float | None = typer.Argument(None, help="new target in percent; omit to show"),
    db: str | None = DbOpt,
) -> None:
    """Show or set a city's compliance target (达标率目标, default 98 %)."""
    from nuanliu.monitor.standard import set_compliance_target, target_pct

    with cli_store(db, console) as store:
        if percent is not None:
            set_compliance_target(store, region_id, percent)
        console.print(f"{region_id}: {target_pct(store, [region_id]):g} %")
