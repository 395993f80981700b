"""Steady solver benchmark: Nuanliu vs pandapipes on the same generated city networks.

    python bench/steady.py            # 1,000 / 5,000 / 20,000 / 50,000 consumers
    python bench/steady.py --quick    # 1,000 and 5,000 only
    python bench/steady.py --only file-to-answer --runs 5

Two tables. **In process**: the solvers alone, on tables already in memory (below).
**File to answer**: what a user waits for, each run a whole new process started from
the shell — ``nuanliu simulate FILE`` (imports, reading the file, validation, compile,
solve, printing the summary) against a pandapipes process that does
``pandapipes.from_json`` + ``pipeflow`` (bidirectional, the same options as in process)
on the same network exported with ``pandapipes.to_json``. Nuanliu reads the network
as GeoJSON (the default format) and as Parquet (the columnar format). The engines run
alternately, ``--runs`` times each; the table gives medians of the wall-clock time and
of the child's CPU time (user + system, less sensitive to other jobs on the machine).
One untimed pandapipes process runs first so that numba's on-disk cache is warm, as it
is for a user on their second run.

Both engines solve the coupled thermo-hydraulic problem (return-temperature controlled
consumers, pipe heat losses, temperature-dependent water) with Colebrook–White.
pandapipes runs as its users run it: numba installed and on, mode "bidirectional"
(the mode that couples consumer flows to supply temperatures), default tolerances,
after one warm-up call so numba's compilation is not counted. Set-up = building the
pandapipes net from the tables; pipeflow = ``pandapipes.pipeflow`` (its own internal
set-up plus the Newton solve). Nuanliu: compile = ``compile_network``; solve =
``solve_steady``. Writes the table to bench/results/steady.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))  # this checkout's nuanliu, as in the child processes

from nuanliu.network.generate import generate_city  # noqa: E402
from nuanliu.sim import compile_network, solve_steady  # noqa: E402
from tests.sim.pp_bridge import to_pandapipes  # noqa: E402

SIZES = [1_000, 5_000, 20_000, 50_000]
QUICK = [1_000, 5_000]
AMBIENT_K = 8.0 + 273.15


def _pandapipes(net) -> dict[str, float]:
    import pandapipes as pp
    from pandapipes.pf.pipeflow_setup import PipeflowNotConverged

    t0 = time.perf_counter()
    ppn, _ = to_pandapipes(net)
    t1 = time.perf_counter()
    converged = True
    try:
        pp.pipeflow(
            ppn,
            mode="bidirectional",
            friction_model="colebrook",
            use_numba=True,
            ambient_temperature=AMBIENT_K,
            max_iter_hyd=100,
            max_iter_therm=100,
            max_iter_bidirect=100,
        )
    except PipeflowNotConverged:
        converged = False
    t2 = time.perf_counter()
    mdot = (
        float(ppn.res_circ_pump_pressure["mdot_from_kg_per_s"].abs().sum())
        if converged
        else float("nan")
    )
    return {
        "setup": t1 - t0,
        "solve": t2 - t1,
        "total": t2 - t0,
        "mdot": mdot,
        "converged": converged,
    }


def _nuanliu(net, repeats: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        cn = compile_network(net)
        t1 = time.perf_counter()
        res = solve_steady(cn)
        t2 = time.perf_counter()
        run = {
            "compile": t1 - t0,
            "solve": t2 - t1,
            "total": t2 - t0,
            "iterations": float(res.iterations),
            "chords": float(cn.n_chords),
            "mdot": float(res.sources["mdot_kg_s"].abs().sum()),
        }
        if not best or run["total"] < best["total"]:
            best = run
    return best


# -- file to answer: whole processes --------------------------------------------------------

_PP_SCRIPT = """
import sys
import pandapipes as pp
from pandapipes.pf.pipeflow_setup import PipeflowNotConverged
net = pp.from_json(sys.argv[1])
try:
    pp.pipeflow(net, mode="bidirectional", friction_model="colebrook", use_numba=True,
                ambient_temperature={ambient_k}, max_iter_hyd=100, max_iter_therm=100,
                max_iter_bidirect=100)
except PipeflowNotConverged:
    sys.exit(3)
