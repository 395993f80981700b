"""The forecaster: no look-ahead, beats persistence on a learnable series, and says what
it did with bad input (NaN, missing weather, too little history) instead of zeros."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nuanliu.control import backtest, forecaster
from nuanliu.control.series import prepare
from nuanliu.errors import InvalidInput


def synthetic(days: int = 120, seed: int = 1, site: str = "st1") -> pd.DataFrame:
    """Load driven by a smoothed outdoor temperature and a daily profile, plus noise."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-10-01", periods=24 * days, freq="h", tz="UTC")
    h = np.arange(len(idx))
    temp = (
        -5
        + 8 * np.sin(2 * np.pi * h / (24 * 9))
        + 4 * np.sin(2 * np.pi * (h % 24) / 24)
        + rng.normal(0, 1, len(h))
    )
    smooth = pd.Series(temp).rolling(12, min_periods=1).mean().to_numpy()
    profile = 1 + 0.15 * np.sin(2 * np.pi * ((h % 24) - 7) / 24)
    load = np.maximum(0, 40 * (18 - smooth)) * profile * (1 + rng.normal(0, 0.02, len(h)))
    return pd.DataFrame({"site_id": site, "ts": idx, "heat_kw": load, "outdoor_temp_c": temp})


def test_forecasts_use_nothing_after_their_origin() -> None:
    frame = synthetic(60)
    s = prepare(frame)["st1"]
    model = forecaster.train(s, train_until="2026-11-15", days_ahead=(1, 2))
    day = (s.heat_kw.index >= "2026-11-20") & (s.heat_kw.index < "2026-11-21")
    base = {k: forecaster.predict(model, s, k)["forecast_kw"][day].to_numpy() for k in (1, 2)}
    # change every load from the target day's origin on: day-ahead must not move
    changed = frame.copy()
    changed.loc[changed["ts"] >= "2026-11-20", "heat_kw"] *= 3.0
    s2 = prepare(changed)["st1"]
    np.testing.assert_allclose(
        forecaster.predict(model, s2, 1)["forecast_kw"][day].to_numpy(), base[1]
    )
    # the 2-days-ahead forecast is blind to the day before the target too
    changed.loc[changed["ts"] >= "2026-11-19", "heat_kw"] *= 3.0
    s3 = prepare(changed)["st1"]
    np.testing.assert_allclose(
        forecaster.predict(model, s3, 2)["forecast_kw"][day].to_numpy(), base[2]
    )


def test_one_model_serves_any_size_of_network() -> None:
    """Load-valued features are relative to the level: a network ten times larger (or a
    unit change kWh → MWh) gets the same forecast scaled, not a model out of its range."""
    frame = synthetic(60).drop(columns="outdoor_temp_c")
    big = frame.assign(heat_kw=frame["heat_kw"] * 10.0)
    p = {}
    for name, fr in (("small", frame), ("big", big)):
        s = prepare(fr)["st1"]
        m = forecaster.train(s, train_until="2026-11-15", days_ahead=(1,))
        p[name] = forecaster.predict(m, s, 1)["forecast_kw"].to_numpy()
    ok = np.isfinite(p["small"])
    assert ok.sum() > 24 * 50
    np.testing.assert_allclose(p["big"][ok], 10.0 * p["small"][ok], rtol=1e-9)


def test_a_model_stored_before_designs_were_named_still_forecasts_as_trained() -> None:
    import pickle

    s = prepare(synthetic(40))["st1"]
    m = forecaster.train(s, train_until="2026-11-01", days_ahead=(1,), designs=forecaster.PREVIOUS)
    state = pickle.loads(m.to_bytes())
    del state["designs"]  # what an earlier version stored
    old = forecaster.ForecastModel.from_bytes(pickle.dumps(state))
    assert old.designs == forecaster.PREVIOUS
    np.testing.assert_allclose(
        forecaster.predict(old, s, 1)["forecast_kw"], forecaster.predict(m, s, 1)["forecast_kw"]
    )
    new = forecaster.train(s, train_until="2026-11-01", days_ahead=(1,))
    assert new.designs[False].relative and new.version != m.version


def test_backtest_beats_persistence_and_the_baselines_are_what_they_say() -> None:
    s = prepare(synthetic(120))["st1"]
    bt = backtest.run_backtest(s, train_until="2026-12-20", days_ahead=(1,))
    t = bt.table.set_index("forecaster")
    assert (
        t.loc["lightgbm", "hourly_mape_pct"] < 0.6 * t.loc["same_hour_yesterday", "hourly_mape_pct"]
    )
    assert t.loc["lightgbm", "daily_mape_pct"] < t.loc["degree_hour", "daily_mape_pct"]
    p = bt.predictions[1]
    lag = s.heat_kw.shift(24).reindex(p.index)
    np.testing.assert_allclose(p["same_hour_yesterday"].to_numpy(), lag.to_numpy())
    assert any("observed values" in n for n in bt.notes)


def test_nan_load_is_counted_not_trained_on_and_not_scored() -> None:
    frame = synthetic(60)
    frame.loc[frame.index[100:130], "heat_kw"] = np.nan
    frame = frame.drop(index=frame.index[200:210])  # a gap: hours missing entirely
    s = prepare(frame)["st1"]
    assert s.report.missing_load_h == 40
    assert any("without load" in m for m in s.report.messages)
    bt = backtest.run_backtest(s, train_until="2026-11-15", days_ahead=(1,))
    assert bt.table["hours"].max() <= (s.heat_kw.index >= "2026-11-15").sum()


