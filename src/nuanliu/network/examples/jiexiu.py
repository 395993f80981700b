"""Importer of the real Jiexiu (介休, Shanxi) primary network — see ``data/jiexiu/README.md``.

The source data (``jiexiu_network_tree.csv``) is a tree given as one row per node with its
``Parent_ID``; each row is also the pipe from the parent (``Length`` m, ``Diameter`` DN).
The importer builds the supply side from it, mirrors every pipe on the return side, puts
a substation (unmodelled secondary) at every ``H`` node, a pressure source at every
connected ``S`` node, and draws a schematic tree layout. Every assumption is a named
constant below and is written into ``meta``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.model import Network
from nuanliu.network.pipe_catalog import friction_gradient_pa_per_m, heat_loss_u_w_per_m_k
from nuanliu.network.pipe_catalog import inner_diameter_m as dn_to_inner_diameter_m

#: The Qmax column is in GJ/h: in MW the trunk mains (DN700/DN900) would run at 6–9 m/s.
GJ_PER_H_TO_W = 1e9 / 3600.0
DESIGN_SUPPLY_TEMP_C = 120.0
DESIGN_RETURN_TEMP_C = 60.0
DESIGN_OUTDOOR_TEMP_C = -15.0  # lowest point of the operator's heating curves
SECONDARY_SPREAD_K = 10.0  # secondary return = design secondary supply − 10 K
STATION_DP_BAR = 1.0  # exchanger + control valve at design flow
RETURN_PRESSURE_BAR = 3.0  # static level held at the source inlet
ELEVATION_M = 745.0  # Jiexiu ≈ 740–750 m a.s.l.; no elevations in the data
GROUND_TEMP_C = 8.0
CP_J_KG_K = 4190.0

ASSUMPTIONS = {
    "qmax_unit": (
        "jiexiu_station_Qmax.csv column B read as GJ/h (1 GJ/h = 277.8 kW): at 120/60 °C the "
        "trunk mains then run at ~1.6 (DN900) and ~2.4 m/s (DN700); read as MW they would need "
        "6–9 m/s, far above the ~3 m/s any operator accepts."
    ),
    "pipes": (
        "DN → inner diameter by EN 253 steel service pipes (same outer diameters as "
        "GB/T 8163); roughness 0.05 mm; heat loss u by DN for series-1 pre-insulated pipes "
        "(nuanliu.network.pipe_catalog); ground 8 °C. The data's Heat_Coef (0.6 on station "
        "rows only, meaning undocumented) is not used."
    ),
    "return_side": "every supply pipe is mirrored on the return side (same length and DN)",
    "sources": (
        "S1 (热源供水1) and S2 (热源供水2) each feed a separate tree (no pipe links them), so "
        "each is a pressure source holding 3 bar(g) at its inlet and 120 °C; the lift is the "
        "worst supply+return friction loss at design flow + 1 bar station Δp, +20 %. "
        "S3 (安泰热源) has no connected node in the data and is not modelled."
    ),
    "stations": (
        "H nodes are substations with an unmodelled secondary: design heat = Qmax, secondary "
        "supply = the operator's maximum curve set-point at −15 °C, return 10 K lower, UA "
        "from the design point (primary 120/60 °C)."
    ),
    "virtual_and_reducers": (
        "V nodes (虚拟换热站, virtual stations of the control platform) have no load in the data "
        "and no children: they are modelled as capped pipe ends. C nodes (变径连接点) are "
        "reducers: plain junctions."
    ),
    "layout": (
        "no coordinates in the data: x/y are a schematic tree layout in metres (x = distance "
        "along the pipes from the source, y = leaf order × 150 m), not geography"
    ),
    "elevation": "flat at 745 m (no elevation data)",
}


def _lmtd(da: np.ndarray, db: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (da - db) / np.log(da / db)
    return np.where(np.isclose(da, db), da, out)


def read_source_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three Jiexiu CSV files as DataFrames (InvalidInput names a missing one)."""
    names = ("jiexiu_network_tree.csv", "jiexiu_station_Qmax.csv", "jiexiu_supply_temp_curves.csv")
    for name in names:
        if not (folder / name).is_file():
            raise InvalidInput(f"{folder}: {name} is missing (Jiexiu data folder expected)")
    tree = pd.read_csv(folder / names[0], dtype={"ID": str, "Parent_ID": str})
    qmax = pd.read_csv(folder / names[1])
    curves = pd.read_csv(folder / names[2])
    return tree, qmax, curves


