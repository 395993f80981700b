"""Operational gauges read from the store at scrape time: ingest lag, dead letters,
scheduler failures. Every API worker reports the same deployment-wide values (the
heartbeat and run tables are shared), so a scrape of any one of them is enough."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

FAILURE_WINDOW = timedelta(hours=24)


def _epoch(ts: Any) -> float:
    return (ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts).timestamp()


class StoreCollector(Collector):
    """Gauges computed from the store of the app (``get_store()`` at scrape time)."""

    def __init__(self, get_store: Callable[[], Any]) -> None:
        self.get_store = get_store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        store = self.get_store()
        if store is None:
            return
        now = datetime.now(UTC)
        try:
            with store.read() as q:
                newest = q.scalar("SELECT max(last_ts) FROM mon_sensor_last_seen")
                pending = q.scalar("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")
                members = q.all(
                    "SELECT group_name, client_id, last_seen, broker_connected "
                    "FROM ingest_members WHERE state IN ('running', 'draining')"
                )
                failures = q.all(
                    "SELECT job_name, count(*) FROM sched_runs WHERE status IN "
                    "('failed', 'lost') AND started_at >= ? GROUP BY job_name",
                    [now - FAILURE_WINDOW],
                )
                last_ok = q.all(
                    "SELECT job_name, max(finished_at) FROM sched_runs WHERE status = 'ok' "
                    "GROUP BY job_name"
                )
        except Exception:  # a scrape must not fail because the store is away
            return
        lag = GaugeMetricFamily(
            "nuanliu_ingest_lag_seconds",
            "Age of the newest stored reading (now minus its timestamp).",
        )
        if newest is not None:
            lag.add_metric([], now.timestamp() - _epoch(newest))
        yield lag
        yield GaugeMetricFamily(
            "nuanliu_dead_letters_pending",
            "Dead letters not replayed yet.",
            value=float(pending or 0),
        )
        beat = GaugeMetricFamily(
            "nuanliu_ingest_member_heartbeat_age_seconds",
            "Seconds since each MQTT ingest worker's last heartbeat.",
            labels=["group", "client_id"],
        )
        connected = GaugeMetricFamily(
            "nuanliu_ingest_member_broker_connected",
            "1 when the worker's broker connection was up at its last heartbeat.",
            labels=["group", "client_id"],
        )
        for group, client, seen, conn in members:
            beat.add_metric([group, client], now.timestamp() - _epoch(seen))
            connected.add_metric([group, client], 1.0 if conn else 0.0)
        yield beat
        yield connected
        failed = GaugeMetricFamily(
            "nuanliu_scheduler_job_failures",
            "Failed or lost scheduler runs per job in the last 24 hours.",
            labels=["job"],
        )
        for job, n in failures:
            failed.add_metric([job], float(n))
        yield failed
        success = GaugeMetricFamily(
            "nuanliu_scheduler_job_last_success_timestamp_seconds",
            "When each job last finished successfully (Unix time).",
            labels=["job"],
        )
        for job, ts in last_ok:
            if ts is not None:
                success.add_metric([job], _epoch(ts))
        yield success
