"""Dead letters keep payload bytes exactly; quarantine text with NUL or lone surrogates
is stored on both engines and comes back exactly; migration 0014 keeps older rows."""

from __future__ import annotations

import datetime as dt

import pytest

from nuanliu.store import DeadLetter, QuarantineRow, Store, open_store
from nuanliu.store.dead_letters import escape_text, unescape_text

HOSTILE = [
    "plain",
    "nul\x00in the middle",
    "back\\slash \\0 and \\u0041 look-alikes",
    "lone \udcff\udc80 surrogates (surrogateescape bytes)",
    "\ud800 high surrogate",
    "暖流 GB18030 \x00 mixed",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_round_trips(text: str) -> None:
    assert unescape_text(escape_text(text)) == text
    assert "\x00" not in escape_text(text)


def test_dead_letters_keep_payload_bytes_exactly(store: Store) -> None:
    payloads = [b"\x00\xff\xfe binary \x00", b"", b'{"a": "\\u0000"}', bytes(range(256)) * 40]
    letters = [
        DeadLetter(
            transport="mqtt",
            source=f"mqtt:nuanliu/v1/readings/gw\x00{i}",
            payload=p,
            error_type="RecursionError",
            error_message="maximum recursion depth exceeded \x00 \udcff",
            traceback="File x, line 1",
            content_type="application/json",
        )
        for i, p in enumerate(payloads)
    ]
    ids = store.insert_dead_letters(letters)
    assert len(ids) == len(set(ids)) == 4
    back = store.list_dead_letters()
    assert [d.dead_letter_id for d in back] == ids
    assert [d.payload for d in back] == payloads
    assert [d.payload_size for d in back] == [len(p) for p in payloads]
    assert all(d.replayed_at is None and d.attempts == 1 for d in back)
    assert back[0].error_type == "RecursionError"
    # Text columns are made storable (escaped), never refused.
    assert unescape_text(back[0].error_message) == letters[0].error_message
    assert unescape_text(back[1].source) == letters[1].source

    assert store.mark_dead_letter_replayed(ids[1], {"received": 1, "stored": 1})
    # A second (concurrent) replay finds it taken and must roll back.
    assert not store.mark_dead_letter_replayed(ids[1], {"received": 1, "stored": 0})
    store.record_dead_letter_failure(ids[2], "ValueError", "still bad", None)
    assert [d.dead_letter_id for d in store.list_dead_letters(pending_only=True)] == [
        ids[0],
        ids[2],
        ids[3],
    ]
    replayed = store.list_dead_letters(ids=[ids[1]])[0]
    assert replayed.replay_result == {"received": 1, "stored": 1}
    assert replayed.replayed_at is not None and replayed.attempts == 2
    failed = store.list_dead_letters(ids=[ids[2]], with_payload=False)[0]
    assert (failed.error_type, failed.error_message, failed.attempts) == (
        "ValueError",
        "still bad",
        2,
    )
    assert failed.payload == b"" and failed.payload_size == len(payloads[2])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert store.list_dead_letters(since=later) == []
    assert len(store.list_dead_letters(transport="mqtt")) == 4
    assert store.list_dead_letters(transport="http") == []


def test_quarantine_text_with_nul_and_surrogates_is_stored_and_recoverable(store: Store) -> None:
    raw_bytes = b"S1,\x00,\xff\xfe garbage \x00"
    raw = raw_bytes.decode("utf-8", "surrogateescape")
    rows = [
        QuarantineRow(source=f"mqtt:t{i}", reason=f"reason {t}", raw=t, sensor_id=t, ts_text=t)
        for i, t in enumerate(HOSTILE)
    ]
    rows.append(
        QuarantineRow(source="file:x.csv:2", reason="bad bytes", raw=raw, raw_bytes=raw_bytes)
    )
    assert store.insert_quarantine(rows) == len(rows)
    with store.read() as q:
        got = q.all(
            "SELECT source, reason, raw, sensor_id, ts_text, escaped FROM quarantine"
            " ORDER BY quarantine_id"
        )
    assert len(got) == len(rows)
    names = ("source", "reason", "raw", "sensor_id", "ts_text")
    for row, stored in zip(rows, got, strict=True):
        escaped = set((stored[5] or "").split(",")) - {""}
        for name, value in zip(names, stored[:5], strict=True):
            back = unescape_text(value) if name in escaped else value
            assert back == getattr(row, name), (name, value)
            # Only a value that needed it is escaped; the others are stored verbatim.
            assert (name in escaped) == (value is not None and value != getattr(row, name))
    assert got[0][5] is None and got[0][2] == "plain"
    assert got[2][5] is None and got[2][2] == HOSTILE[2]  # backslashes alone: verbatim
    assert got[1][5] == "sensor_id,ts_text,raw,reason"  # NUL everywhere but the source
    assert got[-1][5] == "raw"
    assert unescape_text(got[-1][2]).encode("utf-8", "surrogateescape") == raw_bytes
    with store.read() as q:
        kept = q.all("SELECT raw_bytes FROM quarantine ORDER BY quarantine_id")
    assert [bytes(b) if b is not None else None for (b,) in kept] == [None] * (len(rows) - 1) + [
        raw_bytes
    ]


def test_upgrade_to_0014_keeps_quarantine_rows(db_url: str) -> None:
    with open_store(db_url, migrate=False) as store:
        store.migrate(target=13)
        with store.write() as w:
            w.execute(
                "INSERT INTO quarantine (received_at, source, raw, reason)"
                " VALUES (now(), 'http', 'x', 'why')"
            )
    with open_store(db_url) as store:
        assert store.schema_version() >= 14
        with store.read() as q:
            assert q.all("SELECT source, raw, reason, escaped FROM quarantine") == [
                ("http", "x", "why", None)
            ]
            assert "dead_letters" in q.table_names()
        assert store.list_dead_letters() == []
