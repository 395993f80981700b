"""A batch's readings, aggregates, quarantine rows and dead letters commit in one
transaction (then the MQTT ack), on both engines: when any part fails, nothing of the
batch is stored and the error surfaces, so the message is not acknowledged."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from nuanliu.errors import StoreError
from nuanliu.ingest import deadletters
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.mqtt import MqttConfig, MqttIngest, _Msg
from nuanliu.monitor import register_aggregates
from nuanliu.store import DeadLetter, QuarantineRow, Store

TS = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)


def readings(n: int = 3) -> pa.Table:
    return pa.table(
        {
            "sensor_id": [f"S{i:04d}" for i in range(n)],
            "ts": pa.array([TS] * n, pa.timestamp("us", tz="UTC")),
            "temp_c": [20.0 + i for i in range(n)],
        }
    )


def counts(store: Store) -> dict[str, int]:
    with store.read() as q:
        return {
            t: q.scalar(f"SELECT count(*) FROM {t}")
            for t in ("readings", "quarantine", "dead_letters", "mon_sensor_hourly")
        }


def break_table(store: Store, table: str) -> None:
    with store.write() as w:
        w.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")


def mend_table(store: Store, table: str) -> None:
    with store.write() as w:
        w.execute(f"ALTER TABLE {table}_gone RENAME TO {table}")


LETTER = DeadLetter("mqtt", "mqtt:t", b"\x00poison", "RecursionError", "too deep")


def test_write_batch_commits_all_parts_together(store: Store) -> None:
    register_aggregates(store)
    rep = store.write_batch(readings(), [QuarantineRow("http", "why", "raw\x00")], [LETTER])
    assert (rep.inserted, rep.duplicates, len(rep.dead_letter_ids)) == (3, 0, 1)
    assert counts(store) == {
        "readings": 3,
        "quarantine": 1,
        "dead_letters": 1,
        "mon_sensor_hourly": 3,
    }


@pytest.mark.parametrize("broken", ["quarantine", "dead_letters"])
def test_a_failing_quarantine_or_dead_letter_write_stores_no_readings(
    store: Store, broken: str
) -> None:
    register_aggregates(store)
    break_table(store, broken)
    with pytest.raises(StoreError):
        store.write_batch(readings(), [QuarantineRow("http", "why", "raw")], [LETTER])
    mend_table(store, broken)
    assert counts(store) == {
        "readings": 0,
        "quarantine": 0,
        "dead_letters": 0,
        "mon_sensor_hourly": 0,
    }
    # The same batch goes through once the table is back (what a redelivery does).
    store.write_batch(readings(), [QuarantineRow("http", "why", "raw")], [LETTER])
    assert counts(store)["readings"] == counts(store)["mon_sensor_hourly"] == 3


def test_a_failing_hook_rolls_back_quarantine_and_dead_letters(store: Store) -> None:
    def hook(_w: Any, _new: pa.Table) -> None:
        raise RuntimeError("aggregate update failed")

    store.add_readings_hook(hook)
    with pytest.raises(RuntimeError, match="aggregate update failed"):
        store.write_batch(readings(), [QuarantineRow("http", "why", "raw")], [LETTER])
    assert counts(store) == {
        "readings": 0,
        "quarantine": 0,
        "dead_letters": 0,
        "mon_sensor_hourly": 0,
    }


def test_ingestor_commit_surfaces_the_failure_and_stores_nothing(store: Store) -> None:
    ing = Ingestor(store)
    result, received = ing.check_bytes(
        f'[{{"sensor_id": "S0001", "ts": "{TS.isoformat()}", "temp_c": 20}},'
        f' {{"sensor_id": "S0002", "ts": "{TS.isoformat()}", "temp_c": 99}}]'.encode(),
        "application/json",
        "http",
    )
    assert (result.valid.num_rows, len(result.rejected), received) == (1, 1, 2)
    break_table(store, "quarantine")
    with pytest.raises(StoreError):
        ing.commit(result, received)
    mend_table(store, "quarantine")
    assert counts(store)["readings"] == 0
    rep = ing.commit(result, received)
    assert (rep.stored, rep.rejected) == (1, 1) and rep.balanced


class FakeAcks:
    """Stands in for the broker connection: records acks instead of sending them
    (``ack(mid, qos)`` of a paho client, or ``ack(msg)`` of a session)."""

    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, msg_or_mid: Any, qos: int | None = None) -> None:
        self.acked.append(getattr(msg_or_mid, "mid", msg_or_mid))


def _worker(store: Store) -> tuple[MqttIngest, FakeAcks]:
    worker = MqttIngest(Ingestor(store), MqttConfig(client_id="atomic-test"))
    fake = FakeAcks()
    for name in ("client", "session"):  # whichever object acks in this version
        with contextlib.suppress(AttributeError):  # a read-only view of the other one
            setattr(worker, name, fake)
    return worker, fake


def _msg(mid: int, payload: bytes) -> _Msg:
    fields = {"topic": "nuanliu/v1/readings/gw", "payload": payload, "mid": mid, "qos": 1}
    fields |= {"generation": 0, "conn": None}
    return _Msg(**{k: v for k, v in fields.items() if k in _Msg.__dataclass_fields__})


def _messages() -> list[_Msg]:
    good = f'{{"sensor_id": "S0001", "ts": "{TS.isoformat()}", "temp_c": 20}}'.encode()
    refused = f'{{"sensor_id": "S0002", "ts": "{TS.isoformat()}", "temp_c": 99}}'.encode()
    return [_msg(1, good), _msg(2, refused)]


def test_mqtt_does_not_ack_while_the_store_is_down_and_acks_after(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker, fake = _worker(store)
    break_table(store, "quarantine")
    break_table(store, "dead_letters")
    monkeypatch.setattr(deadletters, "store_is_healthy", lambda s: False)  # an outage
    thread = threading.Thread(target=worker._process, args=(_messages(),))
    thread.start()
    thread.join(timeout=2.5)  # retries with back-off meanwhile
    assert thread.is_alive()
    worker.stop.set()
    thread.join(timeout=10)
    assert fake.acked == [] and worker.stats.messages == 0
    mend_table(store, "quarantine")
    mend_table(store, "dead_letters")
    assert counts(store)["readings"] == 0
    monkeypatch.undo()
    worker.stop.clear()
    worker._process(_messages())  # the broker's redelivery
    assert fake.acked == [1, 2]
    assert counts(store)["readings"] == 1 and counts(store)["quarantine"] == 1


def test_mqtt_keeps_a_message_the_store_refuses_as_a_dead_letter(store: Store) -> None:
    """The store is up but refuses the quarantine part: the message with the refused row
    is dead-lettered (payload kept), the others are stored, all are acknowledged."""
    worker, fake = _worker(store)
    break_table(store, "quarantine")
    worker._process(_messages())
    mend_table(store, "quarantine")
    assert fake.acked == [1, 2]
    assert counts(store)["readings"] == 1
    letters = store.list_dead_letters()
    assert [d.payload for d in letters] == [_messages()[1].payload]
    assert letters[0].error_type == "StoreError"
    rep = worker.stats.report
    assert (rep.received, rep.stored, rep.dead_lettered) == (2, 1, 1) and rep.balanced
