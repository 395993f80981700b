"""What users get from the data routes: masking, scoped drill-down, ingest, registry edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from nuanliu.api.audit import list_events
from nuanliu.registry import mask_name, mask_phone
from tests.api.conftest import World


def _get(world: World, who: str, url: str, **kw):
    return TestClient(world.app).get(url, headers=world.auth(who), **kw)


def _raw_household(world: World, household_id: str) -> tuple[str, str]:
    with world.store.read() as q:
        return q.all(
            "SELECT resident_name, resident_phone FROM households WHERE household_id = ?",
            [household_id],
        )[0]


def test_personal_data_masked_for_regulators_and_operators_only(world: World) -> None:
    hh = world.ids["household_a"]
    name, phone = _raw_household(world, hh)
    assert name and phone
    seen = {}
    for who in ("regulator", "operator_a", "admin_a", "steward_a", "resident_a"):
        body = _get(world, who, f"/api/v1/registry/households/{hh}").json()
        seen[who] = (body["resident_name"], body["resident_phone"])
    masked = (mask_name(name), mask_phone(phone))
    assert masked != (name, phone)
    assert seen["regulator"] == masked and seen["operator_a"] == masked
    assert seen["admin_a"] == seen["steward_a"] == seen["resident_a"] == (name, phone)
    # Lists mask the same way.
    listed = _get(world, "operator_a", "/api/v1/registry/households", params={"limit": 1000})
    row = next(r for r in listed.json() if r["household_id"] == hh)
    assert (row["resident_name"], row["resident_phone"]) == masked


def test_resident_sees_only_their_own_household(world: World) -> None:
    rows = _get(world, "resident_a", "/api/v1/registry/households").json()
    assert [r["household_id"] for r in rows] == [world.ids["household_a"]]
    counts = _get(world, "resident_a", "/api/v1/registry/counts").json()
    assert counts["households"] == 1 and counts["enterprises"] == 1


def test_enterprise_lists_never_include_another_enterprise(world: World) -> None:
    rows = _get(world, "operator_a", "/api/v1/registry/stations", params={"limit": 1000}).json()
    assert rows and {r["enterprise_id"] for r in rows} == {world.ids["enterprise_a"]}
    units = _get(
        world, "operator_b", "/api/v1/monitoring/compliance", params={"level": "enterprise"}
    )
    assert [u["unit_id"] for u in units.json()["units"]] == [world.ids["enterprise_b"]]


def test_compliance_drilldown_and_series_follow_the_readings(world: World) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sensor, hh = world.ids["sensor_a"], world.ids["household_a"]
    body = [
        {
            "sensor_id": sensor,
            "ts": (now - timedelta(hours=h, minutes=20)).isoformat(),
            "temp_c": 15.0,
        }
        for h in range(8)
    ]
    r = TestClient(world.app).post("/api/v1/readings", json=body, headers=world.auth("operator_a"))
    assert r.status_code == 200 and r.json()["stored"] == 8
    # Regulator: Hohhot's enterprises only, then the stations under enterprise A.
    top = _get(world, "regulator", "/api/v1/monitoring/compliance", params={"level": "enterprise"})
    units = {u["unit_id"]: u for u in top.json()["units"]}
    assert world.ids["enterprise_a"] in units and world.ids["enterprise_b"] not in units
    # the readings' local days (Asia/Shanghai): just after local midnight they all lie in
    # yesterday, so the default day (today) would see none of them
    local = ZoneInfo("Asia/Shanghai")
    first_day = (now - timedelta(hours=9)).astimezone(local).date()
    days = {
        "start": first_day.isoformat(),
        "end": (now.astimezone(local).date() + timedelta(days=1)).isoformat(),
    }
    down = _get(
        world,
        "regulator",
        "/api/v1/monitoring/compliance",
        params={"level": "station", "parent_id": world.ids["enterprise_a"], **days},
    ).json()["units"]
    station = next(u for u in down if u["unit_id"] == world.ids["station_a"])
    assert station["reporting_households"] >= 1 and station["rate"] < 1.0
    series = _get(world, "resident_a", f"/api/v1/monitoring/series/household/{hh}").json()
    assert len(series["points"]) == 8
    assert all(abs(p["mean_temp_c"] - 15.0) < 1e-9 for p in series["points"])
    cold = _get(world, "steward_a", "/api/v1/monitoring/cold", params={"min_hours": 6}).json()
    assert [c["household_id"] for c in cold] == [hh]


def test_ingest_reports_quarantine_duplicates_and_counts_metrics(world: World) -> None:
    c = TestClient(world.app)
    ts = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    body = [
        {"sensor_id": world.ids["sensor_a"], "ts": ts, "temp_c": 19.2},
        {"sensor_id": world.ids["sensor_a"], "ts": ts, "temp_c": 250.0},
        {"sensor_id": "NO-SUCH-SENSOR", "ts": ts, "temp_c": 19.0},
    ]
    first = c.post("/api/v1/readings", json=body[:1] + body[1:], headers=world.auth("gateway_a"))
    assert first.status_code == 200
    report = first.json()
    assert report["received"] == 3 and report["stored"] == 1 and report["rejected"] == 2
    ndjson = f'{{"sensor_id": "{world.ids["sensor_a"]}", "ts": "{ts}", "temp_c": 19.2}}\n'
    again = c.post(
        "/api/v1/readings",
        content=ndjson,
        headers={**world.auth("gateway_a"), "Content-Type": "application/x-ndjson"},
    ).json()
    assert again["duplicates"] == 1 and again["stored"] == 0
    bad_type = c.post(
        "/api/v1/readings",
        content=b"x",
        headers={**world.auth("gateway_a"), "Content-Type": "application/xml"},
    )
    assert bad_type.status_code == 422 and bad_type.json()["error"]["code"] == "invalid_input"
    metrics = TestClient(world.app, client=("127.0.0.1", 50000)).get("/metrics").text
    assert "nuanliu_readings_ingested_total 1.0" in metrics
    assert "nuanliu_readings_quarantined_total 2.0" in metrics
    assert "nuanliu_readings_duplicate_total 1.0" in metrics
    assert 'route="/api/v1/readings",status="200"' in metrics
    # A batch naming another enterprise's sensor is refused whole.
    mixed = [body[0], {"sensor_id": world.ids["sensor_b"], "ts": ts, "temp_c": 20.0}]
    refused = c.post("/api/v1/readings", json=mixed, headers=world.auth("operator_a"))
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["sensor_ids"] == [world.ids["sensor_b"]]


def test_admin_edits_own_registry_rows_with_audit(world: World) -> None:
    c = TestClient(world.app)
    admin = world.auth("admin_a")
    url = "/api/v1/registry/sensors/S-TEST-1"
    created = c.put(
        url, json={"household_id": world.ids["household_a"], "room": "卧室"}, headers=admin
    )
    assert created.status_code == 201 and created.json()["room"] == "卧室"
    updated = c.put(url, json={"room": "客厅"}, headers=admin)
    assert updated.status_code == 200
    assert updated.json()["household_id"] == world.ids["household_a"]  # partial update kept it
    assert _get(world, "resident_a", url).json()["room"] == "客厅"
    events = [e for e in list_events(world.store, limit=20) if e["object_id"] == "S-TEST-1"]
    assert [e["action"] for e in events] == ["registry_update", "registry_create"]
    assert "卧室" in events[0]["before_summary"] and "客厅" in events[0]["after_summary"]
    # Moving the sensor into another enterprise's household, or claiming a station for
    # another enterprise, is refused.
    moved = c.put(url, json={"household_id": world.ids["household_b"]}, headers=admin)
    assert moved.status_code == 403
    grab = c.put(
        f"/api/v1/registry/stations/{world.ids['station_b']}",
        json={"enterprise_id": world.ids["enterprise_a"], "region_id": "x", "name_zh": "抢"},
        headers=admin,
    )
    assert grab.status_code == 403
    invalid = c.put(
        url, json={"household_id": world.ids["household_a"], "installed_at": "soon"}, headers=admin
    )
    assert invalid.status_code == 422 and invalid.json()["error"]["details"]


def test_import_refuses_files_touching_other_enterprises(world: World) -> None:
    c = TestClient(world.app)
    good = f"sensor_id,household_id,room\nS-IMP-1,{world.ids['household_a']},厨房\n"
    r = c.post(
        "/api/v1/registry/import",
        files={"file": ("sensors.csv", good.encode(), "text/csv")},
        headers=world.auth("admin_a"),
    )
    assert r.status_code == 200 and r.json()["inserted"] == {"sensors": 1}
    mixed = good.replace("S-IMP-1", "S-IMP-2") + f"S-IMP-3,{world.ids['household_b']},厨房\n"
    refused = c.post(
        "/api/v1/registry/import",
        files={"file": ("sensors.csv", mixed.encode(), "text/csv")},
        headers=world.auth("admin_a"),
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["where"]["row"] == 3
    assert _get(world, "admin_a", "/api/v1/registry/sensors/S-IMP-2").status_code == 404


def test_alert_acknowledge_is_scoped_and_audited(world: World) -> None:
    from nuanliu.monitor.alerts import default_rules, evaluate_alerts, save_rule

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = [
        {
            "sensor_id": world.ids["sensor_a"],
            "ts": (now - timedelta(hours=h, minutes=30)).isoformat(),
            "temp_c": 13.0,
        }
        for h in range(8)
    ]
    TestClient(world.app).post("/api/v1/readings", json=rows, headers=world.auth("operator_a"))
    save_rule(world.store, next(r for r in default_rules() if r.metric == "household_temp_below"))
    evaluate_alerts(world.store, now, deliver=False)
    alerts = _get(world, "steward_a", "/api/v1/alerts").json()
    mine = next(a for a in alerts if a["subject_id"] == world.ids["household_a"])
    assert _get(world, "operator_b", "/api/v1/alerts").json() == []
    c = TestClient(world.app)
    ack = c.post(f"/api/v1/alerts/{mine['alert_id']}/acknowledge", headers=world.auth("steward_a"))
    assert ack.status_code == 200
    assert ack.json()["state"] == "acknowledged" and ack.json()["acknowledged_by"] == "steward_a"
    assert any(e["action"] == "alert_acknowledge" for e in list_events(world.store, limit=10))


def test_simulation_of_the_example_twin_is_cached_per_temperature(world: World) -> None:
    c = TestClient(world.app)
    url = "/api/v1/simulation/networks/jiexiu/steady"
    names = [n["name"] for n in _get(world, "regulator", "/api/v1/simulation/networks").json()]
    assert "jiexiu" in names
    mild = c.get(url, params={"outdoor_temp_c": 0.0}, headers=world.auth("operator_a")).json()
    assert mild["status"] == "converged" and mild["cached"] is False
    assert len(mild["stations"]) == 109  # Jiexiu's heat-exchange stations
    s = mild["summary"]
    assert s["heat_produced_w"] >= s["heat_delivered_w"] > 0
    again = c.get(url, params={"outdoor_temp_c": 0.04}, headers=world.auth("regulator")).json()
    assert again["cached"] is True and again["summary"] == s
    cold = c.get(url, params={"outdoor_temp_c": -20.0}, headers=world.auth("admin_a")).json()
    assert cold["summary"]["heat_delivered_w"] > s["heat_delivered_w"]  # colder: more heat
    # beyond its design (−15 °C) Jiexiu's mains run too fast: infeasible, and the answer
    # names every broken limit; a feasible state names none
    assert mild["violations"] == []
    assert cold["status"] == "infeasible"
    assert {v["check"] for v in cold["violations"]} >= {"velocity"}
    assert all(
        v["element_id"] and v["value"] > v["limit"]
        for v in cold["violations"]
        if v["check"] == "velocity"
    )
    assert world.app.state.sim_cache.solves == 2
    unknown = c.get("/api/v1/simulation/networks/atlantis/steady", headers=world.auth("admin_a"))
    assert unknown.status_code == 404 and "jiexiu" in unknown.json()["error"]["message"]


def test_csv_upload_is_scope_checked_like_json(world: World) -> None:
    c = TestClient(world.app)
    ts = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    headers = {**world.auth("operator_b"), "Content-Type": "text/csv"}
    own = f"sensor_id,ts,temp_c\n{world.ids['sensor_b']},{ts},20.5\n"
    ok = c.post("/api/v1/readings", content=own.encode(), headers=headers)
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    foreign = own + f"{world.ids['sensor_a']},{ts},20.5\n"
    refused = c.post("/api/v1/readings", content=foreign.encode(), headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["sensor_ids"] == [world.ids["sensor_a"]]


def test_xlsx_import_with_a_building_and_its_households(world: World) -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    buildings = book.active
    buildings.title = "buildings"
    buildings.append(["building_id", "station_id", "community_id", "name_zh"])
    buildings.append(["B-XLSX-1", world.ids["station_a"], world.ids["community_a"], "新楼1号"])
    households = book.create_sheet("households")
    households.append(["household_id", "building_id", "address", "resident_name"])
    households.append(["H-XLSX-1", "B-XLSX-1", "新楼1号101室", "王五"])
    data = io.BytesIO()
    book.save(data)
    r = TestClient(world.app).post(
        "/api/v1/registry/import",
        files={"file": ("registry.xlsx", data.getvalue(), "application/vnd.ms-excel")},
        headers=world.auth("admin_a"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == {"buildings": 1, "households": 1}
    # The new household is the enterprise's: its operator sees it (masked), B's does not.
    seen = _get(world, "operator_a", "/api/v1/registry/households/H-XLSX-1").json()
    assert seen["resident_name"] == "王*"
    assert _get(world, "operator_b", "/api/v1/registry/households/H-XLSX-1").status_code == 404


def test_drilldown_gives_every_level_in_one_answer(world: World) -> None:
    r = _get(
        world,
        "operator_a",
        "/api/v1/monitoring/drilldown",
        params={"levels": ["enterprise", "station", "building"]},
    )
    assert r.status_code == 200
    levels = r.json()["levels"]
    assert list(levels) == ["enterprise", "station", "building"]
    assert [u["unit_id"] for u in levels["enterprise"]] == [world.ids["enterprise_a"]]
    stations = {u["unit_id"] for u in levels["station"]}
    assert world.ids["station_a"] in stations and world.ids["station_b"] not in stations
    # Households add up across levels.
    total = sum(u["households"] for u in levels["enterprise"])
    assert total == sum(u["households"] for u in levels["station"]) > 0
