"""Benchmark: scheduling and the season comparison of control strategies (the forecast
backtests are ``bench/forecast.py``).

1. Tuoketuo → Hohhot: time of building the twin model (once a day), of one 48 h
   schedule optimisation, and of training a forecaster for every station (on Dask) from
   station heat the season simulation produced.
2. Season (``sim.season.simulate_season``, the dynamic twin with the demo city's
   buildings, shipped Hohhot CSWD weather): (a) heating curve, (b) curve + balancing,
   (c) Nuanliu's on-demand station set-points (indoor feedback) + balancing — heat
   produced, lost, pump electricity, cost, cold and overheated household-hours, indoor
   temperature distribution, where the saving comes from.

Usage: ``python bench/control.py [--season-start 2026-10-15 --days 183]
[--skip-season] [--case a|b|c|d]``; ``--case`` runs one season case
into the work folder (run the three in parallel, then the full command assembles).
Prints the tables and writes
``bench/results/control.md``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tables import markdown_table as md

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "control.md"
NETWORK = "tuoketuo-hohhot"
HEAT_YUAN_PER_GJ = 35.0
#: bands trained per station in the benchmark: what a 48 h schedule uses
TRAIN_BANDS = (1, 2)


# ---------------------------------------------------------------- 2 scheduling time


def schedule_timing() -> tuple[pd.DataFrame, object]:
    """Wall and CPU time (this process) of the twin model and of 48 h optimisations."""
    from nuanliu.control import service
    from nuanliu.control.plan import build_twin

    net = service.load_network(NETWORK)
    t0, c0 = time.perf_counter(), time.process_time()
    twin = build_twin(net)
    rows = [
        {
            "step": "twin model (steady solves: design + pump fit; once a day)",
            "wall s": time.perf_counter() - t0,
            "CPU s": time.process_time() - c0,
        }
    ]
    service._TWINS[NETWORK] = twin
    for day in ("2027-01-10", "2027-02-20"):
        t0, c0 = time.perf_counter(), time.process_time()
        prop = service.propose(NETWORK, start=pd.Timestamp(day, tz="Asia/Shanghai"), hours=48)
        rows.append(
            {
                "step": f"48 h schedule from {day}: reference solve, optimisation, curve",
                "wall s": time.perf_counter() - t0,
                "CPU s": time.process_time() - c0,
            }
        )
        rows.append(
            {
                "step": f"  of which the SLP ({prop.schedule.iterations} HiGHS LPs)",
                "wall s": prop.schedule.elapsed_s,
                "CPU s": prop.schedule.cpu_s,
            }
        )
    return pd.DataFrame(rows), twin


def train_all_stations(
    station_heat: pd.DataFrame, weather: pd.Series, workers: int
) -> pd.DataFrame:
    """Train one forecaster per station on simulated station heat (Dask fan-out)."""
    from nuanliu.control.cli import _train_one
    from nuanliu.distributed import run_tasks

    items = []
    split = station_heat.index[0] + (station_heat.index[-1] - station_heat.index[0]) * 0.75
    for sid in station_heat.columns[(station_heat > 0).any()]:  # the isolation station has none
        frame = pd.DataFrame(
            {
                "site_id": sid,
                "ts": station_heat.index,
                "heat_kw": station_heat[sid].to_numpy() / 1e3,
                "outdoor_temp_c": weather.reindex(station_heat.index).to_numpy(),
            }
        )
        items.append((sid, frame, str(split), "Asia/Shanghai", "CN", TRAIN_BANDS))
    t0 = time.perf_counter()
    res = run_tasks(_train_one, items, workers=workers)
    wall = time.perf_counter() - t0
    ok = sum("blob" in r for r in res)
    return pd.DataFrame(
        [
            {
                "stations": len(items),
                "trained": ok,
                "workers": workers,
                "seconds": wall,
                "train hours each": int((station_heat.index < split).sum()),
            }
        ]
    )


# ---------------------------------------------------------------- 3 season

#: the heating season of Hohhot: 15 Oct – 15 Apr
SEASON_START = "2026-10-15"
SEASON_DAYS = 183
CASES = {
    "a": "(a) heating curve",
    "b": "(b) curve + balancing",
    "c": "(c) Nuanliu on-demand + balancing",
}
#: optional variant (run with ``--case d``; listed when its result exists)
VARIANTS = {"d": "(d) = (c) + city supply just hot enough"}


def season_case(
    case: str,
    start: str,
    days: int,
    out: Path,
    setpoints: dict | None = None,
    schedule: pd.DataFrame | None = None,
    controller=None,
) -> None:
    from nuanliu.sim.season import simulate_season

    s = pd.Timestamp(start, tz="Asia/Shanghai")
    e = s + pd.Timedelta(days=days)
    t0, c0 = time.perf_counter(), time.process_time()

    def progress(done: int, total: int) -> None:
        if done % 24 == 0 or done == total:
            el = time.perf_counter() - t0
            print(
                f"[{case}] day {done // 24}/{total // 24}  {el:.0f} s wall"
                f"  ETA {el / done * (total - done):.0f} s  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    r = simulate_season(
        NETWORK,
        "hohhot",
        start=s,
        end=e,
        station_dp_setpoints=setpoints,
        source_supply_schedule=schedule,
        controller=controller,
        on_progress=progress,
    )
    st = r.stations
    demand = st[st["kind"] == "station"].pivot(index="ts", columns="element_id", values="heat_w")
    keep = {
        "totals": r.totals,
        "network": r.network,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "station_heat_w": demand,
        "interrupted": r.interrupted,
        "days_done": r.steps / 24,
        "controller_log": getattr(controller, "log", None),
    }
    out.write_bytes(pickle.dumps(keep))


#: the shipped steady twin of Tuoketuo–Hohhot does not solve with the plant below
#: ~127 °C (checked at 50–80 % load, bench notes in docs/control.md): plant set-points
#: are floored at the isolation station's design secondary supply + approach + this (K)
ISO_FLOOR_MARGIN_K = 1.0


def iso_floor_c(twin) -> float:
    from nuanliu.control.plan import STATION_APPROACH_K

    net = twin.net
    st = net.stations.set_index("station_id")
    worst = 0.0
    for k, sid in enumerate(twin.sp_ids):
        if twin.sp_parent[k] >= 0:
            worst = max(worst, float(st.loc[sid, "secondary_supply_temp_c"]))
    return worst + STATION_APPROACH_K + 1.0 + ISO_FLOOR_MARGIN_K  # 1 K: line drop at low flow


def curve_schedule_frame(twin, start: str, days: int) -> tuple[pd.DataFrame, pd.Series]:
    """The plant's set-points: the heating curve at the outdoor temperature now, floored."""
    from nuanliu.control.service import outdoor_c

    s = pd.Timestamp(start, tz="Asia/Shanghai").tz_convert("UTC")
    idx = pd.date_range(s - pd.Timedelta(hours=72), s + pd.Timedelta(days=days + 3), freq="h")
    temps = pd.Series(outdoor_c("hohhot", idx), index=idx)
    curve = twin.curve_schedule(temps.to_numpy())
    floor = iso_floor_c(twin)
    frame = pd.DataFrame(
        {
            sid: np.maximum(curve[k], floor) if twin.sp_parent[k] < 0 else curve[k]
            for k, sid in enumerate(twin.sp_ids)
        },
        index=idx,
    )
    return frame, temps


