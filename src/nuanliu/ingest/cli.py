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


def _limits(future_tolerance_s: float, ts_unit: str = "auto") -> Any:
    from nuanliu.ingest.validate import Limits

    return Limits(future_tolerance=timedelta(seconds=future_tolerance_s), ts_unit=ts_unit)


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
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 if any row was refused (2 when all were, as always)."
    ),
    aggregates: bool = AggOpt,
    encoding: str = typer.Option(
        "auto", "--encoding", help="Text encoding: auto (UTF-8 or GB18030), utf-8, gb18030."
    ),
    ts_unit: str = typer.Option(
        "auto",
        "--ts-unit",
        help="Unit of epoch-number timestamps: auto (by magnitude, 2000–2100), s, ms, us, ns.",
    ),
) -> None:
    """Ingest reading files (format by suffix; .gz allowed), streamed in chunks."""
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.encoding import check_encoding
    from nuanliu.ingest.files import ingest_file
    from nuanliu.ingest.model import IngestReport
    from nuanliu.ingest.outcome import exit_code, refusal_note
    from nuanliu.ingest.timestamps import check_unit

    console = Console()
    table = Table("file", "received", "stored", "duplicates", "rejected")
    total = IngestReport()
    failed = 0
    try:
        encoding = check_encoding(encoding)
        ts_unit = check_unit(ts_unit)
    except (NuanliuError, ValueError) as exc:
        console.print(f"[red]error:[/red] {getattr(exc, 'message', exc)}")
        raise typer.Exit(2) from exc
    try:
        store = _open(db, aggregates)
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    with store:
        ingestor = Ingestor(store, limits=_limits(future_tolerance_s, ts_unit))
        for path in paths:
            try:
                rep = ingest_file(ingestor, path, encoding=encoding)
            except Exception as exc:  # a bug must not stop the other files either
                # A whole-file failure: reported, counted, and the next file goes on.
                what = (
                    exc.message
                    if isinstance(exc, NuanliuError)
                    else f"{path}: {type(exc).__name__}: {exc}"
                )
                console.print(f"[red]error:[/red] {what}", soft_wrap=True)
                table.add_row(str(path), "[red]failed[/red]", "", "", "")
                failed += 1
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
        console.print(f"  quarantined {reason}", soft_wrap=True, markup=False)
    dead = total.dead_lettered
    check = "==" if total.balanced else "!="
    console.print(
        f"received {total.received} {check} stored {total.stored} + duplicates "
        f"{total.duplicates} + quarantined {total.rejected}"
        + (f" + dead-lettered {dead}" if dead else "")
        + (f"; {failed} file(s) failed as a whole" if failed else ""),
        soft_wrap=True,
        markup=False,
    )
    note = refusal_note(total, [p.name for p in paths])
    if note:
        console.print(note, soft_wrap=True, markup=False)
    code = exit_code(total, failed, strict)
    if code:
        raise typer.Exit(code)


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


@app.command("archive")
def archive_cmd(
    directory: Path = typer.Argument(..., help="Archive folder (another disk than the DB)."),
    url: str = typer.Option(
        "", "--url", help="Broker, mqtt://host:port (default NUANLIU_MQTT_URL)."
    ),
    topic: str = typer.Option("nuanliu/v1/readings/#", "--topic", help="Topic filter."),
    client_id: str = typer.Option("nuanliu-archive-0", "--client-id", help="Stable client id."),
    keep_days: int = typer.Option(14, "--keep-days", help="Delete day folders older than this."),
) -> None:
    """Keep every readings message, raw, in hourly files: what a restore replays."""
    from nuanliu.ingest.archive import ArchiveConfig, MqttArchiver

    archiver = MqttArchiver(
        ArchiveConfig(
            url=url or load_settings().mqtt_url,
            directory=directory,
            topic=topic,
            client_id=client_id,
            keep_days=keep_days,
        )
    )

    def _stop(signum: int, _frame: Any) -> None:
        archiver.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    archiver.run()


SinceOpt = typer.Option(
    None, "--since", help="Only dead letters received at or after this ISO time (with offset)."
)
TransportOpt = typer.Option(None, "--transport", help="Only mqtt, http, file or python.")


def _since(text: str | None) -> Any:
    from datetime import datetime

    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"--since {text!r} is not an ISO 8601 time") from exc
    if when.tzinfo is None:
        raise typer.BadParameter(f"--since {text!r} has no timezone (add +08:00 or Z)")
    return when


def _print_dead_letters(letters: list[Any]) -> None:
    console = Console()
    table = Table(
        "id", "received (UTC)", "transport", "source", "bytes", "error", "tries", "replayed"
    )
    for d in letters:
        table.add_row(
            str(d.dead_letter_id),
            d.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            d.transport,
            d.source,
            str(d.payload_size),
            f"{d.error_type}: {d.error_message[:80]}",
            str(d.attempts),
            d.replayed_at.strftime("%Y-%m-%d %H:%M:%S") if d.replayed_at else "",
        )
    console.print(table)
    pending = sum(1 for d in letters if d.replayed_at is None)
    console.print(f"{len(letters)} dead letter(s), {pending} pending / 共 {pending} 条待重放")


@app.command("dead-letters")
def dead_letters_cmd(
    db: str | None = DbOpt,
    transport: str | None = TransportOpt,
    since: str | None = SinceOpt,
    pending: bool = typer.Option(False, "--pending", help="Only those not replayed yet."),
) -> None:
    """List dead letters: inputs whose processing raised, kept for `ingest replay`."""
    try:
        with _open(db, aggregates=False) as store:
            letters = store.list_dead_letters(
                transport=transport, since=_since(since), pending_only=pending, with_payload=False
            )
    except NuanliuError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from exc
    _print_dead_letters(letters)


@app.command("replay")
def replay_cmd(
    ids: list[int] = typer.Option([], "--id", help="Replay this dead letter (repeatable)."),
    transport: str | None = TransportOpt,
    since: str | None = SinceOpt,
    db: str | None = DbOpt,
    future_tolerance_s: float = TolOpt,
    aggregates: bool = AggOpt,
    list_only: bool = typer.Option(False, "--list", help="Only list the dead letters."),
) -> None:
    """Re-process pending dead letters through the current code (e.g. after a fix).

    Letters that now succeed are stored and marked replayed with their report; those
    that still fail stay pending with the new error (exit 1). Running it again is safe.
    """
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.replay import replay_dead_letters

    when = _since(since)
    try:
        store = _open(db, aggregates)
    except NuanliuError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from exc
    console = Console()
    with store:
        if list_only:
            letters = store.list_dead_letters(
                ids=ids or None, transport=transport, since=when, with_payload=False
            )
            _print_dead_letters(letters)
            return
        try:
            outcomes = replay_dead_letters(
                store,
                ids=ids or None,
                transport=transport,
                since=when,
                ingestor=Ingestor(store, limits=_limits(future_tolerance_s)),
            )
        except NuanliuError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            raise typer.Exit(1) from exc
    table = Table("id", "source", "result")
    for o in outcomes:
        text = o.report.summary() if o.report else f"still failing: {o.error}"
        table.add_row(str(o.dead_letter_id), o.source, text)
    console.print(table)
    failed = sum(1 for o in outcomes if not o.replayed)
    console.print(
        f"replayed {len(outcomes) - failed} of {len(outcomes)} pending dead letter(s); "
        f"{failed} still failing / 重放成功 {len(outcomes) - failed} 条，仍失败 {failed} 条"
    )
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":  # python -m nuanliu.ingest.cli mqtt ... (used by the tests)
    app()
