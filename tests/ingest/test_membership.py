"""The ingest group's membership: stable identities, heartbeats, one winner per orphan."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from nuanliu.errors import ConfigError
from nuanliu.ingest.membership import Membership
from nuanliu.ingest.mqtt import MqttConfig
from nuanliu.store import Store, open_store

SUB = "$share/ingest/nuanliu/v1/readings/#"


def test_the_client_id_is_stable_and_derived_from_group_and_instance() -> None:
    assert MqttConfig().identity() == MqttConfig().identity() == "nuanliu-ingest-ingest-0"
    assert MqttConfig(group="north", instance=3).identity() == "nuanliu-ingest-north-3"
    assert MqttConfig(client_id="edge-7", instance=3).identity() == "edge-7"
    assert MqttConfig().session_expiry_s == 86_400
    with pytest.raises(ConfigError, match="--instance -1"):
        MqttConfig(instance=-1).identity()
    with pytest.raises(ConfigError, match="--orphan-timeout-s 5 must be at least twice"):
        MqttConfig(heartbeat_s=5, orphan_timeout_s=5).identity()


def _silence(store: Store, client_id: str, seconds: float) -> None:
    with store.write() as w:
        w.execute(
            "UPDATE ingest_members SET last_seen = ? WHERE client_id = ?",
            [datetime.now(UTC) - timedelta(seconds=seconds), client_id],
        )


def test_a_silent_member_is_claimed_once_and_left(store: Store) -> None:
    a = Membership(store, "ingest", "w0", SUB)
    b = Membership(store, "ingest", "w1", SUB)
    c = Membership(store, "ingest", "w2", SUB)
    for m in (a, b, c):
        m.join()
    assert a.orphans(10) == [] and not a.claim("w1", 10)  # alive: nobody may take it
    assert a.others_alive(10)
    _silence(store, "w1", 60)
    assert [m.client_id for m in a.orphans(10)] == ["w1"]
    _silence(store, "w2", 60)
    assert not a.others_alive(10)  # a --drain of w0 now would leave nobody subscribed
    assert a.claim("w1", 10)
    assert not c.claim("w1", 10)  # the claim refreshed last_seen: one winner
    assert not a.claim("w0", 0)  # never itself
    a.heartbeat(["w1"])
    assert a.still_adopting("w1")
    assert a.leave("w1")
    member = a.get("w1")
    assert member is not None and (member.state, member.adopted_by) == ("left", "w0")
    assert all(m.client_id != "w1" for m in a.orphans(0))


def test_a_member_that_comes_back_keeps_its_session(store: Store) -> None:
    a = Membership(store, "ingest", "w0", SUB)
    b = Membership(store, "ingest", "w1", SUB)
    a.join()
    b.join()
    _silence(store, "w1", 60)
    assert a.claim("w1", 10)
    back = Membership(store, "ingest", "w1", SUB)  # the restarted worker
    back.join()
    assert not a.still_adopting("w1")
    assert not a.leave("w1")  # the adopter must not end a session that is in use again
    member = a.get("w1")
    assert member is not None and (member.state, member.adopted_by) == ("running", None)
    assert back.owns_row(member) and not b.owns_row(member)
    assert not b.heartbeat()  # the old process (if alive) learns its row is taken


def test_concurrent_claims_have_one_winner(db_url: str) -> None:
    """Two workers (separate connections on PostgreSQL) claim the same orphan at once."""
    stores = [open_store(db_url)]
    if db_url.startswith("postgresql"):
        stores += [open_store(db_url) for _ in range(3)]
    try:
        Membership(stores[0], "ingest", "dead", SUB).join()
        _silence(stores[0], "dead", 60)
        claimants = [
            Membership(stores[i % len(stores)], "ingest", f"live{i}", SUB) for i in range(4)
        ]
        start = threading.Barrier(len(claimants))
        wins: list[bool] = []

        def claim(m: Membership) -> None:
            start.wait()
            wins.append(m.claim("dead", 10))

        threads = [threading.Thread(target=claim, args=(m,)) for m in claimants]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(wins) == [False, False, False, True]
    finally:
        for s in stores:
            s.close()
