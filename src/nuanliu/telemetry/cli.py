"""``nuanliu telemetry …``: ingest station/source exports, simulate telemetry from the
twin, detect substation faults, print the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from nuanliu.cli_store import cli_store
from nuanliu.errors import NuanliuError

app = typer.Typer(
    no_args_is_help=True,
    help="Station and source telemetry (站源遥测): ingest, simulate, fault detection.",
)
console = Console()
DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the data dir)")


def _when(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("site")
def site_cmd(
    site_id: str = typer.Argument(..., help="the site's id, as its telemetry names it"),
    kind: str = typer.Option("station", help="source, station or pump"),
    name: str = typer.Option("", help="name (Chinese); default the id"),
    name_en: str | None = typer.Option(None, help="name (English)"),
    station_id: str | None = typer.Option(None, help="registry station it stands for"),
    area_m2: float | None = typer.Option(None, help="heated area, m² (for GJ/m²)"),
    design_heat_kw: float | None = typer.Option(None),
    design_supply_c: float | None = typer.Option(None),
    design_return_c: float | None = typer.Option(None),
    curve: str | None = typer.Option(
        None, help="secondary heating curve 'outdoor:supply,…', e.g. '-20:58,5:38,15:30'"
    ),
    db: str | None = DbOpt,
) -> None:
    """Register (or update) a telemetry site."""
    from nuanliu.errors import InvalidInput
    from nuanliu.telemetry.store import Site, save_sites

    points: list[tuple[float, float]] = []
    for part in (curve or "").split(","):
        if not part.strip():
            continue
        try:
            x, y = (float(v) for v in part.split(":"))
        except ValueError:
            console.print(f"[red]--curve: {part!r} is not outdoor:supply (°C)[/red]")
            raise typer.Exit(2) from None
        points.append((x, y))
    with cli_store(db, console, monitored=False) as store:
        try:
            save_sites(
                store,
                [
                    Site(
                        site_id,
                        kind,
                        name or site_id,
                        name_en,
                        station_id=station_id,
                        heated_area_m2=area_m2,
                        design_heat_kw=design_heat_kw,
                        design_supply_c=design_supply_c,
                        design_return_c=design_return_c,
                        curve=points,
                    )
                ],
            )
        except InvalidInput as exc:
            console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(2) from exc
    console.print(f"site {site_id} ({kind}) saved")


@app.command("ingest")
def ingest(
    files: list[Path] = typer.Argument(..., help="CSV/TSV/Parquet/NDJSON/JSON exports"),
    profile: str | None = typer.Option(None, help="export profile, e.g. kamstrup"),
    site: str | None = typer.Option(None, help="site of files without a site_id column"),
    encoding: str = typer.Option("auto", help="auto, utf-8 or gb18030"),
    db: str | None = DbOpt,
) -> None:
    """Ingest telemetry files; refused values go to quarantine with a reason.

    Exit 0 when anything was accepted (refused values are counted), 1 when a file could
    not be read at all, 2 when every value was refused (``ingest/outcome.py``)."""
    from nuanliu.ingest.model import IngestReport
    from nuanliu.ingest.outcome import exit_code, refusal_note
    from nuanliu.telemetry.ingest import ingest_telemetry_file

    failed = 0
    total = IngestReport()
    with cli_store(db, console, monitored=False) as store:
        for path in files:
            try:
                rep = ingest_telemetry_file(
                    store, path, profile=profile, site=site, encoding=encoding
                )
            except NuanliuError as exc:
                console.print(f"[red]{path}: {exc.message}[/red]")
                failed += 1
                continue
            total.add(rep)
            console.print(f"{path}: {rep.summary()}", soft_wrap=True, markup=False)
            for reason in rep.reasons[:5]:
                console.print(f"  {reason}", style="yellow", soft_wrap=True, markup=False)
    if len(files) > 1:
        console.print(f"total: {total.summary()}", soft_wrap=True, markup=False)
    note = refusal_note(total, [p.name for p in files], unit="value")
    if note:
        console.print(note, soft_wrap=True, markup=False)
    code = exit_code(total, failed)
    if code:
        raise typer.Exit(code)


@app.command("mqtt")
def mqtt_cmd(
    url: str = typer.Option(
        "", "--url", help="Broker, mqtt://host:port (default NUANLIU_MQTT_URL)."
    ),
    group: str = typer.Option("telemetry", "--group", help="Shared-subscription group."),
    instance: int = typer.Option(0, "--instance", help="This worker's number in the group."),
    batch_messages: int = typer.Option(1000, "--batch-messages", help="Messages per transaction."),
    stats_interval_s: float = typer.Option(10.0, "--stats-interval-s"),
    db: str | None = DbOpt,
) -> None:
    """Consume nuanliu/v1/telemetry/<site_id> (QoS 1, persistent shared subscription,
    acknowledged after commit — the readings worker with telemetry rows) until SIGTERM."""
    import signal

    from nuanliu.config import load_settings
    from nuanliu.ingest.mqtt import MqttConfig, MqttIngest
    from nuanliu.store import open_store
    from nuanliu.telemetry.ingest import TOPIC_ROOT, TelemetryIngestor

    cfg = MqttConfig(
        url=url or load_settings().mqtt_url,
        topic=f"{TOPIC_ROOT}/+",
        group=group,
        client_id=f"nuanliu-telemetry-{group or 'nogroup'}-{instance}",
        batch_messages=batch_messages,
        receive_maximum=max(batch_messages, 1),
        stats_interval_s=stats_interval_s,
    )
    with cli_store(db, console, monitored=False) as store:
        members = open_store(db or load_settings().database_url, migrate=False)
        with members:
            worker = MqttIngest(TelemetryIngestor(store), cfg, membership_store=members)

            def _stop(signum: int, _frame: Any) -> None:
                worker.stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            worker.run()
            if worker.error:
                console.print(f"[red]{worker.error}[/red]")
                raise typer.Exit(1)


@app.command("simulate")
def simulate(
    days: float = typer.Option(14.0, help="days of hourly telemetry"),
    end: str | None = typer.Option(None, help="end (ISO 8601; default now)"),
    stations: int = typer.Option(20, help="how many of the twin's stations"),
    fault_share: float = typer.Option(0.3, help="share of stations given a fault"),
    seed: int = typer.Option(0),
    labels: Path | None = typer.Option(None, help="write the injected faults as JSON here"),
    db: str | None = DbOpt,
) -> None:
    """Simulate station and source telemetry from the Tuoketuo–Hohhot twin into the store."""
    from nuanliu.telemetry.demo import simulate_into

    with cli_store(db, console, monitored=False) as store:
        result = simulate_into(
            store,
            end=_when(end),
            days=days,
            stations=stations,
            fault_share=fault_share,
            seed=seed,
        )
    console.print(result["report"].summary())
    if labels is not None:
        labels.write_text(json.dumps(result["labels"], indent=1, ensure_ascii=False))
        console.print(f"labels: {labels}")


@app.command("faults")
def faults_cmd(
    now: str | None = typer.Option(None, help="judge the days before this instant"),
    days: int = typer.Option(1, help="local days to judge"),
    db: str | None = DbOpt,
) -> None:
    """Detect substation faults, record their evidence, raise their alerts."""
    from nuanliu.telemetry.jobs import fault_detection

    with cli_store(db, console, monitored=False) as store:
        summary = fault_detection(store, now=_when(now), days=days)
        with store.read() as q:
            rows = q.all(
                "SELECT site_id, fault_class, score, message_en FROM tel_faults"
                " WHERE is_open ORDER BY site_id, fault_class"
            )
    table = Table("站点 site", "故障 fault", "score", "说明 message")
    for r in rows:
        table.add_row(str(r[0]), str(r[1]), f"{r[2]:.2f}", str(r[3]))
    console.print(table)
    console.print(json.dumps(summary))


@app.command("schema")
def schema(markdown: bool = typer.Option(False, help="print the Markdown table")) -> None:
    """The telemetry points with units and plausibility ranges."""
    from nuanliu.telemetry.points import POINTS
    from nuanliu.telemetry.points import markdown as md

    if markdown:
        typer.echo(md(), nl=False)
        return
    table = Table("point", "unit", "min", "max", "sites", "名称")
    for p in POINTS:
        table.add_row(
            p.name, p.unit, f"{p.min_value:g}", f"{p.max_value:g}", ",".join(p.kinds), p.name_zh
        )
    console.print(table)


__all__ = ["app", "timedelta"]
