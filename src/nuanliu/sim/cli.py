"""``nuanliu simulate``: solve a network's steady state and summarise it.

Exit codes: 0 solved within every physical limit (or ``--allow-violations``), 1 not
converged, 2 invalid input, 3 infeasible (converged but breaks a physical limit).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from nuanliu.errors import NuanliuError
from nuanliu.network.schema import SINGULAR

try:  # recent typer vendors click
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]
from typer.core import TyperGroup

SIMULATE_HELP = (
    "Simulate a network: steady state, seasons, pipe tests, calibration (稳态/动态仿真)."
)


class _SteadyByDefault(TyperGroup):
    """``nuanliu simulate FILE …`` stays the steady solve; ``pipe-test`` and ``season``
    are subcommands (anything else, ``--help`` included, goes to ``steady``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands:
            args = ["steady", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(no_args_is_help=True)
simulate_app = typer.Typer(cls=_SteadyByDefault, no_args_is_help=True, help=SIMULATE_HELP)
app.add_typer(simulate_app, name="simulate")

EXIT_NOT_CONVERGED = 1
EXIT_INVALID = 2
EXIT_INFEASIBLE = 3
#: violation rows printed (the Parquet metadata keeps all of them)
SHOWN_VIOLATIONS = 20


def _load(file: str, strict: bool = False):
    from nuanliu.network.cli import load_network
    from nuanliu.network.examples import list_examples, load_example

    path = Path(file)
    if path.exists():
        return load_network(file, strict=strict)  # lists dropped pandapipes junctions
    if file in list_examples():
        return load_example(file)
    names = ", ".join(list_examples())
    raise typer.BadParameter(
        f"{file!r} is neither a network file nor an example (examples: {names})",
        param_hint="FILE",
    )


def _summary_table(res, name: str, elapsed_s: float) -> Table:
    s = res.summary
    t = Table(title=f"{name} — steady state 稳态计算 ({res.status}, {res.iterations} iterations)")
    t.add_column("quantity 指标")
    t.add_column("value 数值", justify="right")
    rows = [
        ("demand scale 负荷系数", f"{s['demand_scale']:.3f}"),
        ("heat produced 供热量", f"{s['heat_produced_w'] / 1e6:,.3f} MW"),
        ("heat delivered 用热量", f"{s['heat_delivered_w'] / 1e6:,.3f} MW"),
        ("heat lost 管网热损", f"{s['heat_lost_w'] / 1e6:,.3f} MW"),
        ("shortfall 供热不足", f"{s['shortfall_w'] / 1e6:,.3f} MW ({s['consumers_short']} users)"),
        ("pump electricity 水泵电耗", f"{s['pump_electricity_w'] / 1e3:,.1f} kW"),
        (
            "worst differential pressure 最不利压差",
            f"{s['worst_consumer_dp_bar']:.3f} bar ({s['worst_consumer_id'] or '—'})",
        ),
        ("below required Δp 压差不足", str(s["consumers_below_min_dp"])),
        ("reverse-flow pipes 逆流管段", str(s["reverse_flow_pipes"])),
        ("max velocity 最大流速", f"{s['max_velocity_m_s']:.2f} m/s"),
        ("limit violations 越限项", str(s.get("violations", 0))),
        ("energy balance residual 能量平衡残差", f"{s['energy_balance_residual_w']:.3g} W"),
        ("time 用时", f"{elapsed_s:.2f} s"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t


def _violations_table(violations) -> Table:
    n = len(violations)
    shown = violations.head(SHOWN_VIOLATIONS)
    title = f"physical-limit violations 越限 ({n}, worst first 按严重程度"
    title += f"; first {len(shown)} shown)" if n > len(shown) else ")"
    t = Table(title=title)
    t.add_column("check 检查项", overflow="fold")
    t.add_column("element 元件", overflow="fold")
    t.add_column("quantity 物理量", overflow="fold")
    t.add_column("value 数值", justify="right")
    t.add_column("limit 限值", justify="right")
    for row in shown.itertuples(index=False):
        t.add_row(
            row.check,
            escape(f"{SINGULAR.get(row.kind, row.kind)} {row.element_id}"),
            row.quantity,
            f"{row.value:.4g} {row.unit}",
            f"{row.limit:.4g} {row.unit}",
        )
    return t


@simulate_app.command(
    "steady",
    epilog="Dynamic runs 动态仿真: `nuanliu simulate pipe-test CSV --length … --diameter … "
    "--wall … --insulation …` replays a measured pipe test; `nuanliu simulate season FILE "
    "--weather EPW --start … --end …` runs a heating season (see their --help).",
)
def simulate(
    file: str = typer.Argument(
        ..., help="Network file (GeoJSON, CSV bundle folder, pandapipes JSON) or example name."
    ),
    outdoor_temp: float | None = typer.Option(
        None,
        "--outdoor-temp",
        help="Outdoor temperature °C: design demand × (18 − T)/(18 − T_design), T_design from "
        "the network's meta design_outdoor_temp_c (default −19 °C), clipped at 0.",
    ),
    allow_violations: bool = typer.Option(
        False,
        "--allow-violations",
        help="Keep (and with -o write) a result that breaks a physical limit and exit 0 "
        "with a warning, for inspection. 允许越限结果（仅供检查）。",
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write all result tables to this Parquet file."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="pandapipes files: refuse unconnected junctions, not drop them."
    ),
) -> None:
    """Solve the steady thermo-hydraulic state of a network (稳态水力热力计算).

    Prints a summary; with -o writes one Parquet file with a row per element (column
    ``element`` = kind), the summary and the limit violations in the file metadata.
    A state that breaks a physical limit (cavitation, PN, velocity, differential
    pressure, pump range, heat-exchanger cross) is infeasible: the violations are
    printed and the command exits 3 without writing, unless --allow-violations.
    Exit codes: 0 ok, 1 not converged, 2 invalid input, 3 infeasible.
    """
    from nuanliu.network.validate import validate
    from nuanliu.sim import compile_network, solve_steady, write_parquet

    console = Console()
    try:
        net = _load(file, strict)
        validate(net)  # one clear list of problems instead of a solver error
        t0 = time.perf_counter()
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"compiling {net.name} 编译网络…", total=None)
            cn = compile_network(net)

            def report(it: int, change: float) -> None:
                progress.update(task, description=f"iteration {it}: change {change:.2e} 迭代中…")

            progress.update(task, description="solving 求解中…")
            res = solve_steady(
                cn, outdoor_temp_c=outdoor_temp, raise_on_failure=False, progress=report
            )
        elapsed = time.perf_counter() - t0
    except NuanliuError as exc:
        console.print(f"[red]error 错误:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_INVALID) from None
    from nuanliu.sim.limits import summary_message

    console.print(_summary_table(res, net.name, elapsed))
    for msg in res.summary.get("controls_messages", []):  # part-load controls (regulation)
        console.print(f"[yellow]control not met 控制未达标:[/yellow] {escape(msg)}")
    for msg in res.summary.get("controls_notes", []):  # pump groups standing in their bypass
        console.print(f"[cyan]pumps bypassed 泵组旁通:[/cyan] {escape(msg)}")
    violations = res.violations
    if violations is not None and len(violations):
        console.print(_violations_table(violations))
    if res.status == "infeasible" and not allow_violations:
        console.print(
            f"[red]infeasible 不可行（超出物理限值）:[/red] {escape(summary_message(violations))}"
        )
        written = f"{output} not written; " if output is not None else ""
        console.print(f"{written}--allow-violations keeps the result for inspection")
        raise typer.Exit(EXIT_INFEASIBLE)
    if output is not None:
        write_parquet(res, output)
        console.print(f"results written 结果已写入: {output}")
    if res.status == "infeasible":
        console.print(
            "[yellow]warning 警告: the state breaks physical limits (kept because of "
            f"--allow-violations) 结果越限:[/yellow] {escape(summary_message(violations))}"
        )
        return
    if not res.converged:
        console.print(
            f"[red]not converged 未收敛[/red] ({res.status}); the tables hold the last iterate"
        )
        raise typer.Exit(EXIT_NOT_CONVERGED)


from nuanliu.sim.dynamic_cli import register as _register_dynamic  # noqa: E402

_register_dynamic(simulate_app)
