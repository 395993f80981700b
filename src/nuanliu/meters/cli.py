"""``nuanliu meters decode FILE|HEX`` — the field engineer's telegram decoder."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from nuanliu.errors import NuanliuError

app = typer.Typer(
    no_args_is_help=True, help="Heat meters (热量表): decode M-Bus and CJ/T 188 frames."
)


@app.callback()
def _group() -> None:
    """Heat meters (热量表): decode M-Bus and CJ/T 188 frames."""


def _frame_bytes(source: str) -> bytes:
    from nuanliu.meters.mbus import parse_hex

    path = Path(source)
    if path.is_file():
        raw = path.read_bytes()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return raw  # a binary capture
        return parse_hex(text)
    return parse_hex(source)


@app.command("decode")
def decode_cmd(
    source: str = typer.Argument(..., help="A file with the frame (hex text or binary) or hex."),
    protocol: str | None = typer.Option(
        None, "--protocol", help="mbus or cjt188 (default: detected from the frame)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    records: bool = typer.Option(False, "--records", help="Also list every M-Bus data record."),
) -> None:
    """Decode one captured frame; exits 1 with the byte offset of the fault on a bad frame."""
    from nuanliu.meters import mbus
    from nuanliu.meters.reading import decode_frame, detect_protocol

    if protocol not in (None, "mbus", "cjt188"):
        raise typer.BadParameter("use mbus or cjt188", param_hint="--protocol")
    try:
        frame = _frame_bytes(source)
        protocol = protocol or detect_protocol(frame)
        reading = decode_frame(frame, protocol)
        raw_records = mbus.decode(frame).records if records and protocol == "mbus" else []
    except NuanliuError as exc:
        if as_json:
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from None
    if as_json:
        out = reading.to_json()
        if raw_records:
            out["records"] = [
                {
                    "offset": r.offset,
                    "function": r.function,
                    "storage_number": r.storage_number,
                    "tariff": r.tariff,
                    "device": r.device,
                    "quantity": r.quantity,
                    "unit": r.unit,
                    "value": str(r.value),
                    "valid": r.valid,
                }
                for r in raw_records
            ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    console = Console()
    table = Table(title=f"{protocol} meter {reading.meter_address}")
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, value in reading.to_json().items():
        if key == "error_flags":
            value = ", ".join(value) or "none"
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    if raw_records:
        rt = Table(title="data records")
        for col in ("byte", "function", "storage", "tariff", "quantity", "value", "unit"):
            rt.add_column(col)
        for r in raw_records:
            value = f"{r.value:f}" if isinstance(r.value, Decimal) else r.value
            rt.add_row(
                str(r.offset), r.function, str(r.storage_number), str(r.tariff or ""),
                r.quantity, value + ("" if r.valid else " (error value)"), r.unit,
            )  # fmt: skip
        console.print(rt)


def _store(db: str | None):  # type: ignore[no-untyped-def]
    from nuanliu.config import load_settings
    from nuanliu.store import open_store

    settings = load_settings()
    if not db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(db or settings.database_url)


DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the DuckDB file).")


@app.command("ingest")
def ingest_cmd(
    files: list[Path] = typer.Argument(..., help="Reading-round files (CSV or XLSX)."),
    db: str | None = DbOpt,
) -> None:
    """Store manual reading rounds; refused rows go to quarantine with their line."""
    from nuanliu.meters.ingest import ingest
    from nuanliu.meters.messages import parse_round_file

    with _store(db) as store:
        for f in files:
            report = ingest(store, parse_round_file(f))
            print(f"{f.name}: " + json.dumps(report.as_dict(), ensure_ascii=False))


@app.command("mqtt")
def mqtt_cmd(
    url: str = typer.Option("mqtt://127.0.0.1:1883", "--url"),
    group: str | None = typer.Option(None, "--group", help="Shared-subscription group."),
    client_id: str = typer.Option("nuanliu-meters", "--client-id"),
    db: str | None = DbOpt,
) -> None:
    """Ingest nuanliu/v1/meters/<gateway_id> until interrupted (at least once, QoS 1)."""
    from nuanliu.meters.mqtt import run

    with _store(db) as store:
        try:
            stats = run(store, url, group=group, client_id=client_id)
        except KeyboardInterrupt:
            return
        print(json.dumps(stats.report.as_dict(), ensure_ascii=False))


@app.command("due")
def due_cmd(
    within_days: int = typer.Option(30, "--within-days"),
    db: str | None = DbOpt,
) -> None:
    """Meters whose verification is due within the given days (or overdue)."""
    from datetime import UTC, datetime

    from nuanliu.meters.registry import verification_due

    with _store(db) as store:
        for m in verification_due(store, as_of=datetime.now(UTC).date(), within_days=within_days):
            print(f"{m.meter_id}\t{m.household_id or m.building_id}\t{m.verification_due()}")