def run_case(case: str, start: str, days: int, work: Path) -> None:
    """One season case into ``work/<case>.pkl`` (separate processes run them in parallel).

    (a) plant on its (floored) curve, isolation station at its design set-point,
    stations on their quality-regulation curves; (b) + balancing; (c) + on-demand
    station set-points with indoor feedback (:mod:`nuanliu.control.ondemand`)."""
    from nuanliu.control.balance import recommend
    from nuanliu.control.ondemand import OnDemandController
    from nuanliu.control.plan import build_twin
    from nuanliu.control.service import load_network

    out = work / f"{case}.pkl"
    if out.exists():
        return
    net = load_network(NETWORK)
    twin = build_twin(net)
    bal = recommend(net).recommended if case in ("b", "c", "d") else None
    roots = [s for k, s in enumerate(twin.sp_ids) if twin.sp_parent[k] < 0]
    sched = curve_schedule_frame(twin, start, days)[0][roots]
    ctl = None
    if case == "c":
        ctl = OnDemandController()
    elif case == "d":  # the isolation station's city supply lowered to what stations need
        k_iso = next(k for k in range(len(twin.sp_ids)) if twin.sp_parent[k] >= 0)
        ctl = OnDemandController(
            isolation_curve_c={twin.sp_ids[k_iso]: twin.curve(k_iso).supply_temp_c}
        )
    season_case(case, start, days, out, setpoints=bal, schedule=sched, controller=ctl)