def _layout(ids: list[str], parent: dict[str, str], length: dict[str, float]) -> dict[str, Any]:
    children: dict[str, list[str]] = {}
    for node in ids:
        p = parent.get(node)
        if p:
            children.setdefault(p, []).append(node)
    xy: dict[str, tuple[float, float]] = {}
    next_leaf = [0.0]

    def place(node: str, x: float) -> float:
        kids = children.get(node, [])
        if not kids:
            y = next_leaf[0]
            next_leaf[0] += 150.0
        else:
            ys = [place(k, x + length[k]) for k in kids]
            y = float(np.mean(ys))
        xy[node] = (x, y)
        return y

    roots = [n for n in ids if not parent.get(n)]
    for r in roots:
        place(r, 0.0)
        next_leaf[0] += 600.0  # gap between separate trees
    return xy


def import_jiexiu(folder: str | Path) -> Network:
    """Build the Jiexiu network from the shared data folder (see module docstring)."""
    folder = Path(folder)
    tree, qmax, curves = read_source_tables(folder)
    tree = tree.copy()
    tree["Parent_ID"] = tree["Parent_ID"].fillna("")
    ids = tree["ID"].tolist()
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{folder}: duplicate node ids in jiexiu_network_tree.csv")
    parent = dict(zip(tree["ID"], tree["Parent_ID"], strict=True))
    length = {
        i: (0.0 if math.isnan(v) else float(v)) for i, v in zip(ids, tree["Length"], strict=True)
    }
    kind = dict(zip(tree["ID"], tree["Type"], strict=True))
    name = dict(zip(tree["ID"], tree["Name"].fillna(""), strict=True))
    unknown = sorted({p for p in parent.values() if p and p not in parent})
    if unknown:
        raise InvalidInput(f"{folder}: Parent_ID {unknown[0]!r} is not a node")

    # design heat per station (Qmax ids use '-' where the tree uses '_')
    q = qmax.dropna(subset=["A"]).assign(ID=lambda d: d["A"].str.replace("-", "_", regex=False))
    heat_w = dict(zip(q["ID"], q["B"].astype(float) * GJ_PER_H_TO_W, strict=True))
    design = curves[curves["tem"] == curves["tem"].min()]
    sec_supply = dict(
        zip(design["name"].str.replace("-", "_", regex=False), design["max"], strict=True)
    )

    # roots: sources with children; isolated sources are reported in meta only
    children_of: dict[str, list[str]] = {}
    for node, p in parent.items():
        if p:
            children_of.setdefault(p, []).append(node)
    sources = [i for i in ids if kind[i] == "S" and children_of.get(i)]
    dropped = [i for i in ids if kind[i] == "S" and not children_of.get(i)]
    nodes = [i for i in ids if i not in dropped]
    pipe_nodes = [i for i in nodes if parent[i]]

    # downstream design flow per pipe and worst friction path per tree
    load = {i: heat_w.get(i, 0.0) if kind[i] == "H" else 0.0 for i in nodes}
    depth_order = sorted(nodes, key=lambda n: _depth(n, parent))
    sub = dict(load)
    for n in reversed(depth_order):
        if parent[n]:
            sub[parent[n]] += sub[n]
    dn = {i: float(tree.loc[tree["ID"] == i, "Diameter"].iloc[0]) for i in pipe_nodes}
    d_m = {i: float(dn_to_inner_diameter_m(dn[i])[0]) for i in pipe_nodes}
    mdot = {i: sub[i] / (CP_J_KG_K * (DESIGN_SUPPLY_TEMP_C - DESIGN_RETURN_TEMP_C)) for i in nodes}
    dp_path = {}
    for n in depth_order:
        p = parent[n]
        if not p:
            dp_path[n] = 0.0
            continue
        grad = float(friction_gradient_pa_per_m(np.array([mdot[n]]), np.array([d_m[n]]))[0])
        dp_path[n] = dp_path[p] + grad * length[n]
    root_of = {n: _root(n, parent) for n in nodes}

    xy = _layout(nodes, parent, length)
    junction_rows = []
    for n in nodes:
        for side in ("s", "r"):
            junction_rows.append(
                {
                    "junction_id": f"{n}.{side}",
                    "name": f"{name[n]} ({'供' if side == 's' else '回'})",
                    "elevation_m": ELEVATION_M,
                    "x": xy[n][0],
                    "y": xy[n][1],
                }
            )
    pipe_rows = []
    for side in ("supply", "return"):
        s = side[0]
        for n in pipe_nodes:
            a, b = (f"{parent[n]}.{s}", f"{n}.{s}")
            pipe_rows.append(
                {
                    "pipe_id": f"{n}.{s}",
                    "name": f"{parent[n]}→{n}",
                    "from_junction_id": a if side == "supply" else b,
                    "to_junction_id": b if side == "supply" else a,
                    "side": side,
                    "length_m": length[n],
                    "inner_diameter_m": d_m[n],
                    "roughness_mm": 0.05,
                    "u_w_per_m_k": float(heat_loss_u_w_per_m_k(dn[n])[0]),
                    "ambient_temp_c": GROUND_TEMP_C,
                    "dn_mm": dn[n],
                }
            )
    source_rows = []
    for s in sources:
        members = [n for n in nodes if root_of[n] == s and kind[n] == "H"]
        worst_bar = max(dp_path[n] for n in members) / 1e5
        lift = math.ceil((2 * worst_bar + STATION_DP_BAR) * 1.2 * 10) / 10
        source_rows.append(
            {
                "source_id": s,
                "name": name[s],
                "supply_junction_id": f"{s}.s",
                "return_junction_id": f"{s}.r",
                "control": "pressure",
                "supply_temp_c": DESIGN_SUPPLY_TEMP_C,
                "supply_pressure_bar": RETURN_PRESSURE_BAR + lift,
                "return_pressure_bar": RETURN_PRESSURE_BAR,
            }
        )
    station_rows = []
    for n in nodes:
        if kind[n] != "H":
            continue
        ts = float(sec_supply.get(n, 55.0))
        tr = ts - SECONDARY_SPREAD_K
        q_w = heat_w.get(n, 0.0)
        lm = float(
            _lmtd(np.array([DESIGN_SUPPLY_TEMP_C - ts]), np.array([DESIGN_RETURN_TEMP_C - tr]))[0]
        )
        station_rows.append(
            {
                "station_id": n,
                "name": name[n],
                "kind": "substation",
                "primary_supply_junction_id": f"{n}.s",
                "primary_return_junction_id": f"{n}.r",
                "heat_demand_w": q_w,
                "secondary_supply_temp_c": ts,
                "secondary_return_temp_c": tr,
                # a zero-load station still has an exchanger: size it like a 1 GJ/h one
                "ua_w_per_k": round(max(q_w, GJ_PER_H_TO_W) / lm, 1),
            }
        )
    meta = {
        "crs": "schematic",
        "source": "public control-platform configuration of the Jiexiu (Shanxi) primary network",
        "source_files": [
            "jiexiu_network_tree.csv",
            "jiexiu_station_Qmax.csv",
            "jiexiu_supply_temp_curves.csv",
        ],
        "design_outdoor_temp_c": DESIGN_OUTDOOR_TEMP_C,
        "design_supply_temp_c": DESIGN_SUPPLY_TEMP_C,
        "design_return_temp_c": DESIGN_RETURN_TEMP_C,
        "source_nodes": len(ids),
        "unconnected_sources": dropped,
        "assumptions": ASSUMPTIONS,
    }
    return Network.from_tables(
        name="jiexiu",
        meta=meta,
        junctions=junction_rows,
        pipes=pipe_rows,
        sources=source_rows,
        stations=station_rows,
    )


def _depth(node: str, parent: dict[str, str]) -> int:
    d = 0
    while parent.get(node):
        node = parent[node]
        d += 1
    return d


def _root(node: str, parent: dict[str, str]) -> str:
    while parent.get(node):
        node = parent[node]
    return node
