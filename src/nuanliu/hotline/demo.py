"""A season of hotline tickets for the demo city, consistent with its simulated readings.

Households complain in proportion to how cold their sensors say they are (the mean of
the stored history; weight ``exp(-1.6 · (mean − standard − 1))``), so the coldest flats
file most tickets, their evidence agrees, and their fixes are the ones the false-closure
rule reopens. The season is played by ``synth.Synth`` (the engine's rules in memory,
stored in bulk; a test replays it through the real writers) from the season's start to
``now``; then the real ``sla_sweep`` runs once at ``now``. Tickets whose next step lies
after ``now`` stay where they are (new, signed, on site, …). Idempotent: a store that
already has the demo season is left alone.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.hotline.calendar import load_calendar
from nuanliu.hotline.jobs import sla_sweep
from nuanliu.hotline.model import Category, Step
from nuanliu.hotline.sla import default_minutes
from nuanliu.hotline.stats_cache import bump
from nuanliu.hotline.synth import Home, Synth, first_seq, store_rows
from nuanliu.monitor.units import utc

TICKETS_PER_HOUSEHOLD = 1.2  # a season's complaints per household (3,000 homes: 3,600)
MIN_TICKETS = 2000
SEED = 10
DEMO_PASSWORD = "nuanliu-demo"
CATEGORIES = [c.value for c in Category]
CATEGORY_P = [0.52, 0.06, 0.10, 0.06, 0.13, 0.05, 0.08]


def hourly_lookup(q: Any, start: datetime, end: datetime):
    """All households' hourly means in ``[start, end)``, as a lookup function."""
    df = q.df(
        "SELECT s.household_id, h.hour_ts, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c"
        " FROM mon_sensor_hourly h JOIN sensors s ON s.sensor_id = h.sensor_id"
        " WHERE h.hour_ts >= ? AND h.hour_ts < ? GROUP BY s.household_id, h.hour_ts"
        " ORDER BY s.household_id, h.hour_ts",
        [start, end],
    )
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not df.empty:
        ts = pd.to_datetime(df["hour_ts"], utc=True).astype("datetime64[ns, UTC]")
        df = df.assign(ns=ts.astype("int64"))
        for hid, part in df.groupby("household_id", sort=False):
            series[str(hid)] = (part["ns"].to_numpy(), part["mean_c"].to_numpy())

    def lookup(household_id: str, a: datetime, b: datetime) -> list[tuple[datetime, float]]:
        found = series.get(household_id)
        if found is None:
            return []
        ns, vals = found
        lo = np.searchsorted(ns, int(a.timestamp() * 1e9))
        hi = np.searchsorted(ns, int(b.timestamp() * 1e9))
        return [
            (datetime.fromtimestamp(int(n) / 1e9, tz=a.tzinfo), float(v))
            for n, v in zip(ns[lo:hi], vals[lo:hi], strict=True)
        ]

    return lookup


def homes(q: Any) -> list[tuple[Home, float]]:
    """Every routed household with its stewards, coldness and stored mean (NaN: none)."""
    rows = q.all(
        "SELECT hc.household_id, hc.community_id, hc.enterprise_id,"
        " COALESCE(hc.standard_temp_c, 18.0), c.enterprise_steward_name,"
        " c.enterprise_steward_phone, c.government_steward_name, c.government_steward_phone,"
        " SUM(d.sum_temp_c) / NULLIF(SUM(d.n), 0)"
        " FROM household_context hc JOIN communities c ON c.community_id = hc.community_id"
        " LEFT JOIN mon_household_daily d ON d.household_id = hc.household_id"
        " GROUP BY hc.household_id, hc.community_id, hc.enterprise_id, hc.standard_temp_c,"
        " c.enterprise_steward_name, c.enterprise_steward_phone, c.government_steward_name,"
        " c.government_steward_phone ORDER BY hc.household_id"
    )
    out = []
    for r in rows:
        mean = float(r[8]) if r[8] is not None else math.nan
        std = float(r[3])
        home = Home(
            r[0],
            r[1],
            r[2],
            std,
            (r[4], r[5]),
            (r[6], r[7]),
            cold=not math.isnan(mean) and mean < std,
        )
        out.append((home, mean))
    return out


