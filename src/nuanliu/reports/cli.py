"""``nuanliu reports daily|weekly --scope … --date …``: generate, archive, write files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from nuanliu.cli_store import cli_store
from nuanliu.errors import InvalidInput
from nuanliu.monitor.cli import DbOpt, console

app = typer.Typer(
    no_args_is_help=True,
    help="Regulator reports: daily analysis and weekly dispatch (日研判、周调度).",
)


def _generate(kind: str, scope: str, day: str, db: str | None, out: Path | None) -> None:
    from nuanliu.reports.archive import report_content, save_report
    from nuanliu.reports.daily import build_daily
    from nuanliu.reports.scopes import ReportScope
    from nuanliu.reports.weekly import build_weekly

    with cli_store(db, console) as store:
        rs = ReportScope.parse(scope)
        when = _day(day)
        brief = build_daily(store, rs, when) if kind == "daily" else build_weekly(store, rs, when)
        report = save_report(store, brief, by="cli")
        typer.echo(
            f"archived {report.report_id} ({report.title_zh}, v{report.version},"
            f" {len(brief.findings)} findings)"
        )
        for f in brief.findings:
            typer.echo(f"  - {f.text_zh}")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            stem = f"{kind}-{rs.key.replace(':', '-')}-{brief.first_day.isoformat()}"
            for ext in ("pdf", "xlsx"):
                (out / f"{stem}.{ext}").write_bytes(report_content(store, report.report_id, ext))
            typer.echo(f"wrote {out / stem}.pdf and .xlsx")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--date {text!r} is not a day YYYY-MM-DD") from None


@app.command()
def daily(
    scope: str = typer.Option(
        ..., "--scope", help="region:ID, city:ID, county:ID or enterprise:ID"
    ),
    day: str = typer.Option(..., "--date", help="Local day, YYYY-MM-DD"),
    db: str | None = DbOpt,
    out: Path | None = typer.Option(None, "--out", help="Also write the PDF and XLSX here"),
) -> None:
    """Generate and archive the daily brief (日研判) of a scope for a local day."""
    _generate("daily", scope, day, db, out)


@app.command()
def weekly(
    scope: str = typer.Option(
        ..., "--scope", help="region:ID, city:ID, county:ID or enterprise:ID"
    ),
    day: str = typer.Option(..., "--date", help="Last local day of the week, YYYY-MM-DD"),
    db: str | None = DbOpt,
    out: Path | None = typer.Option(None, "--out", help="Also write the PDF and XLSX here"),
) -> None:
    """Generate and archive the weekly dispatch (周调度) of the seven days ending on --date."""
    _generate("weekly", scope, day, db, out)
