"""The demo on a server database: several MQTT ingest worker processes in one shared
subscription group, fed by the simulator through the broker (as gateways would).

With DuckDB the demo ingests in its own process (DuckDB allows one writer process);
with PostgreSQL it runs the production shape on one machine: ``nuanliu ingest mqtt``
workers ``--instance 0..n-1`` of group ``demo``, started and stopped with the demo.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nuanliu.errors import ConfigError

GROUP = "demo"


@dataclass
class IngestWorkers:
    """Child ``nuanliu ingest mqtt`` processes; logs under ``log_dir``."""

    db_url: str
    mqtt_url: str
    count: int
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> list[Path]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        logs = []
        for i in range(self.count):
            log = self.log_dir / f"ingest-{i}.log"
            with open(log, "ab") as fh:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "nuanliu", "ingest", "mqtt", "--db", self.db_url,
                         "--url", self.mqtt_url, "--group", GROUP, "--instance", str(i)],
                        stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                    )
                )  # fmt: skip
            logs.append(log)
        time.sleep(0.5)
        dead = [i for i, p in enumerate(self.procs) if p.poll() is not None]
        if dead:
            self.stop()
            text = (self.log_dir / f"ingest-{dead[0]}.log").read_text(errors="replace")
            raise ConfigError(f"ingest worker {dead[0]} did not start: {text[-500:]}")
        return logs

    def stop(self, timeout_s: float = 20) -> None:
        """SIGTERM: each worker commits what it has, leaves its session queued."""
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def mqtt_sink(mqtt_url: str, sensors: Any) -> Any:
    """The simulator's MQTT sink, one gateway per building (the gateway-batch JSON)."""
    from nuanliu.sensors.sinks import MqttSink, gateway_map

    return MqttSink(mqtt_url, gateway_map(sensors), client_id="nuanliu-demo-simulator")
