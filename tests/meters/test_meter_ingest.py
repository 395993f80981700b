"""Bad meter data ends in quarantine or a flag with a reason; the rest is billed."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from nuanliu.billing.runs import latest_bills, run_billing
from nuanliu.meters import cjt188
from nuanliu.meters.ingest import ingest
from nuanliu.meters.messages import parse_payload, parse_round_file
from tests.billing.world import add_meter, seed_registry

START = datetime(2026, 10, 14, 16, tzinfo=UTC)
END = datetime(2027, 4, 15, 16, tzinfo=UTC)
NOW = datetime(2027, 5, 1, tzinfo=UTC)


def _json(meter, at, gj, volume=None, **kw):
    doc = {"meter_id": meter, "read_at": at.isoformat(), "energy_gj": str(gj)}
    if volume is not None:
        doc["volume_m3"] = str(volume)
    doc.update(kw)
    return doc


def _send(store, docs, topic="nuanliu/v1/meters/gw1"):
    return ingest(store, parse_payload(json.dumps(docs).encode(), f"mqtt:{topic}"), now=NOW)


def _quarantine(store):
    with store.read() as q:
        return q.all("SELECT sensor_id, reason FROM quarantine ORDER BY quarantine_id")


def _flags(store, meter):
    with store.read() as q:
        return q.all(
            "SELECT flags, billable FROM meter_readings WHERE meter_id = ? AND flags IS NOT NULL",
            [meter],
        )


def test_each_plausibility_case_and_the_rest_is_billed(store) -> None:
    seed_registry(store)
    for n in range(4):
        add_meter(store, f"m{n}", f"h-b1-{n}")
    mid = START + timedelta(days=60)
    docs = []
    for n in range(4):
        docs += [_json(f"m{n}", START, 100, 1000), _json(f"m{n}", END, 120 + n, 1400)]
    # m0: energy backwards in mid-season → quarantined
    docs.append(_json("m0", mid, 90, 1100))
    # m1: a jump no flow explains: +500 GJ with 10 m³ → not billable, flagged
    docs.append(_json("m1", mid, 600, 1010))
    # m2: the meter reports an error flag → flagged (and its meter counts as faulty)
    docs.append(_json("m2", mid, 105, 1100, error_flags=["battery low"]))
    # m3: supply below return for > 24 h → flagged
    for h in range(0, 30, 6):
        docs.append(
            _json(
                "m3",
                mid + timedelta(hours=h),
                110,
                1200 + h,
                supply_temp_c="38",
                return_temp_c="41",
            )
        )
    rep = _send(store, docs)
    assert rep.balanced and rep.quarantined == 1
    assert _quarantine(store)[0][0] == "m0" and _quarantine(store)[0][1].startswith("backwards")
    assert _flags(store, "m1")[0][1] is False and _flags(store, "m1")[0][0].startswith("jump")
    assert "error: battery low" in _flags(store, "m2")[0][0]
    assert any("supply_below_return" in f for f, _ in _flags(store, "m3"))
    # a meter clock far off (CJ/T 188 frame, meter clock 5 h behind the read-out)
    frame = cjt188.build_answer(
        "00000000000077",
        cjt188.HeatMeterData(
            *(cjt188.Quantity(D("0.00"), u) for u in ("GJ", "GJ", "kW", "m³/h", "m³")),
            D("50.00"), D("40.00"), 1, datetime(2026, 11, 1, 3, 0), 0,
        ),
    )  # fmt: skip
    with store.write() as w:
        w.execute(
            "INSERT INTO heat_meters (meter_id, household_id, protocol, cjt188_address) "
            "VALUES ('m77', 'h-b2-0', 'cjt188', '00000000000077')"
        )
    body = json.dumps({"frame": frame.hex(), "read_at": "2026-11-01T00:00:00+00:00"}).encode()
    rep2 = ingest(store, parse_payload(body, "http:gw"), now=NOW)
    assert rep2.stored == 1 and rep2.reasons == {"clock": 1}
    run_billing(store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1))
    bills = {b["household_id"]: b for b in latest_bills(store, "2026-2027", "settlement")}
    assert bills["h-b1-0"]["rule"] == "metered"  # the backwards reading did not count
    assert bills["h-b1-1"]["energy_gj"] == D("21")  # the jump was not billed
    assert bills["h-b1-2"]["rule"].startswith("estimate")  # error flags: faulty meter
    assert bills["h-b1-3"]["rule"] == "metered"


def test_duplicates_on_redelivery_and_bad_payloads_quarantined(store) -> None:
    seed_registry(store)
    add_meter(store, "m0", "h-b1-0")
    docs = [_json("m0", START, 100), _json("m0", END, 120)]
    assert _send(store, docs).stored == 2
    again = _send(store, docs)
    assert (again.stored, again.duplicates, again.balanced) == (0, 2, True)
    bad = [
        (b"68 13 13 68 08 01 73", "undecodable"),
        (b"not a frame", "undecodable"),
        (
            json.dumps({"meter_id": "zz", "read_at": NOW.isoformat(), "energy_gj": 1}).encode(),
            "unknown meter",
        ),
        (
            json.dumps({"meter_id": "m0", "read_at": "2027-01-01T00:00", "energy_gj": 1}).encode(),
            "undecodable",
        ),
        (
            json.dumps({"meter_id": "m0", "read_at": NOW.isoformat(), "energy_gj": "x"}).encode(),
            "undecodable",
        ),
    ]
    for payload, reason in bad:
        rep = ingest(store, parse_payload(payload, "mqtt:nuanliu/v1/meters/gw9"), now=NOW)
        assert rep.quarantined == 1 and rep.balanced
        assert _quarantine(store)[-1][1].startswith(reason)


def test_reading_round_files_csv_and_xlsx(store, tmp_path) -> None:
    import pandas as pd

    seed_registry(store)
    add_meter(store, "m0", "h-b1-0")
    csv = tmp_path / "round.csv"
    csv.write_text(
        "meter_id,read_at,energy_kwh,volume_m3\n"
        f"m0,{START.isoformat()},27777.78,10\n"
        "m0,yesterday,1,1\n"
    )
    rep = ingest(store, parse_round_file(csv), now=NOW)
    assert (rep.stored, rep.quarantined) == (1, 1)
    assert "file:round.csv:3" in [
        s for (s,) in store.read().__enter__().all("SELECT source FROM quarantine")
    ]
    xlsx = tmp_path / "round.xlsx"
    pd.DataFrame({"meter_id": ["m0"], "read_at": [END.isoformat()], "energy_gj": [130.5]}).to_excel(
        xlsx, index=False
    )
    rep = ingest(store, parse_round_file(xlsx), now=NOW)
    assert rep.stored == 1


@pytest.mark.mqtt
def test_mqtt_raw_frames_hex_and_base64(tmp_path) -> None:
    import base64

    import paho.mqtt.publish as publish

    from nuanliu.meters import mqtt as meters_mqtt
    from nuanliu.store import open_store

    store = open_store(f"duckdb:///{tmp_path / 'm.duckdb'}")
    seed_registry(store)
    with store.write() as w:
        w.execute(
            "INSERT INTO heat_meters (meter_id, household_id, protocol, mbus_secondary_address) "
            "VALUES ('mb', 'h-b1-0', 'mbus', '10380010')"
        )
    hex_path = Path("/work/shared/data/meters/mbus/engelmann_sensostar2c.hex")
    frame = bytes.fromhex("".join(hex_path.read_text().split()))
    stop = threading.Event()
    out = {}
    gid = f"t{datetime.now().timestamp():.0f}"
    worker = threading.Thread(
        target=lambda: out.setdefault(
            "s", meters_mqtt.run(store, client_id=gid, stop=stop, idle_exit_s=3)
        )
    )
    worker.start()
    import time

    time.sleep(1.0)
    publish.single("nuanliu/v1/meters/gw1", frame.hex(" "), qos=1, hostname="127.0.0.1")
    publish.single(
        "nuanliu/v1/meters/gw1",
        json.dumps({"frame": base64.b64encode(frame).decode(), "read_at": "2026-11-01T00:00:00Z"}),
        qos=1,
        hostname="127.0.0.1",
    )
    publish.single("nuanliu/v1/meters/gw2", b"\xff\xfe garbage", qos=1, hostname="127.0.0.1")
    worker.join(20)
    stop.set()
    stats = out["s"]
    assert stats.messages == 3
    assert (stats.report.stored, stats.report.quarantined) == (2, 1)
    store.close()
