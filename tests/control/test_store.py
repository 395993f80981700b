"""The control tables on both engines: history, versioned models, forecasts beside what
happened, schedules accepted or edited once."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from nuanliu.control import forecaster
from nuanliu.control import store as cstore
from nuanliu.control.series import prepare
from nuanliu.errors import Conflict, InvalidInput, NotFound

from .test_forecast import synthetic

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


def test_history_round_trips_and_keeps_nan_as_missing(store) -> None:
    frame = synthetic(30)
    frame.loc[frame.index[5], "heat_kw"] = np.nan
    assert cstore.save_history(store, frame) == len(frame)
    cstore.save_history(store, frame.iloc[:10])  # idempotent upsert
    back = cstore.load_history(
        store, start=frame["ts"].min(), end=frame["ts"].max() + pd.Timedelta("1h")
    )
    assert len(back) == len(frame)
    assert back["heat_kw"].isna().sum() == 1
    np.testing.assert_allclose(back["heat_kw"].dropna(), frame["heat_kw"].dropna())


def test_models_are_versioned_and_forecasts_sit_beside_actuals(store) -> None:
    frame = synthetic(40)
    cstore.save_history(store, frame)
    s = prepare(frame)["st1"]
    model = forecaster.train(s, train_until="2026-11-01", days_ahead=(1,))
    mid = cstore.save_model(store, model, s.report.messages)
    assert cstore.save_model(store, model, []) == mid  # same content, same version
    assert cstore.latest_model(store, "st1").version == mid
    assert cstore.latest_model(store, "nowhere") is None
    p = forecaster.predict(model, s, 1)
    p = p[(p.index >= "2026-11-01") & (p.index < "2026-11-03")].assign(days_ahead=1)
    origin = datetime(2026, 11, 1, tzinfo=UTC)
    assert cstore.save_forecasts(store, "st1", origin, mid, p) == 48
    both = cstore.forecast_vs_actual(
        store, "st1", start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 11, 3, tzinfo=UTC)
    )
    assert len(both) == 48 and both["actual_kw"].notna().all() and both["forecast_kw"].notna().all()
    assert list(cstore.list_models(store)["model_id"]) == [mid]


def _hourly(hours: int = 4) -> pd.DataFrame:
    idx = pd.date_range("2026-12-02", periods=hours, freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "supply_temp_c[S]": np.linspace(100, 110, hours),
            "heat_delivered_mw": 5.0,
            "forecast_mw": 5.5,
        },
        index=idx,
    )


def test_a_schedule_is_decided_once_and_edits_are_kept(store) -> None:
    h = _hourly()
    curve = np.full((1, 4), 105.0)
    sid = cstore.save_schedule(
        store,
        network="n",
        enterprise_id="E1",
        hourly=h,
        sp_ids=["S"],
        curve=curve,
        cost={"total_cost": 1.0},
        curve_cost={"total_cost": 2.0},
        status="proposed",
        now=NOW,
    )
    with pytest.raises(InvalidInput):
        cstore.decide(store, sid, decision="edited", user="op", now=NOW)
    with pytest.raises(NotFound):
        cstore.decide(
            store,
            sid,
            decision="edited",
            user="op",
            now=NOW,
            edits={("S", datetime(2027, 1, 1, tzinfo=UTC)): 99.0},
        )
    cstore.decide(
        store,
        sid,
        decision="edited",
        user="op",
        now=NOW,
        edits={("S", h.index[1].to_pydatetime()): 99.0},
    )
    head, hours = cstore.get_schedule(store, sid)
    assert (
        head["status"] == "edited"
        and head["decided_by"] == "op"
        and head["curve_cost"]["total_cost"] == 2.0
    )
    assert hours["edited_c"].notna().sum() == 1 and hours["edited_c"].max() == 99.0
    with pytest.raises(Conflict):
        cstore.decide(store, sid, decision="accepted", user="op", now=NOW)
    assert [r["schedule_id"] for r in cstore.list_schedules(store, enterprise_ids=["E1"])] == [sid]
    assert cstore.list_schedules(store, enterprise_ids=["E2"]) == []


def test_per_site_training_fans_out_and_names_sites_without_history(store) -> None:
    from nuanliu.control.cli import train_sites

    cstore.save_history(store, synthetic(40, site="st1"))
    cstore.save_history(store, synthetic(40, seed=2, site="st2"))
    cstore.save_history(store, synthetic(5, seed=3, site="short"))
    done = train_sites(
        store,
        sites=["st1", "st2", "short", "ghost"],
        train_until=datetime(2026, 11, 5, tzinfo=UTC),
        tz="Asia/Shanghai",
        country="CN",
        workers=0,
        scheduler=None,
    )
    by_site = {r["site"]: r for r in done}
    assert by_site["st1"]["model_id"] and by_site["st2"]["model_id"]
    assert by_site["st1"]["model_id"] != by_site["st2"]["model_id"]
    assert "at least" in by_site["short"]["error"]
    assert "no history" in by_site["ghost"]["error"]
    assert set(cstore.list_models(store)["site_id"]) == {"st1", "st2"}


def test_cli_import_train_predict_stores_a_forecast(tmp_path, monkeypatch) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from nuanliu.control import cli

    monkeypatch.setattr(cli, "console", Console(width=200))
    db = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    frame = synthetic(40)
    local = frame["ts"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d %H:%M")
    load = tmp_path / "load.csv"
    pd.DataFrame(
        {"time": local, "load": frame["heat_kw"], "temperature": frame["outdoor_temp_c"]}
    ).to_csv(load, index=False)
    weather = tmp_path / "weather.csv"
    pd.DataFrame({"time": local, "temperature": frame["outdoor_temp_c"]}).to_csv(
        weather, index=False
    )
    run = CliRunner()
    r = run.invoke(
        cli.app,
        [
            "forecast",
            "import",
            "--load",
            str(load),
            "--weather",
            str(weather),
            "--site",
            "HH001",
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0 and "960 hour(s) stored" in r.output, r.output
    r = run.invoke(
        cli.app,
        [
            "forecast",
            "train",
            "--site",
            "HH001",
            "--train-until",
            "2026-11-05",
            "--workers",
            "0",
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0 and "HH001" in r.output, r.output
    r = run.invoke(
        cli.app,
        [
            "forecast",
            "predict",
            "--site",
            "HH001",
            "--start",
            "2026-11-06",
            "--hours",
            "24",
            "--weather",
            str(weather),
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0 and "24 hour(s) forecast and stored" in r.output, r.output
    r = run.invoke(cli.app, ["forecast", "predict", "--site", "nowhere", "--db", db])
    assert r.exit_code == 2 and "no model" in r.output
