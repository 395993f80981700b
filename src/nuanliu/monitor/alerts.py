"""Alert rules and the alert lifecycle: raised → acknowledged → cleared.

A rule watches one metric over a duration, optionally within one unit:

- ``household_temp_below`` / ``household_temp_above``: every hourly household mean of
  the last ``duration`` (whole hours before ``now``; at least half of them reported)
  below / above ``threshold`` °C — e.g. below 16 °C for 6 h;
- ``household_below_standard``: the household's mean over the last ``duration`` (hourly
  means, at least half of the hours reported) below its own standard minus
  ``threshold`` °C (0 by default) — e.g. below 18 °C over 24 h: the home that is not
  compliant although it is never "cold" (a household violating an enabled
  ``household_temp_below`` rule is left out, so a cold home raises one alert);
- ``sensor_offline``: no reading for ``duration`` — e.g. 2 h;
- ``compliance_below``: per unit of ``subject_level`` the share of reporting households
  whose mean over the last ``duration`` is at or above their standard is below
  ``threshold`` (a share), or with no threshold below the unit's city target
  (``nuanliu.monitor.standard``, 98 % unless configured) — e.g. station compliance
  below target over 24 h.

``evaluate_alerts(store, now)`` raises one alert per rule and subject while the
condition holds (never a second open one), keeps acknowledged alerts open, and clears
alerts whose condition ended. It is idempotent: evaluating again at the same ``now``
changes nothing. Raise and clear events are written to a webhook outbox in the same
transaction and delivered after commit (``nuanliu.monitor.webhook``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu.errors import Conflict, InvalidInput, NotFound
from nuanliu.monitor.compliance import (
    DEFAULT_STANDARD_C,
    LAST_SEEN_JOIN,
    offline_condition,
    offline_params,
)
from nuanliu.monitor.standard import DEFAULT_TARGET_PCT
from nuanliu.monitor.units import floor_hour, level_column, utc
from nuanliu.scope import Scope

# Metrics other packages evaluate: metric → "module:function(store, rule, now)" returning
# the violations frame (subject_kind, subject_id, value; optional message_zh/message_en).
PROVIDED_METRICS: dict[str, str] = {
    "substation_fault": "nuanliu.telemetry.faults:alert_violations",
}
METRICS = (
    "household_temp_below",
    "household_temp_above",
    "sensor_offline",
    "compliance_below",
    "household_below_standard",
    *PROVIDED_METRICS,
)
# Unit levels as the Chinese alert text names them.
LEVEL_ZH = {
    "region": "自治区",
    "city": "盟市",
    "county": "旗县区",
    "enterprise": "供热企业",
    "station": "换热站",
    "community": "小区",
    "building": "楼栋",
    "household": "住户",
}
STATES = ("raised", "acknowledged", "cleared")


@dataclass(frozen=True)
class AlertRule:
    rule_id: str
    metric: str
    threshold: float | None
    duration: timedelta
    name_zh: str = ""
    name_en: str = ""
    subject_level: str | None = None  # compliance_below: the unit level
    scope_level: str | None = None  # restrict to one unit ...
    scope_id: str | None = None  # ... with this id
    severity: str = "warning"
    webhook_url: str | None = None
    enabled: bool = True
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def check(self) -> AlertRule:
        if self.metric not in METRICS:
            raise InvalidInput(
                f"rule {self.rule_id}: metric {self.metric!r} is not one of {', '.join(METRICS)}"
            )
        if self.duration <= timedelta(0):
            raise InvalidInput(f"rule {self.rule_id}: duration must be positive")
        optional = ("sensor_offline", "compliance_below", "household_below_standard")
        if self.threshold is None and self.metric not in (*optional, *PROVIDED_METRICS):
            raise InvalidInput(f"rule {self.rule_id}: metric {self.metric} needs a threshold")
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise InvalidInput(f"rule {self.rule_id}: threshold {self.threshold} is not finite")
        if self.metric == "compliance_below":
            if self.subject_level is None:
                raise InvalidInput(f"rule {self.rule_id}: compliance_below needs subject_level")
            level_column(self.subject_level)
            if self.threshold is not None and not 0.0 <= float(self.threshold) <= 1.0:
                raise InvalidInput(f"rule {self.rule_id}: compliance threshold is a share 0..1")
        if (self.scope_level is None) != (self.scope_id is None):
            raise InvalidInput(f"rule {self.rule_id}: give both scope_level and scope_id")
        if self.scope_level is not None:
            level_column(self.scope_level)
        return self


def default_rules() -> list[AlertRule]:
    """The rules a heating enterprise starts with."""
    return [
        AlertRule(
            "cold-16c-6h",
            "household_temp_below",
            16.0,
            timedelta(hours=6),
            name_zh="室温低于16°C持续6小时",
            name_en="Household below 16 °C for 6 h",
            severity="critical",
        ),
        AlertRule(
            "offline-2h",
            "sensor_offline",
            None,
            timedelta(hours=2),
            name_zh="测温设备离线超过2小时",
            name_en="Sensor offline for 2 h",
        ),
        AlertRule(
            "station-compliance-target",
            "compliance_below",
            None,  # each city's target (98 % unless configured)
            timedelta(hours=24),
            subject_level="station",
            name_zh="换热站室温达标率低于目标",
            name_en="Station compliance below target",
        ),
        AlertRule(
            "below-standard-24h",
            "household_below_standard",
            None,
            timedelta(hours=24),
            name_zh="住户室温24小时低于标准",
            name_en="Household below its standard for 24 h",
        ),
    ]


_RULE_COLS = [
    "rule_id",
    "name_zh",
    "name_en",
    "metric",
    "threshold",
    "duration_minutes",
    "subject_level",
    "scope_level",
    "scope_id",
    "severity",
    "webhook_url",
    "enabled",
    "created_at",
]


def save_rule(store: Any, rule: AlertRule) -> AlertRule:
    """Create or replace a rule."""
    rule.check()
    row = [
        rule.rule_id,
        rule.name_zh or rule.rule_id,
        rule.name_en or rule.rule_id,
        rule.metric,
        rule.threshold,
        int(rule.duration.total_seconds() // 60),
        rule.subject_level,
        rule.scope_level,
        rule.scope_id,
        rule.severity,
        rule.webhook_url,
        rule.enabled,
        utc(rule.created_at),
    ]
    with store.write() as w:
        w.upsert("mon_alert_rules", _RULE_COLS, ["rule_id"], [row])
    return rule


def list_rules(store: Any, *, enabled_only: bool = False) -> list[AlertRule]:
    where = "WHERE enabled" if enabled_only else ""
    with store.read() as q:
        rows = q.dicts(f"SELECT * FROM mon_alert_rules {where} ORDER BY rule_id")
    return [
        AlertRule(
            rule_id=r["rule_id"],
            metric=r["metric"],
            threshold=r["threshold"],
            duration=timedelta(minutes=int(r["duration_minutes"])),
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            subject_level=r["subject_level"],
            scope_level=r["scope_level"],
            scope_id=r["scope_id"],
            severity=r["severity"],
            webhook_url=r["webhook_url"],
            enabled=bool(r["enabled"]),
            created_at=r["created_at"],
        )
        for r in rows
    ]


def set_default_webhook(store: Any, url: str | None) -> None:
    """The webhook for rules without their own ``webhook_url`` (None: no default)."""
    with store.write() as w:
        w.execute("DELETE FROM mon_settings WHERE key = 'webhook_url'")
        if url:
            w.execute("INSERT INTO mon_settings (key, value) VALUES ('webhook_url', ?)", [url])


# ----------------------------------------------------------------- violations


def _rule_filter(rule: AlertRule) -> tuple[str, list[Any]]:
    if rule.scope_level is None:
        return "TRUE", []
    return f"hc.{level_column(rule.scope_level)} = ?", [rule.scope_id]


def _hours_window(rule: AlertRule, now: datetime) -> tuple[datetime, datetime, int]:
    hours = max(1, math.ceil(rule.duration.total_seconds() / 3600))
    end = floor_hour(now)
    return end - timedelta(hours=hours), end, hours


def violations(store: Any, rule: AlertRule, now: datetime) -> pd.DataFrame:
    """Subjects violating ``rule`` at ``now``: ``subject_kind, subject_id, value``."""
    if rule.metric in PROVIDED_METRICS:
        import importlib

        module, fn = PROVIDED_METRICS[rule.metric].split(":")
        return getattr(importlib.import_module(module), fn)(store, rule, now)
    cond, params = _rule_filter(rule)
    with store.read() as q:
        if rule.metric in ("household_temp_below", "household_temp_above"):
            start, end, hours = _hours_window(rule, now)
            agg, op = ("MAX", "<") if rule.metric == "household_temp_below" else ("MIN", ">")
            df = q.df(
                f"""
                WITH hm AS (
                    SELECT s.household_id, h.hour_ts, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c
                    FROM mon_sensor_hourly h
                    JOIN sensors s ON s.sensor_id = h.sensor_id
                    JOIN household_context hc ON hc.household_id = s.household_id
                    WHERE {cond} AND h.hour_ts >= ? AND h.hour_ts < ?
                    GROUP BY s.household_id, h.hour_ts
                )
                SELECT 'household' AS subject_kind, household_id AS subject_id,
                       AVG(mean_c) AS value
                FROM hm GROUP BY household_id
                HAVING COUNT(*) >= ? AND {agg}(mean_c) {op} ?
                """,
                [*params, start, end, math.ceil(hours / 2), rule.threshold],
            )
        elif rule.metric == "household_below_standard":
            start, end, hours = _hours_window(rule, now)
            df = q.df(
                f"""
                WITH hm AS (
                    SELECT s.household_id, h.hour_ts, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c,
                           MIN(COALESCE(hc.standard_temp_c, ?)) AS std_c
                    FROM mon_sensor_hourly h
                    JOIN sensors s ON s.sensor_id = h.sensor_id
                    JOIN household_context hc ON hc.household_id = s.household_id
                    WHERE {cond} AND h.hour_ts >= ? AND h.hour_ts < ?
                    GROUP BY s.household_id, h.hour_ts
                )
                SELECT 'household' AS subject_kind, household_id AS subject_id,
                       AVG(mean_c) AS value
                FROM hm GROUP BY household_id
                HAVING COUNT(*) >= ? AND AVG(mean_c) < MIN(std_c) - ?
                """,
                [DEFAULT_STANDARD_C, *params, start, end, math.ceil(hours / 2),
                 float(rule.threshold or 0.0)],
            )  # fmt: skip
        elif rule.metric == "sensor_offline":
            at = utc(now)
            df = q.df(
                f"""
                SELECT 'sensor' AS subject_kind, s.sensor_id AS subject_id,
                       CAST(NULL AS DOUBLE PRECISION) AS value
                FROM sensors s JOIN household_context hc ON hc.household_id = s.household_id
                {LAST_SEEN_JOIN.format(s="s")}
                WHERE {cond} AND (s.installed_at IS NULL OR s.installed_at <= ?)
                  AND {offline_condition("s")}
                """,
                [*params, at, *offline_params(at, rule.duration)],
            )
        else:
            start, end, _ = _hours_window(rule, now)
            col = level_column(str(rule.subject_level))
            # A fixed share, or each household's city (then region) target in percent.
            target, target_params = (
                ("?", [float(rule.threshold)])
                if rule.threshold is not None
                else (
                    "COALESCE(tc.compliance_target_pct, tr.compliance_target_pct, ?) / 100.0",
                    [DEFAULT_TARGET_PCT],
                )
            )
            df = q.df(
                f"""
                WITH hm AS (
                    SELECT s.household_id, MIN(hc.{col}) AS unit_id,
                           MIN(COALESCE(hc.standard_temp_c, ?)) AS std_c,
                           MIN({target}) AS target,
                           SUM(h.sum_temp_c) / SUM(h.n) AS mean_c
                    FROM mon_sensor_hourly h
                    JOIN sensors s ON s.sensor_id = h.sensor_id
                    JOIN household_context hc ON hc.household_id = s.household_id
                    LEFT JOIN mon_compliance_targets tc ON tc.region_id = hc.city_id
                    LEFT JOIN mon_compliance_targets tr ON tr.region_id = hc.region_id
                    WHERE {cond} AND h.hour_ts >= ? AND h.hour_ts < ?
                    GROUP BY s.household_id
                )
                SELECT '{rule.subject_level}' AS subject_kind, unit_id AS subject_id,
                       AVG(CASE WHEN mean_c >= std_c THEN 1.0 ELSE 0.0 END) AS value
                FROM hm WHERE unit_id IS NOT NULL GROUP BY unit_id
                HAVING AVG(CASE WHEN mean_c >= std_c THEN 1.0 ELSE 0.0 END) < MIN(target)
                """,
                [DEFAULT_STANDARD_C, *target_params, *params, start, end],
            )
    if rule.metric == "sensor_offline" and not df.empty:
        df["value"] = rule.duration.total_seconds() / 3600.0
    return df


def _message(rule: AlertRule, kind: str, subject: str, value: float | None) -> tuple[str, str]:
    hours = rule.duration.total_seconds() / 3600
    v = float("nan") if value is None else float(value)
    if rule.metric == "household_temp_below":
        return (
            f"住户 {subject} 室温持续 {hours:g} 小时低于 {rule.threshold:g}°C（均值 {v:.1f}°C）",
            f"Household {subject} below {rule.threshold:g} °C for {hours:g} h (mean {v:.1f} °C)",
        )
    if rule.metric == "household_temp_above":
        return (
            f"住户 {subject} 室温持续 {hours:g} 小时高于 {rule.threshold:g}°C（均值 {v:.1f}°C）",
            f"Household {subject} above {rule.threshold:g} °C for {hours:g} h (mean {v:.1f} °C)",
        )
    if rule.metric == "household_below_standard":
        return (
            f"住户 {subject} 近 {hours:g} 小时平均室温 {v:.1f}°C，低于供热标准",
            f"Household {subject} averaged {v:.1f} °C over {hours:g} h, below its standard",
        )
    if rule.metric == "sensor_offline":
        return (
            f"测温设备 {subject} 已离线超过 {hours:g} 小时",
            f"Sensor {subject} silent for more than {hours:g} h",
        )
    rate = v * 100
    unit_zh = LEVEL_ZH.get(kind, kind)
    if rule.threshold is None:
        return (
            f"{unit_zh} {subject} 近 {hours:g} 小时室温达标率 {rate:.1f}%，低于目标",
            f"{kind.capitalize()} {subject} compliance {rate:.1f} % over {hours:g} h, below target",
        )
    thr = float(rule.threshold) * 100
    return (
        f"{unit_zh} {subject} 近 {hours:g} 小时室温达标率 {rate:.1f}%，低于 {thr:g}%",
        f"{kind.capitalize()} {subject} compliance {rate:.1f} % over {hours:g} h, below {thr:g} %",
    )


# ----------------------------------------------------------------- evaluation


@dataclass
class EvaluationReport:
    raised: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    still_open: int = 0
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def _payload(event: str, rule: AlertRule, alert: dict[str, Any]) -> str:
    def iso(v: Any) -> Any:
        return v.isoformat() if isinstance(v, datetime) else v

    body = {
        "event": event,
        "alert": {k: iso(v) for k, v in alert.items()},
        "rule": {
            "rule_id": rule.rule_id,
            "name_zh": rule.name_zh,
            "name_en": rule.name_en,
            "metric": rule.metric,
            "threshold": rule.threshold,
            "duration_minutes": int(rule.duration.total_seconds() // 60),
            "severity": rule.severity,
        },
    }
    return json.dumps(body, ensure_ascii=False, default=str)


def evaluate_alerts(
    store: Any,
    now: datetime | None = None,
    *,
    deliver: bool = True,
    metrics: tuple[str, ...] | None = None,
    **delivery: Any,
) -> EvaluationReport:
    """Evaluate every enabled rule at ``now`` (default: the current time); ``metrics``
    restricts the evaluation to rules of those metrics.

    Raises new alerts, refreshes open ones and clears those whose condition ended, in
    one transaction; then (``deliver=True``) posts the pending webhook events. Keyword
    ``delivery`` options go to ``webhook.deliver_pending``.
    """
    at = utc(now or datetime.now(UTC))
    enabled = list_rules(store, enabled_only=True)
    rules = enabled if metrics is None else [r for r in enabled if r.metric in metrics]
    found = {r.rule_id: violations(store, r, at) for r in rules}
    _drop_cold_from_below_standard(store, enabled, found, at)
    report = EvaluationReport()
    with store.write() as w:
        default_url = w.scalar("SELECT value FROM mon_settings WHERE key = 'webhook_url'")
        for rule in rules:
            viol = found[rule.rule_id]
            current = {
                str(s): (str(k), None if pd.isna(v) else float(v))
                for k, s, v in zip(
                    viol["subject_kind"], viol["subject_id"], viol["value"], strict=True
                )
            }
            texts = (
                dict(
                    zip(
                        viol["subject_id"].astype(str),
                        zip(viol["message_zh"], viol["message_en"], strict=True),
                        strict=True,
                    )
                )
                if "message_zh" in viol.columns
                else {}
            )
            open_rows = w.dicts(
                "SELECT * FROM mon_alerts WHERE rule_id = ? AND cleared_at IS NULL",
                [rule.rule_id],
            )
            open_by_subject = {r["subject_id"]: r for r in open_rows}
            url = rule.webhook_url or default_url
            events: list[tuple[str, dict[str, Any]]] = []
            for subject, (kind, value) in current.items():
                if subject in open_by_subject:
                    w.execute(
                        "UPDATE mon_alerts SET last_value = ?, last_evaluated_at = ?"
                        " WHERE alert_id = ?",
                        [value, at, open_by_subject[subject]["alert_id"]],
                    )
                    continue
                zh, en = texts.get(subject) or _message(rule, kind, subject, value)
                row = w.one(
                    "INSERT INTO mon_alerts (rule_id, subject_kind, subject_id, state,"
                    " raised_at, raised_value, last_value, last_evaluated_at, message_zh,"
                    " message_en) VALUES (?, ?, ?, 'raised', ?, ?, ?, ?, ?, ?)"
                    " RETURNING alert_id",
                    [rule.rule_id, kind, subject, at, value, value, at, zh, en],
                )
                assert row is not None
                alert_id = int(row[0])
                report.raised.append(alert_id)
                events.append(("raised", _alert_row(w, alert_id)))
            for subject, row in open_by_subject.items():
                if subject in current:
                    continue
                w.execute(
                    "UPDATE mon_alerts SET state = 'cleared', cleared_at = ?,"
                    " last_evaluated_at = ? WHERE alert_id = ?",
                    [at, at, row["alert_id"]],
                )
                report.cleared.append(int(row["alert_id"]))
                events.append(("cleared", _alert_row(w, int(row["alert_id"]))))
            if url:
                w.executemany(
                    "INSERT INTO mon_alert_deliveries (alert_id, event, url, payload,"
                    " created_at) VALUES (?, ?, ?, ?, ?)",
                    [(a["alert_id"], ev, url, _payload(ev, rule, a), at) for ev, a in events],
                )
        report.still_open = int(
            w.scalar("SELECT COUNT(*) FROM mon_alerts WHERE cleared_at IS NULL") or 0
        )
    if deliver:
        from nuanliu.monitor.webhook import deliver_pending

        report.deliveries = deliver_pending(store, **delivery)
    return report


def _drop_cold_from_below_standard(
    store: Any, enabled: list[AlertRule], found: dict[str, pd.DataFrame], at: datetime
) -> None:
    """A cold home raises one alert: households that violate an enabled
    ``household_temp_below`` rule are left out of ``household_below_standard`` (that rule
    is for the home that is not compliant although it is never cold). ``found`` holds the
    violations evaluated so far; a cold rule not among them is evaluated here."""
    below = [r for r in enabled if r.metric == "household_below_standard" and r.rule_id in found]
    if not below:
        return
    cold: set[str] = set()
    for r in (r for r in enabled if r.metric == "household_temp_below"):
        viol = found.get(r.rule_id)
        if viol is None:
            viol = violations(store, r, at)
        cold.update(viol["subject_id"].astype(str))
    if not cold:
        return
    for r in below:
        viol = found[r.rule_id]
        found[r.rule_id] = viol[~viol["subject_id"].astype(str).isin(cold)]


def _alert_row(q: Any, alert_id: int) -> dict[str, Any]:
    rows = q.dicts("SELECT * FROM mon_alerts WHERE alert_id = ?", [alert_id])
    if not rows:
        raise NotFound(f"alert {alert_id} does not exist", details={"alert_id": alert_id})
    return rows[0]


def acknowledge(store: Any, alert_id: int, by: str, at: datetime | None = None) -> dict[str, Any]:
    """Mark an open alert acknowledged by ``by``; it stays open until its condition ends.

    Acknowledging again is harmless (the first acknowledgement is kept); a cleared
    alert cannot be acknowledged (Conflict).
    """
    if not by:
        raise InvalidInput("acknowledge needs the name of who acknowledges")
    when = utc(at or datetime.now(UTC))
    with store.write() as w:
        alert = _alert_row(w, alert_id)
        if alert["cleared_at"] is not None:
            raise Conflict(
                f"alert {alert_id} was cleared at {alert['cleared_at']}; nothing to acknowledge",
                details={"alert_id": alert_id},
            )
        if alert["acknowledged_at"] is None:
            w.execute(
                "UPDATE mon_alerts SET state = 'acknowledged', acknowledged_at = ?,"
                " acknowledged_by = ? WHERE alert_id = ?",
                [when, by, alert_id],
            )
        return _alert_row(w, alert_id)


def list_alerts(
    store: Any,
    scope: Scope,
    *,
    state: str | None = "open",
    since: datetime | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """Alerts visible in ``scope``, newest first.

    ``state``: ``open`` (raised or acknowledged), one of ``raised, acknowledged,
    cleared``, or None for all. A household or sensor alert is visible when its
    household is; a unit alert when any household of the unit is.
    """
    conds: list[str] = []
    params: list[Any] = []
    if state == "open":
        conds.append("a.cleared_at IS NULL")
    elif state is not None:
        if state not in STATES:
            raise InvalidInput(f"state {state!r} is not open or one of {', '.join(STATES)}")
        conds.append("a.state = ?")
        params.append(state)
    if since is not None:
        conds.append("a.raised_at >= ?")
        params.append(utc(since))
    scond, sparams = scope.where("hc")
    unit_checks = " OR ".join(
        f"(a.subject_kind = '{lv}' AND hc.{level_column(lv)} = a.subject_id)"
        for lv in ("region", "city", "county", "enterprise", "station", "community", "building")
    )
    visible = f"""EXISTS (
        SELECT 1 FROM household_context hc
        WHERE ({scond}) AND (
            (a.subject_kind = 'household' AND hc.household_id = a.subject_id)
            OR (a.subject_kind = 'sensor' AND hc.household_id =
                (SELECT s.household_id FROM sensors s WHERE s.sensor_id = a.subject_id))
            OR {unit_checks}))"""
    where = (
        " AND ".join([*conds, visible])
        if not scope.is_unrestricted
        else " AND ".join(conds or ["TRUE"])
    )
    all_params = params + ([] if scope.is_unrestricted else list(sparams))
    with store.read() as q:
        return q.df(
            f"""
            SELECT a.alert_id, a.rule_id, r.name_zh AS rule_name_zh, r.name_en AS rule_name_en,
                   r.severity, a.subject_kind, a.subject_id, a.state, a.raised_at,
                   a.raised_value, a.last_value, a.acknowledged_at, a.acknowledged_by,
                   a.cleared_at, a.message_zh, a.message_en
            FROM mon_alerts a LEFT JOIN mon_alert_rules r ON r.rule_id = a.rule_id
            WHERE {where}
            ORDER BY a.raised_at DESC, a.alert_id DESC
            LIMIT {int(limit)}
            """,
            all_params,
        )