def test_missing_weather_hours_fall_back_to_the_calendar_model() -> None:
    frame = synthetic(60)
    frame.loc[(frame["ts"] >= "2026-11-20") & (frame["ts"] < "2026-11-21"), "outdoor_temp_c"] = (
        np.nan
    )
    s = prepare(frame)["st1"]
    assert s.report.weather_missing_h == 24 and s.report.weather_interpolated_h == 0
    model = forecaster.train(s, train_until="2026-11-15", days_ahead=(1,))
    p = forecaster.predict(model, s, 1)
    gap = (p.index >= "2026-11-20") & (p.index < "2026-11-21")
    assert (p.loc[gap, "fallback"] == "no_weather").all()
    assert np.isfinite(p.loc[gap, "forecast_kw"]).all() and (p.loc[gap, "forecast_kw"] > 0).all()
    assert (p.loc[(p.index >= "2026-11-22") & (p.index < "2026-11-23"), "fallback"] == "").all()


def test_short_weather_gaps_are_interpolated() -> None:
    frame = synthetic(30)
    frame.loc[frame.index[300:303], "outdoor_temp_c"] = np.nan
    s = prepare(frame)["st1"]
    assert s.report.weather_interpolated_h == 3 and s.report.weather_missing_h == 0


def test_a_site_with_too_little_history_is_refused_with_the_fallback_named() -> None:
    s = prepare(synthetic(10))["st1"]
    with pytest.raises(InvalidInput, match="st1.*design-heat degree-hour"):
        forecaster.train(s, train_until="2026-10-11")


def test_naive_timestamps_and_missing_columns_are_refused() -> None:
    frame = synthetic(5)
    with pytest.raises(InvalidInput, match="timezone-aware"):
        prepare(frame.assign(ts=frame["ts"].dt.tz_localize(None)))
    with pytest.raises(InvalidInput, match="heat_kw"):
        prepare(frame.drop(columns="heat_kw"))


def test_model_versions_are_stable_and_round_trip() -> None:
    s = prepare(synthetic(40))["st1"]
    m = forecaster.train(s, train_until="2026-11-01", days_ahead=(1,))
    again = forecaster.ForecastModel.from_bytes(m.to_bytes())
    assert again.version == m.version
    np.testing.assert_allclose(
        forecaster.predict(again, s, 1)["forecast_kw"], forecaster.predict(m, s, 1)["forecast_kw"]
    )
    other = forecaster.train(s, train_until="2026-11-02", days_ahead=(1,))
    assert other.version != m.version


def test_cli_backtests_a_users_own_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from nuanliu.control import cli
    from nuanliu.control.cli import app

    monkeypatch.setattr(cli, "console", Console(width=240))

    frame = synthetic(70)
    load = tmp_path / "load.csv"
    weather = tmp_path / "weather.csv"
    local = frame["ts"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M")
    pd.DataFrame({"time": local, "load": frame["heat_kw"]}).to_csv(load, index=False)
    w = pd.DataFrame({"time": local, "temperature": frame["outdoor_temp_c"]}).drop(
        index=range(50, 60)
    )
    w.to_csv(weather, index=False)
    out = tmp_path / "metrics.csv"
    res = CliRunner().invoke(
        app,
        [
            "forecast",
            "backtest",
            "--load",
            str(load),
            "--weather",
            str(weather),
            "--train-until",
            "2026-11-25",
            "--tz",
            "Asia/Shanghai",
            "--days-ahead",
            "1",
            "--out",
            str(out),
        ],
        terminal_width=240,
    )
    assert res.exit_code == 0, res.output
    assert "MAPE" in res.output and "degree_hour" in res.output
    table = pd.read_csv(out)
    assert set(table["forecaster"]) == {
        "lightgbm",
        "same_hour_yesterday",
        "same_hour_last_week",
        "degree_hour",
    }


def test_cli_says_what_is_wrong_with_a_bad_file(tmp_path: Path) -> None:
    from nuanliu.control.cli import app

    bad = tmp_path / "bad.csv"
    bad.write_text("time,load\n2026-01-01 00:00,5\nyesterday,6\n")
    res = CliRunner().invoke(
        app, ["forecast", "backtest", "--load", str(bad), "--train-until", "2026-01-01"]
    )
    assert res.exit_code == 2
    assert "row 3" in res.output and "yesterday" in res.output


@pytest.mark.slow
def test_tartu_daily_energy_beats_yesterdays(shared_data: Path) -> None:
    from nuanliu.control import datasets

    s = prepare(datasets.tartu(shared_data))["tartu-10259"]
    bt = backtest.run_backtest(
        s, train_until="2019-10-01", days_ahead=(1,), tz="Europe/Tallinn", country="EE"
    )
    t = bt.table.set_index("forecaster")
    assert (
        t.loc["lightgbm", "daily_mape_pct"] < 0.6 * t.loc["same_hour_yesterday", "daily_mape_pct"]
    )


def test_a_site_whose_load_is_all_zero_is_refused_not_fitted() -> None:
    frame = synthetic(40).assign(heat_kw=0.0)
    with pytest.raises(InvalidInput, match="usable hour"):
        forecaster.train(prepare(frame)["st1"], train_until="2026-11-05", days_ahead=(1,))
