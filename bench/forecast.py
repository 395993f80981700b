"""Benchmark: load-forecast backtests on the shipped real data, validation first.

Rolling origin, an origin at every local midnight, only data before the origin used
(``control.backtest``). Two stages, in the order the design was chosen:

1. **Validation** (data before the test periods only): Brønderslev trained on
   2016–2017 and scored on 2018; Tartu trained on Jan–Feb 2019 and scored on Mar–Apr,
   and trained on Jan–Jun and scored on Jul–Sep. The previous and the new model design
   and the LightGBM objective (L2, L1, ``mape``) are compared here.
2. **Test** (once, with the chosen design): Brønderslev trained on 2016–2018, scored on
   2019 (no weather: calendar, Danish holidays, recent load); Tartu trained on Jan–Sep,
   scored on Oct–Dec 2019 (observed weather used as the forecast).

Also: where the Brønderslev day-ahead error sits (month, hour of day, day type, day-to-day
change of the daily mean), training time (wall and CPU) and the forecast-vs-actual PNG
of two weeks of the Brønderslev test (``docs/control_forecast_bronderslev.png``).

Usage: ``python bench/forecast.py [--skip-validation]``. Writes
``bench/results/forecast.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tables import markdown_table as md

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "forecast.md"
PNG = ROOT / "docs" / "control_forecast_bronderslev.png"
BR = {"tz": "Europe/Copenhagen", "country": "DK"}
TA = {"tz": "Europe/Tallinn", "country": "EE"}


def series() -> tuple[object, object]:
    from nuanliu.control import datasets
    from nuanliu.control.series import prepare

    br = prepare(datasets.bronderslev())["bronderslev"]
    ta = prepare(datasets.tartu())["tartu-10259"]
    return br, ta


def run(s, name: str, train_until: str, test_until: str | None, opts: dict, **kw):
    """One backtest; its short table with the data set named, and the Backtest."""
    from nuanliu.control.backtest import run_backtest
    from nuanliu.control.cli import short_table

    bt = run_backtest(
        s, train_until=train_until, test_until=test_until, days_ahead=(1, 7), **opts, **kw
    )
    t = short_table(bt.table)
    t.insert(0, "data set", name)
    return t, bt


# ---------------------------------------------------------------- 1 validation


def validation(br, ta) -> tuple[list[str], pd.DataFrame]:
    from nuanliu.control.features import CALENDAR, LAGS, SHAPE, WEATHER
    from nuanliu.control.forecaster import DESIGNS, PREVIOUS, Design

    new_w = Design(tuple(CALENDAR + LAGS + SHAPE + WEATHER), True, "l1")
    everywhere = {True: new_w, False: DESIGNS[False]}
    br_runs = {
        "previous design (absolute lags, L2)": {"designs": PREVIOUS},
        "new design, L2": {"params": {"objective": "regression"}},
        "new design, mape": {"params": {"objective": "mape"}},
        "new design, L1 (shipped)": {},
    }
    ta_runs = {
        "previous design (absolute lags, L2) (shipped)": {},
        "new design, L1": {"designs": everywhere},
        "new design, mape": {"designs": everywhere, "params": {"objective": "mape"}},
    }
    windows = [
        (br, "Brønderslev 2018 (validation)", "2018-01-01", "2019-01-01", BR, br_runs),
        (ta, "Tartu Mar–Apr 2019 (validation)", "2019-03-01", "2019-05-01", TA, ta_runs),
        (ta, "Tartu Jul–Sep 2019 (validation)", "2019-07-01", "2019-10-01", TA, ta_runs),
    ]
    rows, val_pred = [], None
    for s, name, lo, hi, opts, runs in windows:
        for label, kw in runs.items():
            t, bt = run(s, name, lo, hi, opts, **kw)
            if s is br and label.endswith("(shipped)"):
                val_pred = bt.predictions[1]
            m = t[t["forecaster"] == "lightgbm"].copy()
            m["forecaster"] = f"lightgbm: {label}"
            rows.append(m)
        rows.append(t[t["forecaster"] != "lightgbm"])
    table = pd.concat(rows, ignore_index=True)
    table = table.sort_values(["data set", "horizon"], kind="stable").reset_index(drop=True)
    parts = [
        "## 1. Validation (before the test periods; designs chosen here)",
        "",
        "Brønderslev: trained 2016–2017, scored 2018. Tartu: trained Jan–Feb 2019, scored"
        " Mar–Apr (heating season), and trained Jan–Jun, scored Jul–Sep (mostly hot water)."
        " New design = load-valued lags relative to the level + 7-day profile + last-hours"
        " trend features; with weather it adds the weather features.",
        "",
        md(table),
        "",
    ]
    return parts, val_pred


# ---------------------------------------------------------------- 2 test


def error_breakdown(pred: pd.DataFrame, tz: str, country: str) -> pd.DataFrame:
    """Day-ahead MAPE of the model and of same-hour-yesterday by slice (MAPE hours only)."""
    import holidays

    from nuanliu.control.metrics import MAPE_FLOOR_SHARE

    cols = ["actual_kw", "forecast_kw", "same_hour_yesterday", "same_hour_last_week"]
    p = pred.dropna(subset=cols)
    p = p[p["actual_kw"] > MAPE_FLOOR_SHARE * p["actual_kw"].mean()]
    local = p.index.tz_convert(tz)
    ape = 100 * (p["forecast_kw"] - p["actual_kw"]).abs() / p["actual_kw"]
    ape_y = 100 * (p["same_hour_yesterday"] - p["actual_kw"]).abs() / p["actual_kw"]
    day = local.normalize()
    daily = p["actual_kw"].groupby(day).mean()
    change = (daily / daily.shift(1) - 1).abs().reindex(day).to_numpy()
    hol = holidays.country_holidays(country, years=sorted(set(local.year)))
    weekend = np.where(local.dayofweek >= 5, "weekend", "workday")
    kind = np.where([d in hol for d in local.date], "holiday", weekend)
    slices = {
        "month": local.strftime("%Y-%m"),
        "local hour": pd.cut(local.hour, [0, 6, 12, 18, 24], right=False).astype(str),
        "day type": kind,
        "daily mean vs day before": pd.cut(
            change, [0, 0.05, 0.10, 0.20, np.inf], right=False
        ).astype(str),
        "load vs mean": pd.cut(
            p["actual_kw"].to_numpy() / p["actual_kw"].mean(), [0, 0.5, 1.0, 1.5, np.inf]
        ).astype(str),
    }
    rows = []
    for sname, key in slices.items():
        g = pd.DataFrame({"k": np.asarray(key), "m": ape.to_numpy(), "y": ape_y.to_numpy()})
        for k, grp in g.groupby("k", sort=True):
            rows.append(
                {
                    "slice": sname,
                    "value": str(k),
                    "hours": len(grp),
                    "share of hours %": 100 * len(grp) / len(g),
                    "lightgbm MAPE %": grp["m"].mean(),
                    "yesterday MAPE %": grp["y"].mean(),
                    "share of APE sum %": 100 * grp["m"].sum() / g["m"].sum(),
                }
            )
    return pd.DataFrame(rows)


def plot_bronderslev(pred: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    win = pred[(pred.index >= "2019-02-04") & (pred.index < "2019-02-18")]
    fig, ax = plt.subplots(figsize=(11, 4))
    ax.plot(win.index, win["actual_kw"], color="black", lw=1.2, label="actual")
    ax.plot(win.index, win["forecast_kw"], color="tab:red", lw=1.0, label="LightGBM day-ahead")
    ax.plot(
        win.index,
        win["same_hour_yesterday"],
        color="tab:blue",
        lw=0.8,
        alpha=0.6,
        label="same hour yesterday",
    )
    ax.set_ylabel("heat, kWh/h")
    ax.set_title(
        "Brønderslev, 4–17 Feb 2019 (test period): day-ahead forecast vs actual (no weather)"
    )
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    PNG.parent.mkdir(exist_ok=True)
    fig.savefig(PNG, dpi=110)
    plt.close(fig)


def train_timing(br) -> pd.DataFrame:
    from nuanliu.control import forecaster

    rows = []
    for bands in ((1,), (1, 2), (1, 7)):
        t0, c0 = time.perf_counter(), time.process_time()
        forecaster.train(br, train_until="2019-01-01", days_ahead=bands, **BR)
        rows.append(
            {
                "what": f"train Brønderslev 2016–2018, bands {bands}",
                "hours": int(br.heat_kw[br.heat_kw.index < "2019-01-01"].notna().sum()),
                "wall s": time.perf_counter() - t0,
                "CPU s": time.process_time() - c0,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-validation", action="store_true")
    args = ap.parse_args()
    t_start = time.perf_counter()
    br, ta = series()
    parts = [
        "# Load-forecast backtests (bench/forecast.py)",
        "",
        f"{platform.node()} · {platform.processor() or platform.machine()} ·"
        f" {os.cpu_count()} cores · load average at start {os.getloadavg()[0]:.2f}",
        "",
        "Rolling origin at every local midnight; a day-ahead forecast for day D uses the load"
        " up to 23:00 of D − 1 only. MAPE over hours whose load is above 5 % of the mean;"
        " 'day' = energy per local day; every forecaster scored on the same hours.",
        "",
    ]
    val_pred = None
    if not args.skip_validation:
        t0 = time.perf_counter()
        vparts, val_pred = validation(br, ta)
        parts += vparts + [f"Validation: {time.perf_counter() - t0:.0f} s wall.", ""]
        print("\n".join(vparts))
    t0, c0 = time.perf_counter(), time.process_time()
    tb, bt_b = run(br, "Brønderslev 2019 (no weather)", "2019-01-01", None, BR)
    tt, _ = run(ta, "Tartu Oct–Dec 2019 (observed weather)", "2019-10-01", None, TA)
    test = pd.concat([tb, tt], ignore_index=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(test.to_string(index=False))
    parts += [
        "## 2. Test (run once with the chosen design)",
        "",
        md(test),
        "",
        f"Both test backtests: {wall:.0f} s wall, {cpu:.0f} s CPU"
        f" (load average {os.getloadavg()[0]:.2f}).",
        "",
        "Notes (Brønderslev): " + "; ".join(bt_b.notes),
        "",
    ]
    pred = bt_b.predictions[1]
    plot_bronderslev(pred)
    sections = [("test 2019", pred)]
    if val_pred is not None:
        sections.insert(0, ("validation 2018", val_pred))
    for label, p in sections:
        eb = error_breakdown(p, **BR)
        print(eb.to_string(index=False))
        parts += [
            f"## Where the Brønderslev day-ahead error sits ({label})",
            "",
            "APE = absolute percentage error of an hour; 'share of APE sum' = the slice's part"
            " of the MAPE.",
            "",
            md(eb),
            "",
        ]
    tm = train_timing(br)
    print(tm.to_string(index=False))
    parts += [
        "## Training time (one process, n_jobs = 1)",
        "",
        md(tm),
        "",
        f"Load average at the end {os.getloadavg()[0]:.2f}; whole bench"
        f" {time.perf_counter() - t_start:.0f} s wall.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(parts) + "\n")
    print(f"→ {RESULTS}  ·  {PNG}")


if __name__ == "__main__":
    main()
