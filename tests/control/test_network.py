"""On the Tuoketuo → Hohhot example: transport delays, balancing and a 24 h schedule
that honours every station's limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nuanliu.control.balance import recommend
from nuanliu.control.delays import steady_delays
from nuanliu.control.problem import CP_MJ_PER_KG_K
from nuanliu.network.examples import load_example
from nuanliu.sim import solve_steady
from nuanliu.sim.options import SolverOptions


@pytest.fixture(scope="module")
def net():
    return load_example("tuoketuo-hohhot")


def test_line_delay_is_its_water_volume_over_its_flow(net) -> None:
    res = solve_steady(net, outdoor_temp_c=-10.0, options=SolverOptions(raise_on_failure=False))
    d = steady_delays(net, res).frame().set_index("station_id")
    line = net.pipes[(net.pipes["side"] == "supply") & net.pipes["pipe_id"].str.startswith("L")]
    volume = float((np.pi * line["inner_diameter_m"] ** 2 / 4 * line["length_m"]).sum())
    flow_m3_s = float(res.stations.set_index("station_id").loc["ISO", "mdot_kg_s"]) / 935.0
    assert d.loc["ISO", "supply_point"] == "TKT"
    assert d.loc["ISO", "delay_h"] == pytest.approx(volume / flow_m3_s / 3600, rel=0.03)
    city = d.drop(index="ISO")
    assert (city["supply_point"] == "ISO").all() and (city["delay_h"] > 0).all()
    warm = solve_steady(net, outdoor_temp_c=5.0, options=SolverOptions(raise_on_failure=False))
    d_warm = steady_delays(net, warm).frame().set_index("station_id")
    assert (d_warm["delay_h"] > d["delay_h"]).all()  # less flow: slower water


def test_balancing_lowers_head_and_keeps_every_station_supplied(net) -> None:
    b = recommend(net)
    eff = b.effect.set_index("metric")
    assert eff.loc["pump_electricity_kw", "after"] < eff.loc["pump_electricity_kw", "before"]
    assert eff.loc["stations_short", "after"] == 0
    assert eff.loc["worst_margin_bar", "after"] > -0.01
    assert eff.loc["min_flow_share_of_design", "after"] == pytest.approx(1.0, abs=1e-3)
    sp = b.setpoints.set_index("control_id")
    assert sp.loc["TKT-dp", "recommended_bar"] == pytest.approx(1.0, abs=0.01)
    v = b.valves.set_index("station_id")
    # a valve pre-set to its Kv burns exactly the excess at design flow
    row = v[np.isfinite(v["kv_m3_h"])].iloc[0]
    assert (row["mdot_kg_s"] / 960 * 3600 / row["kv_m3_h"]) ** 2 == pytest.approx(
        row["excess_bar"], rel=1e-6
    )


@pytest.mark.slow
def test_tuoketuo_schedule_meets_station_limits(net) -> None:
    from nuanliu.control import service

    prop = service.propose(
        "tuoketuo-hohhot", start=pd.Timestamp("2027-01-10", tz="Asia/Shanghai"), hours=24
    )
    p, st = prop.problem, prop.schedule.stations
    h = prop.schedule.hourly
    for k, sp in enumerate(p.sp_ids):
        t = h[f"supply_temp_c[{sp}]"]
        assert t.between(p.sp_min_c[k] - 1e-6, p.sp_max_c[k] + 1e-6).all()
    cap = (
        CP_MJ_PER_KG_K
        * st["max_mdot_kg_s"]
        * (st["arrival_temp_c"] - np.repeat(p.st_return_c, p.hours))
    )
    assert (st["heat_mw"] <= cap + 1e-6).all()
    hour = (st["ts"] - p.start) / pd.Timedelta("1h")
    total_delay = np.repeat(p.st_delay_h + p.sp_delay_h[p.st_sp], p.hours)
    free = hour.to_numpy() >= np.ceil(total_delay) + 1
    assert (st.loc[free, "arrival_temp_c"] >= st.loc[free, "min_supply_c"] - 1e-6).all()
    assert (st.loc[free, "indoor_c"] >= p.indoor_min_c - 1e-6).all()
    assert prop.schedule.elapsed_s < 60


@pytest.mark.slow
def test_shadow_job_records_the_day_beside_the_curve(tmp_path) -> None:
    from datetime import UTC, datetime

    from nuanliu.control import jobs
    from nuanliu.control import store as cstore
    from nuanliu.store import open_store

    store = open_store(f"duckdb:///{tmp_path / 'shadow.duckdb'}")
    try:
        out = jobs.shadow_schedule(store, now=datetime(2027, 1, 12, 3, tzinfo=UTC))
        assert out["day"] == "2027-01-12" and out["forecast_fallback_stations"] == 96
        head, hours = cstore.get_schedule(store, out["schedule_id"])
        assert head["status"] == "shadow" and head["enterprise_id"] is None
        assert set(hours["supply_point"]) == {"TKT", "ISO"} and len(hours) == 2 * 48
        days = cstore.shadow_days(store, "tuoketuo-hohhot")
        assert len(days) == 1 and days["curve_cost_yuan"].iloc[0] > 0
    finally:
        store.close()
