"""``nuanliu oversight …``: load scorecards, run evaluations, sweep orders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import typer

from nuanliu.cli_store import cli_store
from nuanliu.monitor.cli import DbOpt, console

app = typer.Typer(
    no_args_is_help=True, help="Regulator oversight: orders, licences, evaluation (监管督办与考核)."
)


@app.command("scorecard")
def scorecard(path: Path, db: str | None = DbOpt) -> None:
    """Load a scorecard file (TOML or JSON) as the next version of its season."""
    from nuanliu.oversight.scorecard import load_scorecard_file, save_scorecard

    card = load_scorecard_file(path)
    with cli_store(db, console) as store:
        saved = save_scorecard(store, card, by="cli")
    typer.echo(f"saved {saved.scorecard_id} ({saved.name_zh}, {saved.max_points:g} points)")


@app.command("evaluate")
def evaluate(
    scorecard_id: str,
    region: str = typer.Option(..., "--region"),
    first: str = typer.Option(..., "--from", help="First local day"),
    end: str = typer.Option(..., "--to", help="Day after the last"),
    kind: str = typer.Option("season", "--kind", help="month or season"),
    label: str = typer.Option(..., "--label"),
    db: str | None = DbOpt,
) -> None:
    """Run an evaluation and print the ranking."""
    from nuanliu.oversight.evaluation import evaluation_results, run_evaluation

    with cli_store(db, console) as store:
        eid = run_evaluation(
            store,
            scorecard_id,
            region,
            period_kind=kind,
            period_label=label,
            first_day=date.fromisoformat(first),
            end_day=date.fromisoformat(end),
            by="cli",
        )
        for r in evaluation_results(store, eid)["results"]:
            typer.echo(
                f"{r['rank']:>3} {r['enterprise_id']:<20} {r['total_points']:>7.1f} {r['grade']}"
                f"{' (veto)' if r['vetoed'] else ''}"
            )


@app.command("sweep")
def sweep_orders(db: str | None = DbOpt) -> None:
    """Flag overdue orders and escalate them (what the scheduler runs)."""
    from nuanliu.oversight.jobs import order_sweep

    with cli_store(db, console) as store:
        typer.echo(str(order_sweep(store, now=datetime.now(UTC))))
