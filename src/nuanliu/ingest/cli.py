"""``nuanliu ingest FILE...`` and ``nuanliu ingest mqtt --url ...``.

``ingest`` is a group with the sub-commands ``files`` and ``mqtt``; anything after
``ingest`` that is not a sub-command name is taken as ``files`` arguments, so
``nuanliu ingest a.csv b.parquet`` works (a file literally named ``mqtt``:
``nuanliu ingest files mqtt``).
"""

from __future__ import annotations

import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from nuanliu.config import load_settings
from nuanliu.errors import NuanliuError


class _FilesByDefault(TyperGroup):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_FilesByDefault,
    no_args_is_help=True,
    help="Ingest sensor readings from files or MQTT; refused rows go to quarantine.",
)


def _open(db: str | None, aggregates: bool = True) -> Any:
    """The store, with the monitoring aggregates kept up to date by what we ingest.

    Start-up matters for a command run per file: the schema version is checked, not
    the migrations re-run (an empty or older database is still migrated, under the
    migration lock, so a worker started after an upgrade needs no extra step), and only
    the aggregates hook's module is imported, not the monitoring package's pandas.
    """
    from nuanliu.monitor.aggregates import register_aggregates
    from nuanliu.store import open_store

    settings = load_settings()
    if not db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(db or settings.database_url, migrate="check")
    if aggregates:
        register_aggregates(store)
    return store


def _limits(future_tolerance_s: float) -> Any:
    from nuanliu.ingest.validate import Limits

    return Limits(future_tolerance=timedelta(seconds=future_tolerance_s))


DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the DuckDB file).")
TolOpt = typer.Option(300.0, "--future-tolerance-s", help="Accept timestamps this far ahead.")
AggOpt = typer.Option(
    True,
    "--aggregates/--no-aggregates",
    help="Maintain the monitoring aggregates while ingesting (--no-aggregates for a bulk "
    "backfill, followed by `nuanliu monitor rebuild`).",
)


@app.command("files")
def files_cmd(
    paths: list[Path] = typer.Argument(..., help="CSV, TSV, Parquet, NDJSON or JSON files."),
    db: str | None = DbOpt,
    future_tolerance_s: float = TolOpt,
    strict: bool = typer.Option(False, "--strict", help="Exit 1 if any row was refused."),
    aggregates: bool = AggOpt,
) -> None:
    """Ingest reading files (format by suffix; .gz allowed), streamed in chunks."""
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.files import ingest_file
    from nuanliu.ingest.model import IngestReport

    console = Console()
    table = Table("file", "received", "stored", "duplicates", "rejected")
    total = IngestReport()
    failed = False
    try:
        store = _open(db, aggregates)
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    with store:
        ingestor = Ingestor(store, limits=_limits(future_tolerance_s))
        for path in paths:
            try:
                rep = ingest_file(ingestor, path)
            except NuanliuError as exc:
                console.print(f"[red]error:[/red] {exc.message}")
                failed = True
                continue
            total.add(rep)
            table.add_row(
                str(path),
                *(str(v) for v in (rep.received, rep.stored, rep.duplicates, rep.rejected)),
            )
    if len(paths) > 1:
        table.add_row(
            "total",
            *(str(v) for v in (total.received, total.stored, total.duplicates, total.rejected)),
        )
    console.print(table)
    for reason in total.reasons[:10]:
        console.print(f"  quarantined {reason}")
    if failed or (strict and total.rejected):
        raise typer.Exit(1)


@app.command("mqtt")
def mqtt_cmd(
    url: str = typer.Option(
        "", "--url", help="Broker, mqtt://host:port (default NUANLIU_MQTT_URL)."
    ),
    topic: str = typer.Option("nuanliu/v1/readings/#", "--topic", help="Topic filter."),
    group: str = typer.Option("ingest", "--group", help="Shared-subscription group ('' = none)."),
    instance: int = typer.Option(
        0,
        "--instance",
        help="This worker's number in the group: the client id is "
        "nuanliu-ingest-<group>-<instance>. Add a worker = start another number.",
    ),
    client_id: str = typer.Option(
        "", "--client-id", help="Explicit client id (instead of the group and --instance)."
    ),
    drain: bool = typer.Option(
        False,
        "--drain",
        help="Leave the group: stop taking new messages, ingest what this identity's "
        "session still holds, end the session, exit. Stop the worker first.",
    ),
    db: str | None = DbOpt,
    batch_messages: int = typer.Option(1000, "--batch-messages", help="Messages per transaction."),
    batch_ms: float = typer.Option(200.0, "--batch-ms", help="Longest wait to fill a batch."),
    session_expiry_s: int = typer.Option(
        86_400, "--session-expiry-s", help="How long the broker keeps a session while away."
    ),
    heartbeat_s: float = typer.Option(5.0, "--heartbeat-s", help="Membership heartbeat period."),
    orphan_timeout_s: float = typer.Option(
        15.0, "--orphan-timeout-s", help="A member silent this long is adopted by a live one."
    ),
    stats_interval_s: float = typer.Option(10.0, "--stats-interval-s", help="Stats line period."),
    future_tolerance_s: float = TolOpt,
    aggregates: bool = AggOpt,
) -> None:
    """Consume readings from MQTT (QoS 1, persistent shared subscription) until SIGTERM."""
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.mqtt import MqttConfig, MqttIngest
    from nuanliu.store import open_store

    cfg = MqttConfig(
        url=url or load_settings().mqtt_url,
        topic=topic,
        group=group,
        client_id=client_id,
        instance=instance,
        drain=drain,
        batch_messages=batch_messages,
        batch_ms=batch_ms,
        session_expiry_s=session_expiry_s,
        receive_maximum=max(batch_messages, 1),
        heartbeat_s=heartbeat_s,
        orphan_timeout_s=orphan_timeout_s,
        stats_interval_s=stats_interval_s,
    )
    try:
        cfg.host_port()
        cfg.identity()
        store = _open(db, aggregates)
        # Its own connection for heartbeats, so they never wait behind a long batch.
        members = open_store(db or load_settings().database_url, migrate=False)
    except NuanliuError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from exc
    with store, members:
        worker = MqttIngest(
            Ingestor(store, limits=_limits(future_tolerance_s)), cfg, membership_store=members
        )

        def _stop(signum: int, _frame: Any) -> None:
            worker.stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        try:
            worker.run()
        except NuanliuError as exc:
            # Nothing of the failed batch was acked: the broker re-sends it to the session
            # when this worker (or another of its group) is back.
            print(f"error: {exc.message}; unacknowledged messages stay queued", file=sys.stderr)
            raise typer.Exit(1) from exc
        if worker.error:
            print(f"error: {worker.error}", file=sys.stderr)
            raise typer.Exit(1)


if __name__ == "__main__":  # python -m nuanliu.ingest.cli mqtt ... (used by the tests)
    app()
