"""Who belongs to an MQTT ingest group: heartbeats in the store, and orphan claims.

Each worker has one row in ``ingest_members`` per (group, client id), written *before*
it connects to the broker, so every broker session the group creates is known here. A
live worker refreshes ``last_seen`` every heartbeat; a member silent for longer than
the orphan timeout is presumed dead, and one live peer claims it with a single
conditional ``UPDATE ... RETURNING`` (row locks on PostgreSQL, the single writer on
DuckDB make it one winner), drains its broker session and marks it ``left``.

Times are the workers' UTC clocks: hosts are expected to be NTP-synchronised to well
within the orphan timeout.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nuanliu.store import Store

RUNNING, DRAINING, LEFT = "running", "draining", "left"

_COLUMNS = (
    "group_name",
    "client_id",
    "subscription",
    "host",
    "pid",
    "started_at",
    "last_seen",
    "state",
    "adopted_by",
)


@dataclass(frozen=True)
class Member:
    group_name: str
    client_id: str
    subscription: str
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime
    state: str
    adopted_by: str | None


def _now() -> datetime:
    return datetime.now(UTC)


class Membership:
    """This process's membership of ``group`` as ``client_id`` (subscribed to ``subscription``)."""

    def __init__(self, store: Store, group: str, client_id: str, subscription: str) -> None:
        self.store = store
        self.group = group
        self.client_id = client_id
        self.subscription = subscription
        self.host = socket.gethostname()
        self.pid = os.getpid()
        # Distinguishes this process from an earlier one with the same host and pid
        # (containers all run as pid 1).
        self.started_at = _now()

    def join(self, state: str = RUNNING) -> None:
        """Take the row of our client id (a restart or a return after adoption replaces it)."""
        now = _now()
        with self.store.write() as w:
            w.execute(
                w.caps.upsert_sql("ingest_members", _COLUMNS, ("group_name", "client_id")),
                [
                    self.group,
                    self.client_id,
                    self.subscription,
                    self.host,
                    self.pid,
                    self.started_at,
                    now,
                    state,
                    None,
                ],
            )

    def _mine(self) -> str:
        return "group_name = ? AND client_id = ? AND host = ? AND pid = ? AND started_at = ?"

    def _mine_params(self) -> list[object]:
        return [self.group, self.client_id, self.host, self.pid, self.started_at]

    def heartbeat(
        self, adopting: list[str] | tuple[str, ...] = (), *, connected: bool | None = None
    ) -> bool:
        """Refresh our row (with whether our broker connection is up) and those of the
        members we are draining; False if our row now belongs to another process (a
        second worker started with our client id)."""
        now = _now()
        with self.store.write() as w:
            mine = w.all(
                f"UPDATE ingest_members SET last_seen = ?, broker_connected = ? "
                f"WHERE {self._mine()} AND state <> 'left' RETURNING client_id",
                [now, connected, *self._mine_params()],
            )
            for cid in adopting:
                w.execute(
                    "UPDATE ingest_members SET last_seen = ? WHERE group_name = ? "
                    "AND client_id = ? AND state = 'draining' AND adopted_by = ?",
                    [now, self.group, cid, self.client_id],
                )
        return bool(mine)

    def set_state(self, state: str) -> None:
        with self.store.write() as w:
            w.execute(
                f"UPDATE ingest_members SET state = ?, last_seen = ? WHERE {self._mine()}",
                [state, _now(), *self._mine_params()],
            )

    def get(self, client_id: str | None = None) -> Member | None:
        with self.store.read() as q:
            row = q.one(
                f"SELECT {', '.join(_COLUMNS)} FROM ingest_members "
                "WHERE group_name = ? AND client_id = ?",
                [self.group, client_id or self.client_id],
            )
        return Member(*row) if row else None

    def owns_row(self, member: Member | None) -> bool:
        return member is not None and (member.host, member.pid, member.started_at) == (
            self.host,
            self.pid,
            self.started_at,
        )

    def orphans(self, timeout_s: float) -> list[Member]:
        """Members of the group, other than us, silent for longer than ``timeout_s``."""
        cutoff = _now() - timedelta(seconds=timeout_s)
        with self.store.read() as q:
            rows = q.all(
                f"SELECT {', '.join(_COLUMNS)} FROM ingest_members WHERE group_name = ? "
                "AND client_id <> ? AND state IN ('running', 'draining') AND last_seen < ? "
                "ORDER BY last_seen",
                [self.group, self.client_id, cutoff],
            )
        return [Member(*r) for r in rows]

    def others_alive(self, timeout_s: float) -> bool:
        """Whether another member of the group is running and heard from recently."""
        cutoff = _now() - timedelta(seconds=timeout_s)
        with self.store.read() as q:
            n = q.scalar(
                "SELECT count(*) FROM ingest_members WHERE group_name = ? AND client_id <> ? "
                "AND state = 'running' AND last_seen >= ?",
                [self.group, self.client_id, cutoff],
            )
        return bool(n)

    def claim(self, client_id: str, timeout_s: float) -> bool:
        """Claim a silent member for adoption; True for exactly one of concurrent claimants.

        The condition is re-checked by the UPDATE itself: on PostgreSQL a second claimant
        waits for the first one's row lock and then sees the fresh ``last_seen``.
        """
        now = _now()
        cutoff = now - timedelta(seconds=timeout_s)
        with self.store.write() as w:
            won = w.all(
                "UPDATE ingest_members SET state = 'draining', adopted_by = ?, last_seen = ? "
                "WHERE group_name = ? AND client_id = ? AND client_id <> ? "
                "AND state IN ('running', 'draining') AND last_seen < ? RETURNING client_id",
                [self.client_id, now, self.group, client_id, self.client_id, cutoff],
            )
        return bool(won)

    def still_adopting(self, client_id: str) -> bool:
        """Our claim on ``client_id`` holds (its worker did not come back meanwhile)."""
        member = self.get(client_id)
        return (
            member is not None
            and member.state == DRAINING
            and member.adopted_by == (self.client_id)
        )

    def leave(self, client_id: str | None = None) -> bool:
        """Mark our row, or a member we adopted, ``left``; False if it is no longer ours."""
        with self.store.write() as w:
            if client_id is None or client_id == self.client_id:
                done = w.all(
                    f"UPDATE ingest_members SET state = 'left', last_seen = ? WHERE {self._mine()} "
                    "RETURNING client_id",
                    [_now(), *self._mine_params()],
                )
            else:
                done = w.all(
                    "UPDATE ingest_members SET state = 'left', last_seen = ? WHERE group_name = ? "
                    "AND client_id = ? AND state = 'draining' AND adopted_by = ? "
                    "RETURNING client_id",
                    [_now(), self.group, client_id, self.client_id],
                )
        return bool(done)
