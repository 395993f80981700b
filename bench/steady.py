"""Steady solver benchmark: Nuanliu vs pandapipes on the same generated city networks.

    python bench/steady.py            # 1,000 / 5,000 / 20,000 / 50,000 consumers
    python bench/steady.py --quick    # 1,000 and 5,000 only

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
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only 1,000 and 5,000 consumers")
    ap.add_argument("--repeats", type=int, default=2, help="Nuanliu runs per size (best)")
    ap.add_argument("--no-pandapipes", action="store_true", help="Nuanliu only")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else SIZES

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

    out = ROOT / "bench" / "results" / "steady.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    note = (
        "# Steady solver: Nuanliu vs pandapipes\n\n"
        f"`python bench/steady.py{' --quick' if args.quick else ''}` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Networks from "
        f"`generate_city(n, seed={args.seed})` (meshed mains; hilly = its elevations, ±25 m; "
        "flat = the same network with all elevations 0). Seconds, wall "
        "clock, on a shared machine (other jobs were running: treat ratios as indicative).\n"
        "pandapipes: numba on (warmed up), mode `bidirectional`, Colebrook–White; Nuanliu: "
        f"best of {args.repeats}. Δ source flow: relative difference of the total source "
        "mass flow between the engines. (n/c): pandapipes stopped with PipeflowNotConverged "
        "after 100 bidirectional iterations; its time is the time to that failure.\n\n"
    )
    out.write_text(note + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
