"""Demo data for oversight (``make demo``): licences (one expiring soon, one suspended),
the two example scorecards, yesterday's briefs and the week's dispatch, supervision
orders in several states (one overdue and escalated), a season evaluation and the exit
check. Idempotent: nothing is added once the demo licences exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from nuanliu.api.accounts import User
from nuanliu.api.roles import Role
from nuanliu.oversight import orders as od
from nuanliu.oversight.evaluation import run_evaluation
from nuanliu.oversight.exit import ExitRule, check_exit
from nuanliu.oversight.licences import add_licence, set_state
from nuanliu.oversight.scorecard import EXAMPLES_DIR, load_scorecard_file, save_scorecard
from nuanliu.reports.jobs import daily_reports, previous_local_day, weekly_reports
from nuanliu.reports.scopes import enterprise_region

CLICKS = [
    ("今日研判（日研判，含PDF/XLSX下载） / today's brief", "/reports/today"),
    ("研判报告档案与周调度 / report archive and weekly dispatch", "/reports"),
    ("督办单（多种状态，含超期升级） / supervision orders", "/oversight/orders?state=all"),
    ("供热经营许可（即将到期、暂停） / licences", "/oversight/licences"),
    ("采暖季考核评价排名 / season evaluation", "/oversight/evaluations"),
    ("退出预警 / exit flags", "/oversight/exit"),
]


def _enterprises(store: Any) -> list[tuple[str, str, str | None]]:
    with store.read() as q:
        rows = q.all(
            "SELECT e.enterprise_id, e.name_zh, MIN(s.station_id) FROM enterprises e"
            " LEFT JOIN stations s ON s.enterprise_id = e.enterprise_id"
            " GROUP BY e.enterprise_id, e.name_zh ORDER BY e.enterprise_id"
        )
    return [(str(e), str(n), None if s is None else str(s)) for e, n, s in rows]


def _top_region(store: Any) -> str | None:
    with store.read() as q:
        row = q.one("SELECT region_id FROM regions WHERE parent_id IS NULL ORDER BY region_id")
    return None if row is None else str(row[0])


def seed_demo(
    store: Any, *, network: Any = None, now: datetime | None = None
) -> list[tuple[str, str]]:
    now = now or datetime.now(UTC)
    with store.read() as q:
        seeded = q.one("SELECT COUNT(*) FROM ov_licences")[0]
    ents = _enterprises(store)
    top = _top_region(store)
    if seeded or not ents or top is None:
        return CLICKS
    today = previous_local_day(store, now) + timedelta(days=1)
    regulator = User("demo-regulator", "demo-regulator", Role.REGULATOR, scope_ids=(top,))
    lics = []
    for i, (eid, name, _) in enumerate(ents):
        valid_to = today + timedelta(days=30) if i == 0 else date(today.year + 3, 6, 30)
        lics.append(
            add_licence(
                store,
                licence_no=f"供热许可-{today.year}-{i + 1:03d}",
                enterprise_id=eid,
                holder_name=name,
                valid_from=date(today.year - 2, 7, 1),
                valid_to=valid_to,
                heated_area_m2=1.5e6 + 2.5e5 * i,
                by=regulator,
            )
        )
    if len(lics) > 1:
        set_state(
            store,
            lics[-1].licence_id,
            "suspended",
            "安全检查不合格，限期整改（演示）",
            by=regulator,
        )
    cards = [
        save_scorecard(store, load_scorecard_file(EXAMPLES_DIR / name), by=regulator)
        for name in ("province_200_example.toml", "tiers_example.toml")
    ]
    daily_reports(store, now=now)
    weekly_reports(store, now=now)
    _orders(store, ents, regulator, now)
    run_evaluation(
        store,
        cards[0].scorecard_id,
        top,
        period_kind="season",
        period_label=f"{today.year if today.month >= 7 else today.year - 1}采暖季（至今）",
        first_day=today - timedelta(days=7),
        end_day=today,
        by=regulator,
        now=now,
    )
    for eid, _, _ in ents:
        check_exit(
            store,
            eid,
            ExitRule(failing_periods=1, period_kind="season", unrectified_orders=1),
            now=now,
        )
    return CLICKS


def _orders(store: Any, ents: list[tuple[str, str, str | None]], reg: User, now: datetime) -> None:
    """One order per state along the machine, spread over the enterprises."""
    paths = [
        [],
        ["accept"],
        ["accept", "report"],
        ["accept", "report", "close"],
        ["accept", "report", "send_back"],
    ]
    for i, path in enumerate(paths):
        eid, name, station = ents[i % len(ents)]
        level, subject = ("station", station) if station else ("enterprise", eid)
        o = od.create_order(
            store,
            enterprise_id=eid,
            subject_level=level,
            subject_id=subject,
            problem_zh=f"{name}：请核查并整改室温偏低问题（演示）",
            problem_en=f"{name}: check and fix low room temperatures (demo)",
            deadline=now + timedelta(days=7),
            by=reg,
            now=now - timedelta(days=1),
        )
        for k, action in enumerate(path):
            side = od.TRANSITIONS[action][2]
            who = (
                reg
                if side == od.REGULATOR
                else User(f"demo-{eid}", f"demo-{eid}", Role.ENTERPRISE_ADMIN, scope_ids=(eid,))
            )
            od.transition(
                store,
                o.order_id,
                action,
                by=who,
                note="演示 / demo",
                now=now - timedelta(hours=20 - k),
            )
    eid, name, _ = ents[-1]
    city = enterprise_region(store, eid)  # issued by the city, so it escalates upwards
    od.create_order(
        store,
        issuer_region_id=city,
        enterprise_id=eid,
        subject_level="enterprise",
        subject_id=eid,
        problem_zh=f"{name}：测温设备覆盖率不足（演示，已超期）",
        problem_en=f"{name}: sensor coverage too low (demo, overdue)",
        deadline=now - timedelta(days=2),
        by=reg,
        now=now - timedelta(days=12),
    )
    od.sweep(store, now)
