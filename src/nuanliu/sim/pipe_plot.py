"""PNG plot of a replayed pipe test: measured against modelled outlet temperature."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nuanliu.sim.pipe_test import PipeTestResult


def plot_pipe_test(
    with_wall: PipeTestResult,
    no_wall: PipeTestResult,
    path: str | Path,
    title: str = "",
    resolved: np.ndarray | None = None,
) -> None:
    """Inlet, measured and modelled (with / without wall capacity) outlet temperatures;
    ``resolved``: the resolved reference model's first outlet at the same sample times."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = with_wall.series
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ax.plot(s["time_s"], s["inlet_c"], color="0.6", lw=1, ls=":", label="inlet (measured)")
    points = [c for c in s.columns if c.startswith("measured_")]
    for c in points:
        i = c.split("_")[1]
        ax.plot(s["time_s"], s[c], color="k", lw=1.6, label=f"outlet {i} measured")
        ax.plot(s["time_s"], s[f"modelled_{i}"], color="tab:red", lw=1.2, label="model, wall")
        ax.plot(
            no_wall.series["time_s"],
            no_wall.series[f"modelled_{i}"],
            color="tab:blue",
            lw=1.0,
            ls="--",
            label="model, no wall",
        )
        if resolved is not None and i == "0":
            ax.plot(s["time_s"], resolved, color="tab:green", lw=1.0, label="resolved model")
    rows = with_wall.scores
    if len(rows):
        r = rows.iloc[0]
        title += f"  RMSE {r.rmse_k:.2f} K (no wall {no_wall.scores.iloc[0].rmse_k:.2f} K"
        if resolved is not None and "measured_0" in s:
            err = resolved - s["measured_0"].to_numpy()
            title += f", resolved {np.sqrt(np.nanmean(err**2)):.2f} K"
        title += ")"
    ax.set_title(title)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("temperature (°C)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
