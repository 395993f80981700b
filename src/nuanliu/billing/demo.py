"""Demo data for billing: meters on the metered third of the homes, a settled season.

Heat use is consistent with the simulated buildings: each metered home's daily heat is
its RC model's steady conductance (``buildings.params.draw_params``, the parameters the
sensor simulator draws for the same home) × (20 °C − the day's mean outdoor temperature
in the Hohhot typical year) less internal gains, accumulated into weekly meter readings.
Season 2025-2026 is settled (advance, settlement, payments), with a few faulty meters
(error flags → estimated bills), a few homes that stopped heating (报停) and a few with
low-income relief; season 2026-2027 has its advance bills and readings so far.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from nuanliu.billing.examples import example_tariffs
from nuanliu.billing.payments import import_payments
from nuanliu.billing.runs import run_billing
from nuanliu.billing.tariffs import save_tariffs
from nuanliu.meters.ingest import Candidate, ingest
from nuanliu.meters.reading import MeterReading
from nuanliu.store import Store

LOCAL = ZoneInfo("Asia/Shanghai")
SETTLED, CURRENT = "2025-2026", "2026-2027"
INDOOR_C = 20.0
STEP = timedelta(days=7)


def _households(store: Store) -> pd.DataFrame:
    with store.read() as q:
        return q.df(
            "SELECT h.household_id, h.building_id, b.station_id, h.floor_area_m2, h.metered, "
            "b.year_built, b.floors FROM households h JOIN buildings b ON "
            "b.building_id = h.building_id ORDER BY h.household_id"
        )


def daily_heat_gj(homes: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """(homes × days) heat in GJ from the homes' RC parameters and Hohhot's weather."""
    from nuanliu.buildings.heating_curve import default_heating_curve
    from nuanliu.buildings.params import draw_params
    from nuanliu.weather.climate import daily_mean_temp_c
    from nuanliu.weather.shipped import load_weather

    temps = {}
    for year in sorted({d.year for d in days}):
        daily = daily_mean_temp_c(load_weather("hohhot", year=year))
        temps.update({ts.date(): t for ts, t in daily.items()})
    t_out = np.array([temps.get(d.date(), 0.0) for d in days])
    units = homes.rename(columns={"household_id": "unit_id"}).assign(
        household_id=homes["household_id"]
    )
    params = draw_params(units, default_heating_curve(), seed=0)
    loss_w = params.h_total_w_k[:, None] * np.clip(INDOOR_C - t_out[None, :], 0, None)
    gains_w = (params.internal_gain_w_m2 * params.floor_area_m2)[:, None]
    return np.clip(loss_w - gains_w, 0, None) * 86400 / 1e9


def _season_days(season: str, until: date | None = None) -> pd.DatetimeIndex:
    start = date(int(season[:4]), 10, 15)
    end = date(int(season[:4]) + 1, 4, 15)
    if until is not None:
        end = min(end, until)
    return pd.date_range(start, end, freq="D")


def _readings_table(
    meters: list[str], cumulative: np.ndarray, stamps: list[datetime], base: np.ndarray
) -> pa.Table:
    n, k = cumulative.shape
    energy = (base[:, None] + cumulative).round(3)
    volume = (energy / 0.04).round(2)  # ΔT ≈ 10 K: 1 m³ carries ≈ 0.042 GJ
    received = datetime.now(UTC)
    return pa.table(
        {
            "meter_id": np.repeat(meters, k),
            "read_at": pa.array(stamps * n, type=pa.timestamp("us", tz="UTC")),
            "energy_gj": pa.array(
                [Decimal(f"{v:.3f}") for v in energy.ravel()], pa.decimal128(18, 6)
            ),
            "volume_m3": pa.array(
                [Decimal(f"{v:.2f}") for v in volume.ravel()], pa.decimal128(18, 6)
            ),
            "supply_temp_c": pa.array([Decimal("48.5")] * (n * k), pa.decimal128(9, 3)),
            "return_temp_c": pa.array([Decimal("38.2")] * (n * k), pa.decimal128(9, 3)),
            "billable": [True] * (n * k),
            "source": ["demo"] * (n * k),
            "received_at": pa.array([received] * (n * k), type=pa.timestamp("us", tz="UTC")),
        }
    )


def _weekly(days: pd.DatetimeIndex, heat: np.ndarray) -> tuple[list[datetime], np.ndarray]:
    """Reading times (local midnight, weekly, plus the day after the last day) and the
    cumulative GJ at each."""
    cum = np.concatenate([np.zeros((heat.shape[0], 1)), np.cumsum(heat, axis=1)], axis=1)
    idx = list(range(0, len(days), 7))
    if idx[-1] != len(days):
        idx.append(len(days))
    stamps = [
        datetime.combine((days[0] + pd.Timedelta(days=i)).date(), time(0), LOCAL).astimezone(UTC)
        for i in idx
    ]
    return stamps, cum[:, idx]


def seed_demo(store: Store, *, network: Any = None, now: datetime) -> list[tuple[str, str]]:
    homes = _households(store)
    clicks = [("收费与收缴率 / Billing and collection", "/billing")]
    if homes.empty:
        return clicks
    sample = (
        str(homes.loc[homes["metered"], "household_id"].iloc[0]) if homes["metered"].any() else ""
    )
    if sample:
        clicks.append(
            ("居民账单示例 / A resident's bill", f"/billing/household/{sample}?season={SETTLED}")
        )
    with store.read() as q:
        if q.scalar("SELECT COUNT(*) FROM billing_runs WHERE season = ?", [SETTLED]):
            return clicks
    save_tariffs(store, example_tariffs())
    rng = np.random.default_rng(11)
    metered = homes[homes["metered"]].reset_index(drop=True)
    ids = metered["household_id"].astype(str).tolist()
    meters = [f"HM-{h}" for h in ids]
    faulty = set(rng.choice(len(ids), size=min(5, len(ids)), replace=False).tolist())
    stopped = set(rng.choice(len(homes), size=max(len(homes) // 100, 3), replace=False).tolist())
    relief = set(rng.choice(len(homes), size=max(len(homes) // 60, 3), replace=False).tolist())
    with store.write() as w:
        w.executemany(
            "INSERT INTO heat_meters (meter_id, household_id, protocol, mbus_secondary_address, "
            "cjt188_address, make, model, installed_on, verified_on, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    m,
                    h,
                    "mbus" if i % 2 else "cjt188",
                    f"{30000000 + i:08d}" if i % 2 else None,
                    None if i % 2 else f"{20000000000000 + i:014d}",
                    "Landis+Gyr" if i % 2 else "汇中",
                    "T230" if i % 2 else "HCR-20",
                    date(2020, 9, 1),
                    date(2021 + i % 3, 9, 1 + i % 20),
                    "active",
                )  # fmt: skip
                for i, (m, h) in enumerate(zip(meters, ids, strict=True))
            ],
        )
        for season in (SETTLED, CURRENT):
            w.executemany(
                "INSERT INTO billing_household_terms (household_id, season, stopped, low_income) "
                "VALUES (?, ?, ?, ?)",
                [
                    (str(homes["household_id"][i]), season, i in stopped, i in relief)
                    for i in sorted(stopped | relief)
                ],
            )
    stopped_ids = {str(homes["household_id"][i]) for i in stopped}
    base = rng.uniform(50, 400, len(ids)).round(1)
    today = now.astimezone(LOCAL).date()
    for season in (SETTLED, CURRENT):
        days = _season_days(season, until=today - timedelta(days=1))
        if len(days) < 2:
            continue
        heat = daily_heat_gj(metered, days)
        heat[[h in stopped_ids for h in ids]] *= 0.05  # valves closed: next to nothing
        stamps, cum = _weekly(days, heat)
        good = [i for i in range(len(ids)) if i not in faulty]
        with store.write() as w:
            w.append_arrow(
                "meter_readings",
                _readings_table([meters[i] for i in good], cum[good], stamps, base[good]),
            )
        # The faulty meters' readings go through ingest: their error flags are judged there.
        cands = [
            Candidate(
                "demo:faulty",
                "",
                MeterReading(
                    "manual",
                    meters[i],
                    energy_gj=Decimal(f"{base[i] + cum[i, k]:.3f}"),
                    error_flags=("temperature sensor fault",) if k >= 3 else (),
                ),
                read_at=stamps[k],
                meter_id=meters[i],
            )  # fmt: skip
            for i in sorted(faulty)
            for k in range(len(stamps))
        ]
        ingest(store, cands, now=now)
        base = base + cum[:, -1]
    for season, kind, issued in (
        (SETTLED, "advance", date(2025, 10, 1)),
        (SETTLED, "settlement", date(2026, 5, 10)),
        (CURRENT, "advance", date(2026, 10, 1)),
    ):
        run_billing(store, season=season, kind=kind, issued_on=issued, now=now)
    _pay(store, homes, rng, now)
    return clicks


def _pay(store: Store, homes: pd.DataFrame, rng: np.random.Generator, now: datetime) -> None:
    from nuanliu.billing.runs import latest_bills

    rows = []
    for season, share, when in ((SETTLED, 0.93, "2025-11-05"), (CURRENT, 0.72, "2026-10-25")):
        bills = {b["household_id"]: b for b in latest_bills(store, season)}
        for n, hid in enumerate(sorted(bills)):
            u = rng.random()
            if u > share:
                continue
            amount = bills[hid]["total_yuan"] if u < share * 0.95 else bills[hid]["total_yuan"] / 2
            rows.append(
                {"txn_id": f"{season}-{n:06d}", "household_id": hid,
                 "amount_yuan": f"{Decimal(amount):.2f}", "paid_at": f"{when}T10:00:00+08:00",
                 "season": season}
            )  # fmt: skip
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    import_payments(store, "demo-bank.csv", buf.getvalue().encode(), channel="demo-bank", now=now)