print("source mdot", float(net.res_circ_pump_pressure["mdot_from_kg_per_s"].abs().sum()))
"""


def _child_env() -> dict[str, str]:
    # the child processes import this checkout's nuanliu, whatever is installed
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    env.setdefault("COLUMNS", "120")
    return env


def _timed(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall and CPU (user + sys) seconds of one child process, its exit code and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(), check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout + proc.stderr


def _nuanliu_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "nuanliu.cli", "simulate", str(path)]


def _pandapipes_cmd(path: Path) -> list[str]:
    return [sys.executable, "-c", _PP_SCRIPT.format(ambient_k=AMBIENT_K), str(path)]


def _write_files(net, folder: Path, n: int, terrain: str, with_pp: bool) -> dict[str, Path]:
    import pandapipes as pp

    from nuanliu.network.io import write_network

    stem = folder / f"city{n}_{terrain}"
    files = {
        "geojson": write_network(net, stem.with_suffix(".geojson")),
        "parquet": write_network(net, stem.with_suffix(".parquet")),
    }
    if with_pp:
        ppn, _ = to_pandapipes(net)
        pp.to_json(ppn, str(stem.with_suffix(".json")))
        files["pandapipes"] = stem.with_suffix(".json")
    return files


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def file_to_answer(sizes: list[int], runs: int, seed: int, with_pp: bool) -> list[str]:
    """Rows of the file-to-answer table (each engine a whole process, alternating)."""
    header = (
        "| consumers | terrain | GeoJSON MB | Parquet MB | Nuanliu GeoJSON s (CPU s) "
        "| Nuanliu Parquet s (CPU s) | pandapipes JSON MB | pandapipes s (CPU s) "
        "| speed-up GeoJSON | speed-up Parquet |"
    )
    rows = [header, "|" + "---|" * 10]
    print("\nfile to answer (whole processes, medians of wall (CPU) s)")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="nuanliu-bench-") as tmp:
        if with_pp:  # numba compiles and caches pandapipes' kernels on the first run
            ppn, _ = to_pandapipes(generate_city(50, seed=1))
            import pandapipes as pp

            pp.to_json(ppn, str(Path(tmp) / "warm.json"))
            _timed(_pandapipes_cmd(Path(tmp) / "warm.json"))
        for n in sizes:
            for terrain in ("hilly", "flat"):
                net = generate_city(n, seed=seed)
                if terrain == "flat":
                    net.junctions["elevation_m"] = 0.0
                # pandapipes does not converge on the large hilly cities (see the
                # in-process table: it fails after minutes), so it runs on the flat ones
                run_pp = with_pp and (terrain == "flat" or n <= 5_000)
                files = _write_files(net, Path(tmp), n, terrain, run_pp)
                times: dict[str, list[tuple[float, float]]] = {k: [] for k in files}
                notes: set[str] = set()
                for _ in range(runs):
                    for fmt, path in files.items():
                        cmd = _pandapipes_cmd(path) if fmt == "pandapipes" else _nuanliu_cmd(path)
                        wall, cpu, code, out = _timed(cmd)
                        if code != 0:
                            notes.add(f"{fmt} exit {code}")
                            print(f"  {fmt} exit {code}: {out[-500:]}", file=sys.stderr)
                        times[fmt].append((wall, cpu))
                med = {
                    k: (_median([w for w, _ in v]), _median([c for _, c in v]))
                    for k, v in times.items()
                }
                mb = {k: p.stat().st_size / 1e6 for k, p in files.items()}
                if "pandapipes" in med:
                    pp_wall = med["pandapipes"][0]
                    pp_cells = (
                        f"{mb['pandapipes']:.1f} | {pp_wall:.2f} ({med['pandapipes'][1]:.2f}) "
                        f"| {pp_wall / med['geojson'][0]:.1f}× "
                        f"| {pp_wall / med['parquet'][0]:.1f}×"
                    )
                else:
                    pp_cells = "— | " + ("n/c (in process)" if with_pp else "—") + " | — | —"
                row = (
                    f"| {n:,} | {terrain} | {mb['geojson']:.1f} | {mb['parquet']:.1f} "
                    f"| {med['geojson'][0]:.2f} ({med['geojson'][1]:.2f}) "
                    f"| {med['parquet'][0]:.2f} ({med['parquet'][1]:.2f}) | {pp_cells} |"
                )
                if notes:
                    row += " " + ", ".join(sorted(notes))
                rows.append(row)
                print(row, flush=True)
    return rows


def in_process(sizes: list[int], args: argparse.Namespace) -> list[str]:
    """Rows of the in-process table (solvers on tables already in memory)."""
    if not args.no_pandapipes:  # warm-up: numba compiles pandapipes' kernels once
        _pandapipes(generate_city(50, seed=1))

    header = (
        "| consumers | terrain | pipes | loops | Nuanliu compile s | Nuanliu solve s "
        "| Nuanliu total s "
        "| iterations | pandapipes set-up s | pandapipes pipeflow s | pandapipes total s "
        "| speed-up (total) | speed-up (solve) | Δ source flow |"
    )
    rows = [header, "|" + "---|" * 14]
    print(header)
    cases = [(n, terrain) for n in sizes for terrain in ("hilly", "flat")]
    for n, terrain in cases:
        net = generate_city(n, seed=args.seed)
        if terrain == "flat":
            net.junctions["elevation_m"] = 0.0
        nu = _nuanliu(net, args.repeats)
        if args.no_pandapipes:
            pp_ = {"setup": float("nan"), "solve": float("nan"), "total": float("nan")}
            pp_["mdot"] = float("nan")
        else:
            pp_ = _pandapipes(net)
        nc = "" if pp_.get("converged", True) else " (n/c)"
        row = (
            f"| {n:,} | {terrain} | {len(net.pipes):,} | {int(nu['chords'])} | {nu['compile']:.3f} "
            f"| {nu['solve']:.3f} | {nu['total']:.3f} | {int(nu['iterations'])} "
            f"| {pp_['setup']:.2f} | {pp_['solve']:.2f}{nc} "
            f"| {pp_['total']:.2f} "
            f"| {pp_['total'] / nu['total']:.1f}× | {pp_['solve'] / nu['solve']:.1f}× "
            f"| {abs(nu['mdot'] - pp_['mdot']) / max(pp_['mdot'], 1e-9):.2e} |"
        )
        rows.append(row)
        print(row, flush=True)

    return rows


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def _sections(text: str) -> dict[str, str]:
    """``## title`` → body of an earlier results file (kept when ``--only`` reruns one)."""
    out: dict[str, str] = {}
    for part in text.split("\n## ")[1:]:
        title, _, body = part.partition("\n")
        out[title.strip()] = body.strip()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only 1,000 and 5,000 consumers")
    ap.add_argument("--repeats", type=int, default=2, help="Nuanliu runs per size (best)")
    ap.add_argument("--runs", type=int, default=3, help="file to answer: runs per engine")
    ap.add_argument(
        "--only",
        choices=("in-process", "file-to-answer"),
        help="run one table; the other is kept from the existing results file",
    )
    ap.add_argument("--no-pandapipes", action="store_true", help="Nuanliu only")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else SIZES
    cmdline = " ".join(["python bench/steady.py", *(argv if argv is not None else sys.argv[1:])])
    out = ROOT / "bench" / "results" / "steady.md"
    sections = _sections(out.read_text(encoding="utf-8")) if args.only and out.exists() else {}

    def run_line(start_load: str) -> str:
        return (
            f"Run: `{cmdline.strip()}`, finished "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
            f"(1, 5, 15 min) at start {start_load}, at end {_load()}.\n\n"
        )

    if args.only != "file-to-answer":
        start = _load()
        rows = in_process(sizes, args)
        sections["In process"] = (
            run_line(start)
            + "pandapipes: numba on (warmed up), mode `bidirectional`, Colebrook–White; Nuanliu: "
            f"best of {args.repeats}. Δ source flow: relative difference of the total source "
            "mass flow between the engines. (n/c): pandapipes stopped with PipeflowNotConverged "
            "after 100 bidirectional iterations; its time is the time to that failure.\n\n"
            + "\n".join(rows)
        )
    if args.only != "in-process":
        start = _load()
        file_rows = file_to_answer(sizes, args.runs, args.seed, not args.no_pandapipes)
        sections["File to answer"] = (
            run_line(start)
            + "Each cell: median wall-clock seconds of a whole process (CPU seconds of that "
            f"process, user + system, in brackets); runs per engine: {args.runs}, engines "
            "alternating. Nuanliu: `nuanliu simulate FILE` with the network as GeoJSON or "
            "Parquet. pandapipes: `pandapipes.from_json` + `pipeflow` (bidirectional, "
            "Colebrook–White, numba on with its disk cache warm) on the same network. "
            "pandapipes does not converge on the hilly 20,000 and 50,000 cities (in-process "
            "table), so only the flat ones are compared there. Speed-up = pandapipes wall "
            "time / Nuanliu wall time.\n\n" + "\n".join(file_rows)
        )

    out.parent.mkdir(parents=True, exist_ok=True)
    note = (
        "# Steady solver: Nuanliu vs pandapipes\n\n"
        f"`python bench/steady.py` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}). Networks from "
        f"`generate_city(n, seed={args.seed})` (meshed mains; hilly = its elevations, ±25 m; "
        "flat = the same network with all elevations 0). Seconds, wall "
        "clock, on a shared machine (other jobs were running: treat ratios as indicative; "
        "each table gives the load average).\n"
    )
    body = "".join(f"\n## {title}\n\n{text.strip()}\n" for title, text in sections.items())
    out.write_text(note + body, encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