def season_row(name: str, d: dict) -> dict:
    t = d["totals"]
    net = d["network"]
    from nuanliu.control.plan import Prices

    prices = Prices()
    ts = pd.DatetimeIndex(net["ts"])
    elec = prices.elec_per_mwh(ts) * net["pump_electricity_w"].to_numpy() / 1e6  # 元 per hour
    heat_mwh = t["heat_produced_j"] / 3.6e9
    cost = heat_mwh * HEAT_YUAN_PER_GJ * 3.6 + float(elec.sum())
    return {
        "case": name,
        "heat produced GWh": heat_mwh / 1e3,
        "heat delivered GWh": t["heat_delivered_j"] / 3.6e12,
        "heat lost GWh": t["heat_lost_j"] / 3.6e12,
        "stored change GWh": t["stored_heat_change_j"] / 3.6e12,
        "pump electricity GWh": t["pump_electricity_j"] / 3.6e12,
        "cost M元": cost / 1e6,
        "cold household-h (M)": t["cold_household_hours"] / 1e6,
        "overheated household-h (M)": t["overheated_household_hours"] / 1e6,
        "sim wall s": d["wall_s"],
    }


def indoor_row(name: str, d: dict) -> dict:
    t = d["totals"]
    return {
        "case": name,
        "mean indoor °C": t["indoor_mean_c"],
        "p5 °C": t["indoor_p5_c"],
        "p50 °C": t["indoor_p50_c"],
        "p95 °C": t["indoor_p95_c"],
        "isolation shortfall h": t["isolation_shortfall_hours"],
        "station heat shortfall MWh": t["station_heat_shortfall_j"] / 3.6e9,
    }


