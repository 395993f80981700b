"""The dispatch page: schedule beside the curve with savings, forecast beside actual,
accept / edit by the enterprise's own operators, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from nuanliu.control import store as cstore

from .conftest import login, make_client
from .world import build_world


@pytest.fixture
def world(tmp_path):
    w = build_world(
        f"duckdb:///{tmp_path / 'c.duckdb'}", users=("operator_a", "operator_b", "resident")
    )
    try:
        yield w
    finally:
        w.store.close()


def _schedule(world, enterprise: str) -> str:
    idx = pd.date_range("2026-12-02", periods=4, freq="h", tz="UTC")
    hourly = pd.DataFrame(
        {
            "supply_temp_c[TKT]": [110.0, 111.0, 113.0, 116.0],
            "heat_delivered_mw": 10.0,
            "forecast_mw": 11.0,
        },
        index=idx,
    )
    cost = {
        "heat_delivered_mwh": 40.0,
        "supply_loss_mwh": 2.0,
        "pump_mwh": 1.0,
        "total_cost": 6000.0,
    }
    curve = {
        "heat_delivered_mwh": 44.0,
        "supply_loss_mwh": 2.5,
        "pump_mwh": 1.2,
        "total_cost": 6600.0,
    }
    return cstore.save_schedule(
        world.store,
        network="tuoketuo-hohhot",
        enterprise_id=enterprise,
        hourly=hourly,
        sp_ids=["TKT"],
        curve=np.full((1, 4), 118.0),
        cost=cost,
        curve_cost=curve,
        status="proposed",
        now=datetime.now(UTC),
    )


def test_operator_sees_savings_and_edits_the_schedule(world) -> None:
    sid = _schedule(world, "EA")
    c = login(make_client(world), "operator_a")
    page = c.get("/control?lang=en")
    assert page.status_code == 200
    assert "Expected heat saving" in page.text and "4.5" in page.text  # 46.5 − 42 MWh
    assert 'data-testid="control-accept"' in page.text
    csrf = (
        c.cookies.get("nuanliu_csrf")
        or page.text.split('name="csrf_token" value="')[1].split('"')[0]
    )
    r = c.post(
        f"/control/schedules/{sid}/decide",
        data={
            "decision": "edited",
            "supply_point": "TKT",
            "hour": "2026-12-02T01:00:00+00:00",
            "supply_temp_c": "115",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    head, hours = cstore.get_schedule(world.store, sid)
    assert head["status"] == "edited" and hours["edited_c"].max() == 115.0
    zh = c.get(f"/control?schedule={sid}&lang=zh")
    assert "已修改并采纳" in zh.text


def test_other_enterprise_sees_but_cannot_dispatch_and_residents_are_refused(world) -> None:
    _schedule(world, "EA")
    b = login(make_client(world), "operator_b")
    page = b.get("/control")
    assert page.status_code == 200 and 'data-testid="control-accept"' not in page.text
    assert 'data-testid="control-none"' in page.text  # A's schedule is not B's to see
    res = login(make_client(world), "resident")
    assert res.get("/control").status_code == 403
