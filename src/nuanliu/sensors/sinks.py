"""Where simulated readings go: the store (through ingest), MQTT, HTTP or files.

Every sink takes the reading tables the simulator produces (``sensor_id``, ``ts`` UTC,
``temp_c``, ``humidity_pct``) and reports what it delivered. Network sinks group rows by
gateway (one concentrator per building unless the sensor table names ``gateway_id``)
and send the gateway-batch JSON of docs/ingest.md::

    {"gateway_id": "gw-B0001", "sensor_id": [...], "ts": [...], "temp_c": [...],
     "humidity_pct": [...]}
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from nuanliu.errors import ConfigError, InvalidInput, NuanliuError

TOPIC_ROOT = "nuanliu/v1/readings"


class SinkError(NuanliuError, RuntimeError):
    """A sink could not deliver readings (broker or server unreachable, refused)."""

    code = "sink_error"


@dataclass
class SinkReport:
    """What a sink delivered so far."""

    rows: int = 0
    messages: int = 0  # MQTT messages / HTTP requests / file chunks
    stored: int = 0  # store sink (and HTTP, from the server's reply)
    duplicates: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        extra = ""
        if self.stored or self.rejected or self.duplicates:
            extra = (
                f", stored {self.stored}, duplicates {self.duplicates}, rejected {self.rejected}"
            )
        return f"{self.rows} readings in {self.messages} messages{extra}"


class ReadingSink(Protocol):
    report: SinkReport

    def send(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


def gateway_map(sensors: pd.DataFrame) -> dict[str, str]:
    """sensor_id → gateway id: the table's ``gateway_id`` or ``gw-<building_id>``."""
    if "gateway_id" in sensors.columns:
        gw = sensors["gateway_id"].astype(str)
    else:
        gw = "gw-" + sensors["building_id"].astype(str)
    return dict(zip(sensors["sensor_id"].astype(str), gw, strict=True))


def iso_utc(ts: pa.Array | pa.ChunkedArray) -> list[str]:
    """ISO 8601 UTC text (``2026-01-10T00:00:00Z``) for a timestamp column."""
    return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()


