"""Alert lifecycle, de-duplication, idempotence and webhook delivery to a real server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nuanliu.errors import Conflict, InvalidInput
from nuanliu.monitor.alerts import (
    AlertRule,
    acknowledge,
    default_rules,
    evaluate_alerts,
    list_alerts,
    save_rule,
    set_default_webhook,
)
from nuanliu.scope import Scope
from tests.monitor.city import DAY_START_UTC, City, readings_table

END = DAY_START_UTC + timedelta(days=1)
EVERYTHING = Scope.everything()


class Receiver:
    """A real HTTP server on 127.0.0.1 that records POSTed JSON and can fail on purpose."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.events.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


FAST = {"backoff_s": 0.01}


def test_cold_alert_lifecycle_with_webhook(store: Any, city: City, receiver: Receiver) -> None:
    save_rule(store, default_rules()[0])  # below 16 °C for 6 h
    set_default_webhook(store, receiver.url)
    report = evaluate_alerts(store, END, **FAST)
    open_ = list_alerts(store, EVERYTHING)
    assert set(open_["subject_id"]) == {"B2-H3", "B4-H5"}
    assert (open_["state"] == "raised").all()
    assert len(report.raised) == 2
    assert sorted(e["alert"]["subject_id"] for e in receiver.events) == ["B2-H3", "B4-H5"]
    assert {e["event"] for e in receiver.events} == {"raised"}
    assert receiver.events[0]["rule"]["metric"] == "household_temp_below"
    assert "16" in receiver.events[0]["alert"]["message_zh"]

    # Evaluating again changes nothing: no second alert, no second notification.
    again = evaluate_alerts(store, END, **FAST)
    assert again.raised == [] and again.cleared == []
    assert len(list_alerts(store, EVERYTHING, state=None)) == 2
    assert len(receiver.events) == 2

    # Acknowledge one: it stays open, with who and when.
    aid = int(open_[open_["subject_id"] == "B2-H3"]["alert_id"].iloc[0])
    ack = acknowledge(store, aid, "steward-wang", at=END)
    assert ack["state"] == "acknowledged" and ack["acknowledged_by"] == "steward-wang"
    evaluate_alerts(store, END + timedelta(minutes=30), **FAST)
    assert len(list_alerts(store, EVERYTHING)) == 2

    # B2-H3 warms up for 6 h: its alert clears, the other stays.
    rows = [("B2-H3-T1", END + timedelta(minutes=10 * k), 19.0) for k in range(36)]
    rows += [("B4-H5-T1", END + timedelta(minutes=10 * k), 14.0) for k in range(36)]
    store.insert_readings(readings_table(rows))
    report = evaluate_alerts(store, END + timedelta(hours=6), **FAST)
    assert report.cleared == [aid]
    cleared = list_alerts(store, EVERYTHING, state="cleared")
    assert list(cleared["subject_id"]) == ["B2-H3"]
    assert cleared.iloc[0]["acknowledged_by"] == "steward-wang"
    assert list(list_alerts(store, EVERYTHING)["subject_id"]) == ["B4-H5"]
    assert [e["event"] for e in receiver.events][-1] == "cleared"
    with pytest.raises(Conflict):
        acknowledge(store, aid, "steward-wang")

    # Cold again later: a new alert, not the old one reopened.
    store.insert_readings(
        readings_table(
            [
                (s, END + timedelta(hours=6, minutes=10 * k), 12.0)
                for k in range(36)
                for s in ("B2-H3-T1", "B4-H5-T1")
            ]
        )
    )
    report = evaluate_alerts(store, END + timedelta(hours=12), **FAST)
    assert len(report.raised) == 1 and report.raised[0] != aid
    with store.read() as q:
        delivered = q.all(
            "SELECT COUNT(*) FROM mon_alert_deliveries WHERE delivered_at IS NOT NULL"
        )[0][0]
    assert delivered == len(receiver.events) == 4


