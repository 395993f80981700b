"""``nuanliu billing …``: tariffs, billing runs, payment imports, statements, collection."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from nuanliu.errors import NuanliuError

app = typer.Typer(
    no_args_is_help=True,
    help="Heat billing (供热收费): tariffs, billing runs, payments, statements.",
)
DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the DuckDB file).")


def _store(db: str | None) -> Any:
    from nuanliu.config import load_settings
    from nuanliu.store import open_store

    settings = load_settings()
    if not db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(db or settings.database_url)


def _fail(exc: NuanliuError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    raise typer.Exit(1)


def _today() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()


@app.command("tariffs")
def tariffs_cmd(
    db: str | None = DbOpt,
    examples: bool = typer.Option(False, "--examples", help="Load the shipped example tariffs."),
    load: Path | None = typer.Option(None, "--load", help="Load tariff versions from a JSON file."),
) -> None:
    """List tariff versions (loading the examples or a JSON file of versions first)."""
    from nuanliu.billing.examples import example_tariffs
    from nuanliu.billing.tariffs import Tariff, load_tariffs, save_tariffs

    with _store(db) as store:
        try:
            if examples:
                save_tariffs(store, example_tariffs())
            if load is not None:
                from decimal import Decimal

                docs = json.loads(load.read_text(encoding="utf-8"))
                items = []
                for d in docs if isinstance(docs, list) else [docs]:
                    for k, v in list(d.items()):
                        if (
                            k.endswith(("_yuan_m2", "_share", "_yuan_gj", "_rate"))
                            and v is not None
                        ):
                            d[k] = Decimal(str(v))
                        if k in ("valid_from", "valid_to") and v:
                            d[k] = date.fromisoformat(v)
                    items.append(Tariff(**d))
                save_tariffs(store, items)
        except (NuanliuError, TypeError, ValueError) as exc:
            _fail(exc if isinstance(exc, NuanliuError) else NuanliuError(str(exc)))
        for t in load_tariffs(store):
            mark = " [EXAMPLE]" if t.is_example else ""
            print(
                f"{t.tariff_id} v{t.version}{mark}: {t.area_price_yuan_m2} 元/m², basic "
                f"{t.basic_share}, {t.energy_price_yuan_gj} 元/GJ, cap {t.cap_share}, "
                f"from {t.valid_from} — {t.source[:80]}"
            )


@app.command("run")
def run_cmd(
    season: str = typer.Argument(..., help="e.g. 2026-2027"),
    kind: str = typer.Option("settlement", "--kind", help="advance or settlement"),
    issued_on: str | None = typer.Option(None, "--issued-on", help="YYYY-MM-DD (default today)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the run's bills (TSV)."),
    db: str | None = DbOpt,
) -> None:
    """Bill every household; unchanged inputs add nothing, changed ones a new version."""
    from nuanliu.billing.runs import run_billing, run_output

    with _store(db) as store:
        try:
            issued = date.fromisoformat(issued_on) if issued_on else _today()
            report = run_billing(store, season=season, kind=kind, issued_on=issued)
        except NuanliuError as exc:
            _fail(exc)
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        if output is not None:
            output.write_bytes(run_output(store, season, kind))


@app.command("payments")
def payments_cmd(
    files: list[Path] = typer.Argument(..., help="Bank or channel files (CSV or XLSX)."),
    channel: str = typer.Option("bank", "--channel"),
    db: str | None = DbOpt,
) -> None:
    """Import payments; unmatched rows go to quarantine with their line and reason."""
    from nuanliu.billing.payments import import_payments

    with _store(db) as store:
        for f in files:
            report = import_payments(store, f.name, f.read_bytes(), channel=channel)
            print(f"{f.name}: " + json.dumps(report.as_dict(), ensure_ascii=False))


@app.command("statement")
def statement_cmd(
    household_id: str,
    season: str,
    output: Path = typer.Option(..., "--output", "-o", help="PDF file to write."),
    db: str | None = DbOpt,
) -> None:
    """Write one household's statement as PDF."""
    from nuanliu.billing.statement import statement_data, statement_pdf

    with _store(db) as store:
        try:
            data = statement_data(store, household_id, season, as_of=_today())
        except NuanliuError as exc:
            _fail(exc)
        output.write_bytes(statement_pdf(data))
        print(f"wrote {output}")


@app.command("collection")
def collection_cmd(
    season: str,
    level: str = typer.Option("community", "--level"),
    db: str | None = DbOpt,
) -> None:
    """Collection rate (收缴率) per object at a level."""
    from nuanliu.billing.collection import collection_rates

    with _store(db) as store:
        try:
            for s in collection_rates(store, level=level, ids=None, season=season):
                rate = "—" if s.rate is None else f"{s.rate:.1%}"
                print(f"{s.object_id}\t{s.billed_yuan}\t{s.paid_yuan}\t{rate}")
        except NuanliuError as exc:
            _fail(exc)


@app.command("nightly")
def nightly_cmd(db: str | None = DbOpt) -> None:
    """Run the nightly job now (late fees, meter reading summary, verification due)."""
    from nuanliu.billing.jobs import nightly

    with _store(db) as store:
        print(json.dumps(nightly(store, now=datetime.now(UTC)), ensure_ascii=False, indent=2))