def breakdown(rows: list[dict]) -> pd.DataFrame:
    """Where each case's change of heat produced vs (a) comes from (GWh; the parts sum
    to the total: produced = delivered + lost + stored change + exchanger residual)."""
    base = rows[0]
    out = []
    for r in rows[1:]:
        d_del = r["heat delivered GWh"] - base["heat delivered GWh"]
        d_loss = r["heat lost GWh"] - base["heat lost GWh"]
        d_store = r["stored change GWh"] - base["stored change GWh"]
        d_tot = r["heat produced GWh"] - base["heat produced GWh"]
        out.append(
            {
                "case": r["case"],
                "Δ produced GWh": d_tot,
                "Δ delivered to flats GWh": d_del,
                "Δ pipe loss GWh": d_loss,
                "Δ stored in pipes GWh": d_store,
                "rest GWh": d_tot - d_del - d_loss - d_store,
                "Δ pump electricity GWh": r["pump electricity GWh"] - base["pump electricity GWh"],
            }
        )
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--season-start", default=SEASON_START)
    ap.add_argument("--days", "--season-days", dest="days", type=int, default=SEASON_DAYS)
    ap.add_argument("--skip-season", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-training", action="store_true")
    ap.add_argument("--work", default="/tmp/nuanliu-control-bench")
    ap.add_argument(
        "--case", choices=["a", "b", "c", "d"], help="Run only this season case (parallel runs)"
    )
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.case:
        run_case(args.case, args.season_start, args.days, work)
        return
    parts = [
        "# Control benchmark (bench/control.py)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared); "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    parts += [
        "Forecast backtests: `bench/forecast.py` (validation first, then the test once;"
        " `bench/results/forecast.md`).",
        "",
    ]
    tcache = work / "timing.pkl"
    if tcache.exists():  # measured once per work folder (a re-assembly keeps it)
        timing = pickle.loads(tcache.read_bytes())
        from nuanliu.control.plan import build_twin
        from nuanliu.control.service import load_network

        twin = build_twin(load_network(NETWORK))
    else:
        load0 = os.getloadavg()
        timing, twin = schedule_timing()
        timing["load avg (1 min) before/after"] = f"{load0[0]:.1f} / {os.getloadavg()[0]:.1f}"
        tcache.write_bytes(pickle.dumps(timing))
    print(timing.to_string(index=False))
    parts += ["## Tuoketuo → Hohhot: one 48 h schedule optimisation", "", md(timing), ""]
    if not args.skip_season:
        start, days = args.season_start, args.days
        from nuanliu.control.balance import recommend
        from nuanliu.control.service import load_network

        bal = recommend(load_network(NETWORK))
        for case in CASES:
            run_case(case, start, days, work)
        names = {**CASES, **{c: n for c, n in VARIANTS.items() if (work / f"{c}.pkl").exists()}}
        data = {c: pickle.loads((work / f"{c}.pkl").read_bytes()) for c in names}
        done = min(d["days_done"] for d in data.values())
        rows = [season_row(names[c], data[c]) for c in names]
        season = pd.DataFrame(rows)
        print(season.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        base = season.iloc[0]

        def pct(r, col):
            return 100 * (r[col] / base[col] - 1)

        diff = pd.DataFrame(
            [
                {
                    "case": r["case"],
                    "heat produced vs (a) %": pct(r, "heat produced GWh"),
                    "heat delivered vs (a) %": pct(r, "heat delivered GWh"),
                    "heat lost vs (a) %": pct(r, "heat lost GWh"),
                    "pump electricity vs (a) %": pct(r, "pump electricity GWh"),
                    "cost vs (a) %": pct(r, "cost M元"),
                    "cold household-h vs (a) %": pct(r, "cold household-h (M)"),
                }
                for r in rows
            ]
        )
        print(diff.to_string(index=False, float_format=lambda v: f"{v:+.2f}"))
        indoor = pd.DataFrame([indoor_row(names[c], data[c]) for c in names])
        print(indoor.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        brk = breakdown(rows)
        print(brk.to_string(index=False, float_format=lambda v: f"{v:+.3f}"))
        log = pd.DataFrame(data["c"]["controller_log"] or [])
        ctl_note = (
            f"(c) controller: {len(log)} daily corrections; mean station offset vs the curve"
            f" {log['mean_offset_k'].mean():+.1f} K over the season (last day"
            f" {log['mean_offset_k'].iloc[-1]:+.1f} K); coldest sample household's low hours"
            f" {log['coldest_low_c'].mean():.2f} °C mean, station median"
            f" {log['median_low_c'].mean():.2f} °C."
            if len(log)
            else "(c) controller: no daily correction recorded."
        )
        print(ctl_note)
        parts += [
            f"## Season: {start} + {done:.0f} of {days} days, Hohhot CSWD weather,"
            " dynamic twin (sim.season)",
            "",
            md(season, ".3f"),
            "",
            md(diff, "+.2f"),
            "",
            "Indoor temperature of the households (household-hour weighted):",
            "",
            md(indoor, ".2f"),
            "",
            "Where the change of heat produced comes from (vs (a)):",
            "",
            md(brk, "+.3f"),
            "",
            f"Balancing set-points applied in (b) and (c): {bal.recommended}.",
            f"Plant set-points in all cases: its heating curve at the outdoor temperature now,"
            f" floored at {iso_floor_c(twin):.1f} °C (the shipped steady twin does not solve"
            " with the plant below ~127 °C); isolation station at its 120 °C design set-point"
            " (clamped to what its primary supply allows, shortfall counted).",
            ctl_note,
            "",
        ]
        demand = data["b"]["station_heat_w"]
        demand.index = pd.DatetimeIndex(demand.index).tz_convert("UTC")
        temps = curve_schedule_frame(twin, start, days)[1]
    if not args.skip_season and not args.skip_training:
        trcache = work / "training.pkl"
        if trcache.exists():
            tr = pickle.loads(trcache.read_bytes())
        else:
            load0 = os.getloadavg()
            c0 = time.process_time()
            tr = train_all_stations(demand, temps, args.workers)
            tr["CPU s (this process)"] = time.process_time() - c0
            tr["load avg before/after"] = f"{load0[0]:.1f} / {os.getloadavg()[0]:.1f}"
            trcache.write_bytes(pickle.dumps(tr))
        print(tr.to_string(index=False))
        parts += [
            "## Training forecasters for every station (Dask, local cluster)",
            "",
            "On the station heat simulated in (b) (hourly), first 75 % of the window as training.",
            "",
            md(tr),
            "",
        ]
    RESULTS.write_text("\n".join(parts) + "\n")
    print(f"→ {RESULTS}")


if __name__ == "__main__":
    main()
