"""Validate the plug-flow pipe model on the ULg pipe tests: table and one PNG per test.

Usage: python scripts/ulg_validation.py [DATA_DIR] — prints the Markdown table of
docs/dynamic.md and writes docs/img/dynamic/ulg_<test>.png. Set-up from
../shared/data/README.md (van der Heijde et al. 2017); the resolved reference model
(:mod:`nuanliu.sim.pipe_resolved`) also uses the literature values of
:class:`PipeSegment` for steel conductivity and the PE-foam insulation's heat capacity.
Both models start linear between the wall thermocouples' first readings
(:func:`~nuanliu.sim.pipe_test.start_profile_c`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from nuanliu.sim.pipe_plot import plot_pipe_test
from nuanliu.sim.pipe_resolved import replay_resolved
from nuanliu.sim.pipe_test import PipeSegment, read_series, replay, score

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "pipe-tests"
ULG_PIPE = PipeSegment(
    length_m=39.0,
    inner_diameter_m=0.05248,
    wall_thickness_m=0.0039,
    insulation_thickness_m=0.013,
    insulation_conductivity_w_m_k=0.04,
    outer_surface_w_m2_k=5.0,
    wall_density_kg_m3=8000.0,
    wall_cp_j_kg_k=500.0,
)
AMBIENT_C = 22.0


def main() -> None:
    out = ROOT / "docs" / "img" / "dynamic"
    out.mkdir(parents=True, exist_ok=True)
    print(
        "| test | RMSE K (wall) | mean error K (wall) | worst at front K (wall) | "
        "arrival s (wall) | RMSE K (no wall) | mean error K (no wall) | "
        "worst at front K (no wall) | arrival s (no wall) | RMSE K (resolved) | "
        "mean error K (resolved) | worst at front K (resolved) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in sorted(DATA.glob("PipeDataULg*.csv")):
        name = path.stem.removeprefix("PipeDataULg")
        series, _ = read_series(str(path))
        wall = replay(series, [ULG_PIPE], ambient_c=AMBIENT_C, wall=True)
        bare = replay(series, [ULG_PIPE], ambient_c=AMBIENT_C, wall=False)
        resolved = replay_resolved(series, [ULG_PIPE], ambient_c=AMBIENT_C)[0]
        a, b = wall.scores.iloc[0], bare.scores.iloc[0]
        c = score(series["time_s"].to_numpy(), series["measured_0"].to_numpy(), resolved)
        print(
            f"| {name} | {a.rmse_k:.2f} | {a.mean_error_k:+.2f} | {a.front_max_abs_error_k:.2f} | "
            f"{a.arrival_error_s:+.1f} | {b.rmse_k:.2f} | {b.mean_error_k:+.2f} | "
            f"{b.front_max_abs_error_k:.2f} | {b.arrival_error_s:+.1f} | {c['rmse_k']:.2f} | "
            f"{c['mean_error_k']:+.2f} | {c['front_max_abs_error_k']:.2f} |"
        )
        plot_pipe_test(wall, bare, out / f"ulg_{name}.png", title=f"ULg {name}", resolved=resolved)


if __name__ == "__main__":
    main()
