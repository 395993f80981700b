"""``nuanliu network …``: check, convert, generate and inspect network models."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from nuanliu.errors import NuanliuError
from nuanliu.network.model import Network

app = typer.Typer(no_args_is_help=True, help="Network model: check, convert, generate, examples.")

_out = Console()
_err = Console(stderr=True)


class Format(StrEnum):
    geojson = "geojson"
    parquet = "parquet"
    csv = "csv"
    pandapipes = "pandapipes"


def _fail(exc: NuanliuError, code: int = 2) -> typer.Exit:
    _err.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(code)


STRICT_HELP = "pandapipes files: refuse unconnected junctions instead of dropping them."


def load_network(source: str, *, strict: bool = False) -> Network:
    """``source`` as a file/folder path of any supported format, or an example name.

    A pandapipes file's unconnected junctions are dropped and listed on stderr (pandapipes
    ignores them); ``strict`` refuses the file instead.
    """
    import warnings

    from nuanliu.network.examples import list_examples, load_example
    from nuanliu.network.io import detect_format, read_network

    path = Path(source)
    if path.exists():
        if path.is_dir() or detect_format(path) != "pandapipes":
            return read_network(path)
        from nuanliu.network.io.pandapipes_io import (
            UnconnectedJunctionsWarning,
            read_pandapipes_json,
        )

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnconnectedJunctionsWarning)
            net = read_pandapipes_json(path, strict=strict)
        for w in caught:
            if issubclass(w.category, UnconnectedJunctionsWarning):
                _err.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return net
    if source in list_examples():
        return load_example(source)
    from nuanliu.errors import InvalidInput

    raise InvalidInput(
        f"{source}: no such file or folder, and not an example ({', '.join(list_examples())})"
    )


def _summary_table(net: Network) -> Table:
    s = net.summary()
    table = Table(title=f"network {net.name}", show_header=True)
    table.add_column("item")
    table.add_column("value", justify="right")
    for kind in ("junctions", "sources", "pumps", "pipes", "valves", "stations", "consumers"):
        table.add_row(kind, f"{s[kind]:,}")
    table.add_row("pipe length (both sides)", f"{s['pipe_length_km']:,.1f} km")
    table.add_row("supply pipe length", f"{s['supply_pipe_length_km']:,.1f} km")
    table.add_row("design heat", f"{s['design_heat_mw']:,.1f} MW")
    if s["floor_area_m2"]:
        table.add_row("floor area", f"{s['floor_area_m2'] / 1e6:,.2f} million m²")
    table.add_row("pressure sources", str(s["pressure_sources"]))
    if "crs" in net.meta:
        table.add_row("coordinates", str(net.meta["crs"]))
    return table


@app.command("check")
def check_cmd(
    file: Annotated[str, typer.Argument(help="Network file/folder or example name.")],
    limit: Annotated[int, typer.Option(help="Show at most this many problems (0 = all).")] = 0,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Validate a network: print a summary and every problem (exit code 1 if any)."""
    from nuanliu.network.validate import check

    try:
        net = load_network(file, strict=strict)
    except NuanliuError as exc:
        raise _fail(exc) from None
    _out.print(_summary_table(net))
    problems = check(net)
    if not problems:
        _out.print("[green]OK[/green]: no problems found")
        return
    table = Table(title=f"{len(problems)} problem(s)")
    for col in ("kind", "id", "problem"):
        table.add_column(col, overflow="fold")
    shown = problems if limit <= 0 else problems[:limit]
    for p in shown:
        table.add_row(p.kind, p.id, p.problem)
    _out.print(table)
    if len(shown) < len(problems):
        _out.print(f"… and {len(problems) - len(shown)} more (use --limit 0 to see all)")
    raise typer.Exit(1)


@app.command("export")
def export_cmd(
    file: Annotated[str, typer.Argument(help="Network file/folder or example name.")],
    to: Annotated[Format, typer.Option("--to", "--format", help="Output format.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output file or folder (csv).")],
    heat_source_return_temp_c: Annotated[
        float | None,
        typer.Option(help="pandapipes only: export 'heat' sources as flow at this return °C."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help=STRICT_HELP)] = False,
) -> None:
    """Convert a network to GeoJSON, Parquet (columnar, fastest to read), a CSV bundle folder
    or a pandapipes JSON file."""
    from nuanliu.network.io import write_network
    from nuanliu.network.io.pandapipes_io import write_pandapipes_json

    try:
        net = load_network(file, strict=strict)
        if to is Format.pandapipes:
            write_pandapipes_json(net, out, heat_source_return_temp_c=heat_source_return_temp_c)
        else:
            write_network(net, out, to.value)
    except NuanliuError as exc:
        raise _fail(exc) from None
    _out.print(f"wrote {net.name} ({net.n_elements():,} elements) as {to.value} to {out}")


@app.command("generate")
def generate_cmd(
    consumers: Annotated[int, typer.Option(help="Number of consumers (buildings).")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed → same network).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output file or folder.")],
    sources: Annotated[int, typer.Option(help="Number of sources (extra ones: heat).")] = 1,
    mesh_fraction: Annotated[float, typer.Option(help="Share of grid loops kept, 0…1.")] = 0.5,
    zero_demand_fraction: Annotated[float, typer.Option(help="Share of vacant buildings.")] = 0.0,
    to: Annotated[Format | None, typer.Option("--to", help="Format (default: suffix).")] = None,
) -> None:
    """Generate a synthetic, reproducible meshed city network."""
    from nuanliu.network.generate import generate_city
    from nuanliu.network.io import write_network

    try:
        net = generate_city(
            consumers,
            seed,
            sources=sources,
            mesh_fraction=mesh_fraction,
            zero_demand_fraction=zero_demand_fraction,
        )
        write_network(net, out, to.value if to else None)
    except NuanliuError as exc:
        raise _fail(exc) from None
    _out.print(_summary_table(net))
    _out.print(f"wrote {out}")


@app.command("schema")
def schema_cmd() -> None:
    """Print the network schema as markdown (the content of docs/network-schema.md)."""
    from nuanliu.network.schema import schema_markdown

    typer.echo(schema_markdown())


@app.command("examples")
def examples_cmd() -> None:
    """List the example networks."""
    from nuanliu.network.examples import list_examples

    table = Table(title="example networks")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for name, desc in list_examples().items():
        table.add_row(name, desc)
    _out.print(table)


@app.command("example")
def example_cmd(
    name: Annotated[str, typer.Argument(help="Example name (see `nuanliu network examples`).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output file or folder.")],
    to: Annotated[Format | None, typer.Option("--to", help="Format (default: suffix).")] = None,
) -> None:
    """Write an example network to a file (format from --to or the suffix)."""
    from nuanliu.network.examples import load_example
    from nuanliu.network.io import write_network

    try:
        net = load_example(name)
        write_network(net, out, to.value if to else None)
    except NuanliuError as exc:
        raise _fail(exc) from None
    _out.print(f"wrote example {name} to {out}")
