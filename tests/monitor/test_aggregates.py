"""The maintained aggregates equal a recomputation from raw, whatever the arrival order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from nuanliu.monitor import rebuild_aggregates
from nuanliu.monitor.aggregates import partial_aggregates
from tests.monitor.city import DAY_START_UTC, build_city, readings_table

AGG_QUERIES = {
    "hourly": "SELECT sensor_id, hour_ts, n, sum_temp_c, min_temp_c, max_temp_c, first_ts,"
    " last_ts FROM mon_sensor_hourly ORDER BY sensor_id, hour_ts",
    "daily": "SELECT household_id, local_day, n, sum_temp_c, min_temp_c, max_temp_c"
    " FROM mon_household_daily ORDER BY household_id, local_day",
    "last_seen": "SELECT sensor_id, last_ts FROM mon_sensor_last_seen ORDER BY sensor_id",
}


def snapshot(store: Any) -> dict[str, pd.DataFrame]:
    with store.read() as q:
        out = {k: q.df(sql) for k, sql in AGG_QUERIES.items()}
    for df in out.values():
        for col in df.columns:
            if col.endswith("_ts"):
                df[col] = pd.to_datetime(df[col], utc=True)
            if col == "local_day":
                df[col] = pd.to_datetime(df[col]).dt.date
            if col == "n":
                df[col] = df[col].astype("int64")
    return out


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for key in AGG_QUERIES:
        pd.testing.assert_frame_equal(
            a[key].reset_index(drop=True), b[key].reset_index(drop=True), rtol=1e-9
        )


def random_batches(sensors: list[str], rng: np.random.Generator) -> list[pa.Table]:
    """Three days of 10-minute readings delivered in shuffled batches, with late rows
    (hours or days old) and duplicates of rows already sent."""
    rows = []
    for sid in sensors:
        base = rng.uniform(15, 24)
        for k in range(3 * 144):
            if rng.random() < 0.05:  # gaps
                continue
            ts = DAY_START_UTC - timedelta(days=1) + timedelta(minutes=10 * k)
            rows.append((sid, ts, round(base + rng.normal(0, 1.0), 1)))
    order = rng.permutation(len(rows))
    shuffled = [rows[i] for i in order]
    batches: list[pa.Table] = []
    pos = 0
    sent: list[tuple] = []
    while pos < len(shuffled):
        size = int(rng.integers(50, 900))
        chunk = shuffled[pos : pos + size]
        pos += size
        if sent:  # re-send some rows already stored: the store must drop them
            dup_idx = rng.integers(0, len(sent), size=int(rng.integers(1, 40)))
            chunk = chunk + [sent[i] for i in dup_idx]
        # and a duplicate inside the batch itself
        chunk = chunk + chunk[:2]
        sent.extend(chunk[: len(chunk) - 2])
        batches.append(readings_table(chunk))
    return batches


def test_maintained_aggregates_equal_recomputation_from_raw(store: Any) -> None:
    city = build_city(store)
    rng = np.random.default_rng(7)
    inserted = 0
    for batch in random_batches(list(city.sensors), rng):
        inserted += store.insert_readings(batch).inserted
    with store.read() as q:
        assert q.scalar("SELECT COUNT(*) FROM readings") == inserted
        assert q.scalar("SELECT SUM(n) FROM mon_sensor_hourly") == inserted
        assert q.scalar("SELECT SUM(n) FROM mon_household_daily") == inserted
    maintained = snapshot(store)
    assert len(maintained["daily"]) == len(city.households) * 3  # three local days
    rebuild_aggregates(store)
    assert_same(maintained, snapshot(store))


def test_daily_aggregates_match_an_independent_pandas_oracle(store: Any) -> None:
    """Local days in Asia/Shanghai, means over all sensors of the household."""
    city = build_city(store)
    rng = np.random.default_rng(11)
    for batch in random_batches(list(city.sensors)[:6], rng)[:20]:
        store.insert_readings(batch)
    with store.read() as q:
        raw = q.df(
            "SELECT r.sensor_id, r.ts, r.temp_c, s.household_id FROM readings r"
            " JOIN sensors s ON s.sensor_id = r.sensor_id"
        )
    raw["local_day"] = pd.to_datetime(raw["ts"], utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    oracle = (
        raw.groupby(["household_id", "local_day"])["temp_c"]
        .agg(["size", "mean", "min", "max"])
        .reset_index()
    )
    daily = snapshot(store)["daily"]
    merged = oracle.merge(daily, on=["household_id", "local_day"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["size"] == merged["n"]).all()
    np.testing.assert_allclose(merged["mean"], merged["sum_temp_c"] / merged["n"])
    np.testing.assert_allclose(merged["min"], merged["min_temp_c"])
    np.testing.assert_allclose(merged["max"], merged["max_temp_c"])


def test_window_rebuild_repairs_only_that_window(store: Any) -> None:
    city = build_city(store)
    rng = np.random.default_rng(3)
    for batch in random_batches(list(city.sensors)[:5], rng):
        store.insert_readings(batch)
    good = snapshot(store)
    # Corrupt every aggregate, then rebuild one local day: only that day is repaired.
    with store.write() as w:
        w.execute("UPDATE mon_household_daily SET n = n + 1000")
        w.execute("UPDATE mon_sensor_hourly SET n = n + 1000")
    day_start = DAY_START_UTC  # local midnight of 2025-01-15
    rebuild_aggregates(store, day_start + timedelta(hours=3), day_start + timedelta(hours=5))
    now = snapshot(store)
    day = day_start.date() + timedelta(days=1)
    fixed = now["daily"]["local_day"] == day
    assert fixed.any()
    pd.testing.assert_frame_equal(
        now["daily"][fixed].reset_index(drop=True), good["daily"][fixed].reset_index(drop=True)
    )
    assert (now["daily"][~fixed]["n"] > 1000).all()
    in_day = (now["hourly"]["hour_ts"] >= day_start) & (
        now["hourly"]["hour_ts"] < day_start + timedelta(days=1)
    )
    assert (now["hourly"][in_day]["n"] < 1000).all()
    assert (now["hourly"][~in_day]["n"] > 1000).all()


def test_partial_aggregates_group_by_utc_hour_and_local_day() -> None:
    rows = [
        ("a", DAY_START_UTC - timedelta(minutes=10), 20.0),  # 23:50 local, previous day
        ("a", DAY_START_UTC, 22.0),  # local midnight: the new day
        ("a", DAY_START_UTC + timedelta(minutes=50), 18.0),
        ("a", DAY_START_UTC + timedelta(minutes=20), float("nan")),  # skipped
    ]
    hourly, daily = partial_aggregates(readings_table(rows), "Asia/Shanghai")
    by_hour = {r["hour_ts"]: r for r in hourly.to_pylist()}
    assert by_hour[DAY_START_UTC]["n"] == 2
    assert by_hour[DAY_START_UTC]["sum_temp_c"] == 40.0
    assert by_hour[DAY_START_UTC]["min_temp_c"] == 18.0
    days = {r["local_day"].isoformat(): r["n"] for r in daily.to_pylist()}
    assert days == {"2025-01-14": 1, "2025-01-15": 2}


def test_time_zone_change_rebuilds_local_days(store: Any) -> None:
    from nuanliu.errors import InvalidInput
    from nuanliu.monitor import register_aggregates, set_monitor_timezone

    city = build_city(store)
    assert register_aggregates(store) is register_aggregates(store)  # one hook per store
    sid = next(iter(city.sensors))
    # 23:00 and 01:00 local (Asia/Shanghai) are different local days, one UTC day.
    rows = [
        (sid, DAY_START_UTC - timedelta(hours=1), 18.0),
        (sid, DAY_START_UTC + timedelta(hours=1), 22.0),
    ]
    store.insert_readings(readings_table(rows))
    assert len(snapshot(store)["daily"]) == 2
    set_monitor_timezone(store, "UTC")
    daily = snapshot(store)["daily"]
    assert len(daily) == 1 and daily.iloc[0]["n"] == 2
    # New readings follow the new zone too.
    store.insert_readings(readings_table([(sid, DAY_START_UTC + timedelta(hours=2), 20.0)]))
    daily = snapshot(store)["daily"]
    assert len(daily) == 1 and daily.iloc[0]["n"] == 3
    with pytest.raises(InvalidInput):
        set_monitor_timezone(store, "Mars/Olympus_Mons")


def test_upgrade_from_indexed_aggregates_keeps_them(db_url: str) -> None:
    """Aggregates written before migration 0013 (unique keys) survive it unchanged."""
    from nuanliu.monitor import register_aggregates
    from nuanliu.store import open_store

    old = open_store(db_url, migrate=False)
    try:
        old.migrate(target=12)
        register_aggregates(old)
        city = build_city(old)
        for batch in random_batches(list(city.sensors)[:4], np.random.default_rng(5))[:10]:
            old.insert_readings(batch)
        before = snapshot(old)
    finally:
        old.close()
    new = open_store(db_url)
    try:
        register_aggregates(new)
        assert_same(before, snapshot(new))
        for batch in random_batches(list(city.sensors)[:4], np.random.default_rng(6))[:10]:
            new.insert_readings(batch)
        maintained = snapshot(new)
        rebuild_aggregates(new)
        assert_same(maintained, snapshot(new))
    finally:
        new.close()
