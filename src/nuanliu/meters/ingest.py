"""Store meter readings: resolve the meter, check plausibility, keep every refusal.

Every path (MQTT, files, API) hands :func:`ingest` a list of :class:`Candidate`; the
invariant of the platform's ingest holds: ``received = stored + duplicates +
quarantined``. A batch is one transaction (readings and quarantine rows together), so an
at-least-once transport acknowledges only after ``ingest`` returns; a redelivered
message finds its readings stored and counts them as duplicates ((meter_id, read_at)
is the key).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from nuanliu.meters.plausibility import Limits, Point, check
from nuanliu.meters.reading import MeterReading
from nuanliu.store import Store
from nuanliu.store.readings import QuarantineRow

_HISTORY = timedelta(days=7)
_COLUMNS = (
    "meter_id", "read_at", "energy_gj", "volume_m3", "power_kw", "flow_m3_h", "supply_temp_c",
    "return_temp_c", "operating_hours", "meter_clock", "error_flags", "flags", "billable",
    "source", "received_at",
)  # fmt: skip


@dataclass
class Candidate:
    """One reading as received: decoded, or the reason it could not be."""

    source: str  # mqtt:nuanliu/v1/meters/gw1, file:round.csv:17, http:user
    raw: str
    reading: MeterReading | None = None
    error: str | None = None
    read_at: datetime | None = None  # when the gateway / reader read it (aware)
    meter_id: str | None = None  # when the sender names the registry meter


@dataclass
class MeterIngestReport:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    flagged: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.received == self.stored + self.duplicates + self.quarantined

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "balanced": self.balanced}


def _address_map(store: Store) -> dict[str, str]:
    with store.read() as q:
        rows = q.all(
            "SELECT meter_id, mbus_secondary_address, cjt188_address FROM heat_meters "
            "WHERE status <> 'removed'"
        )
    out: dict[str, str] = {}
    for meter_id, mbus_addr, cjt_addr in rows:
        out[meter_id] = meter_id
        if mbus_addr:
            out[f"mbus:{int(mbus_addr):08d}"] = meter_id
        if cjt_addr:
            out[f"cjt188:{cjt_addr}"] = meter_id
    return out


def _history(store: Store, meter_ids: list[str], since: datetime) -> dict[str, list[Point]]:
    out: dict[str, list[Point]] = defaultdict(list)
    if not meter_ids:
        return out
    marks = ", ".join("?" * len(meter_ids))
    sql = (
        "SELECT meter_id, read_at, energy_gj, volume_m3, supply_temp_c, return_temp_c, "
        f"billable FROM meter_readings WHERE meter_id IN ({marks}) AND (read_at >= ? OR "
        "read_at = (SELECT MAX(m2.read_at) FROM meter_readings m2 WHERE m2.meter_id = "
        "meter_readings.meter_id AND m2.read_at < ?)) ORDER BY meter_id, read_at"
    )
    with store.read() as q:
        rows = q.all(sql, [*meter_ids, since, since])
    for mid, at, e, v, s, r, billable in rows:
        out[mid].append(
            Point(_aware(at), _dec(e), _dec(v), _dec(s), _dec(r), None, billable=bool(billable))
        )
    return out


def _dec(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def ingest(
    store: Store,
    candidates: list[Candidate],
    *,
    now: datetime | None = None,
    limits: Limits = Limits(),
    allowed_meter_ids: set[str] | None = None,
) -> MeterIngestReport:
    """Store plausible readings, flag the doubtful, quarantine the rest (one transaction).

    ``allowed_meter_ids`` limits a caller to its own meters; others are refused exactly
    like unknown ones (a caller learns nothing about meters outside its scope)."""
    now = now or datetime.now(UTC)
    report = MeterIngestReport(received=len(candidates))
    quarantine: list[QuarantineRow] = []

    def refuse(c: Candidate, reason: str, meter_id: str | None = None) -> None:
        report.quarantined += 1
        key = reason.split(":", 1)[0]
        report.reasons[key] = report.reasons.get(key, 0) + 1
        quarantine.append(
            QuarantineRow(
                source=c.source,
                reason=reason,
                raw=c.raw,
                sensor_id=meter_id,
                ts_text=c.read_at.isoformat() if c.read_at else None,
                received_at=now,
            )
        )

    addresses = _address_map(store)
    accepted: dict[str, list[tuple[Candidate, MeterReading, datetime]]] = defaultdict(list)
    for c in candidates:
        if c.error is not None or c.reading is None:
            refuse(c, f"undecodable: {c.error or 'no reading'}")
            continue
        key = c.meter_id or f"{c.reading.protocol}:{c.reading.meter_address}"
        meter_id = addresses.get(key)
        if meter_id is not None and allowed_meter_ids is not None:
            meter_id = meter_id if meter_id in allowed_meter_ids else None
        if meter_id is None:
            refuse(c, f"unknown meter: {key} is not in the registry")
            continue
        read_at = c.read_at or now
        if read_at.tzinfo is None:
            refuse(c, f"naive time: read_at {read_at.isoformat()} has no time zone", meter_id)
            continue
        if read_at > now + timedelta(minutes=5):
            refuse(c, f"future: read_at {read_at.isoformat()} is after {now.isoformat()}", meter_id)
            continue
        accepted[meter_id].append((c, c.reading, read_at))
    if accepted:
        since = min(at for items in accepted.values() for _, _, at in items) - _HISTORY
        history = _history(store, sorted(accepted), since)
    else:
        history = {}
    rows: list[tuple[Any, ...]] = []
    for meter_id in sorted(accepted):
        items = sorted(accepted[meter_id], key=lambda t: t[2])
        past = history.get(meter_id, [])
        known = {p.read_at for p in past}
        for c, r, at in items:
            if at in known:
                report.duplicates += 1
                continue
            point = Point(
                at, r.energy_gj, r.volume_m3, r.supply_temp_c, r.return_temp_c,
                r.meter_clock, r.error_flags,
            )  # fmt: skip
            earlier = [p for p in past if p.read_at < at]
            verdict = check(point, earlier, limits)
            if verdict.quarantine:
                refuse(c, verdict.quarantine, meter_id)
                continue
            if verdict.flags:
                report.flagged += 1
                for f in verdict.flags:
                    key = f.split(":", 1)[0]
                    report.reasons[key] = report.reasons.get(key, 0) + 1
            if not verdict.billable:
                point = Point(**{**point.__dict__, "billable": False})
            past = sorted([*past, point], key=lambda p: p.read_at)
            known.add(at)
            clock = (
                r.meter_clock.replace(tzinfo=_tz(limits)).astimezone(UTC) if r.meter_clock else None
            )
            rows.append(
                (
                    meter_id, at, r.energy_gj, r.volume_m3, r.power_kw, r.flow_m3_h,
                    r.supply_temp_c, r.return_temp_c, r.operating_hours, clock,
                    "; ".join(r.error_flags) or None, " | ".join(verdict.flags) or None,
                    verdict.billable, c.source, now,
                )
            )  # fmt: skip
    with store.write() as w:
        if rows:
            w.executemany(
                f"INSERT INTO meter_readings ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                rows,
            )
        store.insert_quarantine(quarantine)
    report.stored = len(rows)
    return report


def _tz(limits: Limits) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(limits.meter_tz)