def test_webhook_retries_and_records_failures(store: Any, city: City, receiver: Receiver) -> None:
    save_rule(store, default_rules()[0])
    set_default_webhook(store, receiver.url)
    receiver.fail_next = 2  # the first two attempts get 503
    report = evaluate_alerts(store, END, **FAST)
    assert all(d["delivered"] for d in report.deliveries)
    assert report.deliveries[0]["attempts"] == 3
    assert len(receiver.events) == 2
    with store.read() as q:
        rows = q.dicts("SELECT * FROM mon_alert_deliveries ORDER BY delivery_id")
    assert rows[0]["attempts"] == 3 and rows[0]["last_status"] == 204
    assert rows[1]["attempts"] == 1

    # A dead endpoint: attempts and the error are recorded, the event stays pending.
    receiver.close()
    rule = AlertRule(
        "hot", "household_temp_above", 24.0, timedelta(hours=6), webhook_url=receiver.url
    )
    save_rule(store, rule)
    report = evaluate_alerts(store, END, attempts=2, **FAST)
    failed = [d for d in report.deliveries if not d["delivered"]]
    assert len(failed) == 2 and all(d["attempts"] == 2 for d in failed)
    with store.read() as q:
        pending = q.dicts("SELECT * FROM mon_alert_deliveries WHERE delivered_at IS NULL")
    assert len(pending) == 2 and all(p["last_error"] for p in pending)


def test_offline_and_station_compliance_rules(store: Any, city: City) -> None:
    save_rule(store, default_rules()[1])  # sensor offline 2 h
    save_rule(store, default_rules()[2])  # station compliance below the 98 % target over 24 h
    report = evaluate_alerts(store, END, deliver=False)
    alerts = list_alerts(store, EVERYTHING)
    stations = alerts[alerts["rule_id"] == "station-compliance-target"]
    # S1: 5 of 7 compliant; S2: 2 of 2; S3: 3 of 5 at 20 °C.
    assert sorted(stations["subject_id"]) == ["S1", "S3"]
    s1 = stations[stations["subject_id"] == "S1"].iloc[0]
    assert s1["raised_value"] == pytest.approx(5 / 7)
    assert (alerts["rule_id"] != "offline-2h").all()  # everyone reported until END
    later = END + timedelta(hours=2, minutes=10)
    report = evaluate_alerts(store, later, deliver=False)
    offline = list_alerts(store, EVERYTHING)
    offline = offline[offline["rule_id"] == "offline-2h"]
    assert len(offline) == len(city.sensors)
    assert len(report.raised) == len(city.sensors)
    # The station alerts stay open (22 of the last 24 h still have readings): no duplicates.
    assert report.cleared == []
    still = list_alerts(store, EVERYTHING)
    assert set(still[still["rule_id"] == "station-compliance-target"]["alert_id"]) == set(
        stations["alert_id"]
    )
    # A Baotou regulator sees only Baotou's sensors and station.
    bt = list_alerts(store, Scope(region_ids=frozenset({"BT"})))
    assert set(bt["subject_id"]) == {f"B4-H{i}-T1" for i in range(1, 6)} | {"S3"}


def test_rules_are_validated(store: Any) -> None:
    with pytest.raises(InvalidInput):
        save_rule(store, AlertRule("x", "humidity_above", 80, timedelta(hours=1)))
    with pytest.raises(InvalidInput):
        save_rule(store, AlertRule("x", "compliance_below", 0.95, timedelta(hours=24)))
    with pytest.raises(InvalidInput):
        save_rule(store, AlertRule("x", "household_temp_below", None, timedelta(hours=6)))


def test_a_cold_home_raises_one_alert_not_two(store: Any, city: City) -> None:
    for rule in default_rules():
        save_rule(store, rule)
    evaluate_alerts(store, END, deliver=False)
    open_ = list_alerts(store, EVERYTHING)
    by_home = open_[open_["subject_kind"] == "household"].groupby("subject_id")["rule_id"]
    rules = {h: sorted(r) for h, r in by_home}
    # 15 and 14 °C homes: the critical cold alert only; 17 °C (standard 18) and 19.5 °C
    # (standard 20) homes: below their standard although never cold.
    assert rules == {
        "B2-H3": ["cold-16c-6h"],
        "B4-H5": ["cold-16c-6h"],
        "B1-H4": ["below-standard-24h"],
        "B4-H2": ["below-standard-24h"],
    }
    # Evaluating only the below-standard rule still leaves the cold homes to their rule.
    report = evaluate_alerts(store, END, deliver=False, metrics=("household_below_standard",))
    assert report.raised == [] and report.cleared == []