def budgets_of(q: Any):
    """The SLA budget function over the stored overrides (one query, then in memory)."""
    over = {
        (c, p, s): int(m)
        for c, p, s, m in q.all("SELECT category, season_part, step, minutes FROM hl_sla_policies")
    }

    def budget(category: Category, part: str, step: Step) -> int:
        return over.get((str(category), part, str(step)), default_minutes(category, part, step))

    return budget


def season_rows(q: Any, *, now: datetime, n: int | None = None, seed: int = SEED) -> Synth:
    """Synthesise the season up to ``now`` over the stored registry and readings."""
    cal = load_calendar(q)
    start = cal.bounds(cal.season_label(now))[0]
    found = homes(q)
    rng = np.random.default_rng(seed)
    excess = np.array([(m - h.standard_c - 1.0) if not math.isnan(m) else 1.5 for h, m in found])
    weights = np.exp(-1.6 * np.clip(excess, -4, 6))
    weights /= weights.sum()
    n = n or max(MIN_TICKETS, int(len(found) * TICKETS_PER_HOUSEHOLD))
    span_h = max(1.0, (now - start).total_seconds() / 3600)
    # a fifth of the complaints in the first 10 days, when systems are being filled, and a
    # quarter in the last 3 days (the cold snap of the simulated weather)
    pick = rng.random(n)
    hours = np.where(
        pick < 0.2,
        rng.uniform(0, min(240, span_h), n),
        np.where(
            pick < 0.45, rng.uniform(max(0, span_h - 72), span_h, n), rng.uniform(0, span_h, n)
        ),
    )
    picks = rng.choice(len(found), size=n, p=weights)
    synth = Synth(
        now=now,
        calendar=cal,
        budgets=budgets_of(q),
        hourly=hourly_lookup(q, start - timedelta(days=3), now),
    )
    base = first_seq(q)
    order = np.argsort(hours, kind="stable")
    for k, i in enumerate(order):
        home = found[int(picks[i])][0]
        cat = str(rng.choice(CATEGORIES, p=CATEGORY_P))
        if home.cold and rng.random() < 0.8:
            cat = "temp_low"
        channel = str(rng.choice(["hotline", "resident", "12345"], p=[0.45, 0.25, 0.30]))
        at = start + timedelta(seconds=float(hours[i]) * 3600)
        synth.ticket(rng, base + k, home, cat, channel, at)
    return synth


def seed_demo(store: Any, *, network: Any, now: datetime) -> list[tuple[str, str]]:
    """Fill the season up to ``now`` (once); where to click."""
    now = utc(now)
    _demo_logins(store)
    with store.read() as q:
        done = q.scalar("SELECT value FROM hl_settings WHERE key = 'demo_seeded_at'")
        has_homes = q.scalar("SELECT COUNT(*) FROM household_context") or 0
    if not done and has_homes:
        with store.read() as q:
            synth = season_rows(q, now=now)
        with store.write() as w:
            store_rows(w, synth.rows)
            w.execute(
                "INSERT INTO hl_settings (key, value) VALUES ('demo_seeded_at', ?)",
                [now.isoformat()],
            )
        sla_sweep(store, now=now, deliver=False)
        bump()
    with store.read() as q:
        reopened = q.scalar("SELECT MIN(ticket_id) FROM hl_tickets WHERE false_closure")
    clicks = [
        ("hotline queue / 热线工单", "/hotline"),
        ("hotline stats / 热线统计", "/hotline/stats"),
        ("resident complaint / 居民报修 (demo-resident)", "/hotline/mine"),
        ("gov steward / 政府管家 (demo-gov-steward)", "/login"),
        ("hotline operator / 热线坐席 (demo-hotline-operator)", "/hotline/new"),
    ]
    if reopened:
        clicks.append(("false closure / 假办结", f"/hotline/tickets/{reopened}"))
    return clicks


def _demo_logins(store: Any) -> None:
    """``demo-gov-steward`` and ``demo-hotline-operator`` next to the core demo logins."""
    from nuanliu.api.accounts import create_user, find_user
    from nuanliu.api.demo import demo_scopes
    from nuanliu.api.roles import Role

    scopes = demo_scopes(store)
    for role, ids in (
        (Role.GOV_STEWARD, scopes[Role.STEWARD]),
        (Role.HOTLINE_OPERATOR, scopes[Role.REGULATOR]),
    ):
        username = f"demo-{role.value.replace('_', '-')}"
        if find_user(store, username) is None:
            create_user(
                store,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                scope_ids=ids,
                display_name=f"Demo {role.value}",
            )