def gateway_batches(table: pa.Table, gateways: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Split a readings table into (gateway id, gateway-batch JSON object) pairs."""
    if table.num_rows == 0:
        return []
    ids = table["sensor_id"].to_pylist()
    gw = pd.Series([gateways.get(s, "gw-unknown") for s in ids])
    codes, names = pd.factorize(gw)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    ts = iso_utc(table["ts"])
    temp = table["temp_c"].to_numpy()
    rh = table["humidity_pct"].to_pylist()
    out: list[tuple[str, dict[str, Any]]] = []
    for part in np.split(order, bounds):
        name = str(names[codes[part[0]]])
        out.append(
            (
                name,
                {
                    "gateway_id": name,
                    "sensor_id": [ids[i] for i in part],
                    "ts": [ts[i] for i in part],
                    "temp_c": temp[part].tolist(),
                    "humidity_pct": [rh[i] for i in part],
                },
            )
        )
    return out


class StoreSink:
    """In-process ingest into a store: the same validation and quarantine as HTTP."""

    def __init__(self, store: Any, source: str = "simulator") -> None:
        from nuanliu.ingest.batch import ingestor_for

        self.store = store
        self.source = source
        self.ingestor = ingestor_for(store)
        self.report = SinkReport()

    def send(self, table: pa.Table) -> None:
        from nuanliu.ingest.model import FIELDS, RawBatch

        if table.num_rows == 0:
            return
        src = self.source

        def raw_of(i: int) -> str:
            row = table.slice(i, 1).to_pylist()[0]
            row["ts"] = row["ts"].isoformat()
            return json.dumps(row, ensure_ascii=False)

        batch = RawBatch({f: table[f] for f in FIELDS}, lambda i: f"{src}:{i + 1}", raw_of)
        rep = self.ingestor.ingest(batch)
        r = self.report
        r.rows += table.num_rows
        r.messages += 1
        r.stored += rep.stored
        r.duplicates += rep.duplicates
        r.rejected += rep.rejected
        r.reasons.extend(rep.reasons[: max(0, 20 - len(r.reasons))])

    def close(self) -> None:
        pass


class MqttSink:
    """Publish gateway batches to ``nuanliu/v1/readings/<gateway>`` with QoS 1."""

    def __init__(
        self,
        url: str,
        gateways: dict[str, str],
        *,
        client_id: str = "",
        topic_root: str = TOPIC_ROOT,
        timeout_s: float = 30.0,
    ) -> None:
        import paho.mqtt.client as mqtt

        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ConfigError(f"MQTT url {url!r} not understood; expected mqtt://host:port")
        self.gateways = gateways
        self.topic_root = topic_root.rstrip("/")
        self.timeout_s = timeout_s
        self.report = SinkReport()
        self._connected = threading.Event()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"nuanliu-sim-{np.random.default_rng().integers(1 << 30)}",
        )
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)  # unlimited: publish never drops
        self._client.on_connect = lambda *a: self._connected.set()
        try:
            self._client.connect(parts.hostname, parts.port or 1883, keepalive=30)
        except OSError as exc:
            raise ConfigError(f"cannot connect to MQTT broker at {url}: {exc}") from exc
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise ConfigError(f"MQTT broker at {url} did not accept the connection")

    def send(self, table: pa.Table) -> None:
        pending = []
        for gw, body in gateway_batches(table, self.gateways):
            payload = json.dumps(body, separators=(",", ":"))
            info = self._client.publish(f"{self.topic_root}/{gw}", payload, qos=1)
            pending.append(info)
            self.report.messages += 1
        deadline = time.monotonic() + self.timeout_s
        for info in pending:  # QoS 1: wait for the broker's PUBACKs
            try:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as exc:  # not queued: connection lost
                raise SinkError(f"MQTT publish failed: {exc}") from exc
            if not info.is_published():
                raise SinkError("MQTT broker did not acknowledge a published batch in time")
        self.report.rows += table.num_rows

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class HttpSink:
    """POST NDJSON gateway batches to the platform's readings endpoint."""

    def __init__(
        self,
        url: str,
        gateways: dict[str, str],
        *,
        token: str | None = None,
        max_rows: int = 20_000,
        timeout_s: float = 60.0,
    ) -> None:
        import httpx

        self.url = url
        self.gateways = gateways
        self.max_rows = max_rows
        headers = {"Content-Type": "application/x-ndjson"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(headers=headers, timeout=timeout_s)
        self.report = SinkReport()

    def send(self, table: pa.Table) -> None:
        import httpx

        for start in range(0, table.num_rows, self.max_rows):
            part = table.slice(start, self.max_rows)
            lines = [
                json.dumps(body, separators=(",", ":"))
                for _, body in gateway_batches(part, self.gateways)
            ]
            try:
                resp = self._client.post(self.url, content=("\n".join(lines) + "\n").encode())
            except httpx.HTTPError as exc:
                raise SinkError(f"POST {self.url} failed: {exc}") from exc
            if resp.status_code >= 400:
                raise SinkError(
                    f"POST {self.url} answered {resp.status_code}: {resp.text[:300]}",
                    details={"status": resp.status_code},
                )
            self.report.messages += 1
            self.report.rows += part.num_rows
            try:
                body = resp.json()
            except ValueError:
                continue
            if isinstance(body, dict):
                self.report.stored += int(body.get("stored", 0))
                self.report.duplicates += int(body.get("duplicates", 0))
                self.report.rejected += int(body.get("rejected", 0))

    def close(self) -> None:
        self._client.close()


class FileSink:
    """Write readings to CSV, Parquet or NDJSON (chosen by the file extension)."""

    FORMATS = {".csv": "csv", ".parquet": "parquet", ".ndjson": "ndjson", ".jsonl": "ndjson"}

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        fmt = self.FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise InvalidInput(
                f"{self.path}: unknown output format; use .csv, .parquet or .ndjson",
                details={"file": str(self.path)},
            )
        self.format = fmt
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.report = SinkReport()
        self._writer: Any = None
        self._fh: Any = None

    def send(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self.format == "parquet":
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._writer.write_table(table)
        else:
            text_ts = pc.strftime(table["ts"], format="%Y-%m-%dT%H:%M:%SZ")
            out = table.set_column(table.schema.get_field_index("ts"), "ts", text_ts)
            if self.format == "csv":
                if self._writer is None:
                    self._writer = pacsv.CSVWriter(self.path, out.schema)
                self._writer.write_table(out)
            else:
                if self._fh is None:
                    self._fh = self.path.open("w", encoding="utf-8")
                text = out.to_pandas().to_json(orient="records", lines=True, force_ascii=False)
                self._fh.write(text if text.endswith("\n") else text + "\n")
        self.report.rows += table.num_rows
        self.report.messages += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None
