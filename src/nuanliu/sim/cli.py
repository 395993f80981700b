"""``nuanliu simulate``: solve a network's steady state and summarise it."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from nuanliu.errors import NuanliuError

app = typer.Typer(no_args_is_help=True)


def _load(file: str):
    from nuanliu.network.examples import list_examples, load_example
    from nuanliu.network.io import read_network

    path = Path(file)
    if path.exists():
        return read_network(path)
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
        ("energy balance residual 能量平衡残差", f"{s['energy_balance_residual_w']:.3g} W"),
        ("time 用时", f"{elapsed_s:.2f} s"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t


@app.command("simulate")
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
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write all result tables to this Parquet file."
    ),
) -> None:
    """Solve the steady thermo-hydraulic state of a network (稳态水力热力计算).

    Prints a summary; with -o writes one Parquet file with a row per element (column
    ``element`` = kind) and the summary in the file metadata.
    """
    from nuanliu.network.validate import validate
    from nuanliu.sim import compile_network, solve_steady, write_parquet

    console = Console()
    try:
        net = _load(file)
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
        console.print(f"[red]error 错误:[/red] {exc.message}")
        raise typer.Exit(2) from None
    console.print(_summary_table(res, net.name, elapsed))
    for msg in res.summary.get("controls_messages", []):  # part-load controls (regulation)
        console.print(f"[yellow]control not met 控制未达标:[/yellow] {msg}")
    if output is not None:
        write_parquet(res, output)
        console.print(f"results written 结果已写入: {output}")
    if not res.converged:
        console.print(
            f"[red]not converged 未收敛[/red] ({res.status}); the tables hold the last iterate"
        )
        raise typer.Exit(1)
