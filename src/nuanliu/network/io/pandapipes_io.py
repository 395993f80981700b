"""Exchange with pandapipes (0.16): ``to_pandapipes``, ``from_pandapipes`` and JSON files.

Mapping (Nuanliu → pandapipes):

====================================  ==================================================
junction                              junction (``pn_bar``/``tfluid_k`` initial guesses,
                                      ``height_m`` = elevation, ``junction_geodata``)
pipe                                  pipe (``length_km``, ``inner_diameter_mm``,
                                      ``k_mm`` = roughness, ``loss_coefficient`` = ζ,
                                      ``u_w_per_m2k`` = u / (π·d), ``text_k`` = ambient +
                                      273.15, ``sections``)
source, control ``pressure``          circ_pump_const_pressure (``flow_junction`` =
                                      outlet, ``p_flow_bar`` = supply pressure — the
                                      pressure pandapipes holds at the flow junction —,
                                      ``plift_bar`` = supply − return, ``t_flow_k``)
source, control ``flow``              heat_consumer run backwards (return → supply
                                      junction) with ``treturn_k`` = supply temperature
                                      and ``controlled_mdot_kg_per_s`` = mdot: it injects
                                      the flow at the set outlet temperature without
                                      holding a pressure, exactly like the Nuanliu source;
                                      with ``supply_pressure_bar``: circ_pump_const_mass_flow
                                      (type ``pt`` where it is its part's pressure
                                      reference, else ``t``)
source, control ``heat``              raises (pandapipes does not converge with a set
                                      heat at a set outlet temperature) unless
                                      ``heat_source_return_temp_c`` is given: then a flow
                                      source with mdot = heat / (cp·(supply − return))
consumer                              heat_consumer (``qext_w`` = demand and ``treturn_k``
                                      or ``controlled_mdot_kg_per_s``)
station, unmodelled secondary         heat_consumer (``qext_w`` = demand, ``treturn_k`` =
                                      the primary return temperature of the counter-flow
                                      exchanger at the design point, from UA or ε)
station, modelled secondary           primary: heat_consumer as above with ``qext_w`` =
                                      ``heat_demand_w`` (required); secondary:
                                      circ_pump_const_pressure holding the secondary
                                      pressures and supply temperature
pump, control ``lift``                pump with a constant curve (poly coefficients
                                      [lift_bar])
pump, control ``curve``               pump with the quadratic curve as bar over m³/h of
                                      ṁ/ρ(0 °C) (pandapipes' law; speed ratio applied by
                                      the affinity laws): exact with a fixed
                                      ``curve_density_kg_m3``, else exact for water of
                                      density ``rho_kg_m3``
valve                                 valve between junctions, ``opened`` = opening > 0,
                                      diameter and ``loss_coefficient`` chosen so that the
                                      valve passes ``kv·opening`` m³/h at 1 bar (linear
                                      characteristic)
====================================  ==================================================

Every pandapipes row also carries ``nuanliu_id`` and the Nuanliu columns pandapipes has
no field for as ``nuanliu_<column>``, so Network → pandapipes → Network restores the
whole network; a native pandapipes net (without those columns) is imported from its
own fields so that Nuanliu computes what pandapipes computes:

* ids: junction ``J<i>``, pipe ``P<i>``, pump ``PU<i>``, valve ``V<i>``, consumer
  ``C<i>`` (``i`` = pandapipes index); sources ``S<i>`` (circ_pump_const_pressure),
  ``SM<i>`` (circ_pump_const_mass_flow), ``SC<i>`` (heat_consumer used as a source);
* pump curves keep pandapipes' law Δp[bar] = poly(3600·ṁ/ρ0) with ρ0 the net fluid's
  density at 0 °C: head coefficients at ``curve_density_kg_m3`` = ρ0 (a std type whose
  quadratic term is round-off, like P3, is a straight line); pandapipes also cuts the
  lift to 0 for reverse flow and beyond the curve's end, Nuanliu extrapolates;
* a pipe without ``text_k`` gets the ambient temperature pandapipes gives it: the
  net's ``user_pf_options`` or pandapipes' default pipeflow option (20 °C); so does
  ``text_k = 0`` (0 K), which ``create_pipe`` stores for std-type pipes although its
  documentation promises the ambient temperature;
* ``circ_pump_const_mass_flow``: a flow source; types ``p``/``pt`` also hold
  ``p_flow_bar`` at the outlet (``supply_pressure_bar``, the part's reference);
* a heat_consumer setting ``treturn_k`` and ``controlled_mdot_kg_per_s`` without
  ``qext_w``, or with a negative ``qext_w`` (a source, run return → supply), becomes a
  flow (heat) source at the outlet temperature ``treturn_k``;
* junctions no element refers to, which pandapipes ignores, are dropped with an
  :class:`UnconnectedJunctionsWarning` listing them; ``strict=True`` refuses the net.

Conventions that stay different: pandapipes uses g = 9.81 m/s² (Nuanliu 9.80665) and
reports gauge pressure against the barometric air pressure at each junction's height
(Nuanliu: one atmosphere). ``InvalidInput`` names what cannot be exported or imported.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.io._common import dumps
from nuanliu.network.model import Network
from nuanliu.network.schema import SCHEMA

K0 = 273.15
G_M_S2 = 9.80665
CP_J_KG_K = 4190.0
#: kv [m³/h at 1 bar, ρ = 1000] ↔ ζ·A²: Δp = ζ ρ v²/2 = (Q/kv)²·1e5·ρ/1000
_KV_ZETA = 2.0 * 3600.0**2 * 1e5 / 1000.0
_PREFIX = "nuanliu_"


def _pp() -> Any:
    try:
        import pandapipes
    except ImportError as exc:  # pandapipes is an optional (test) dependency
        raise InvalidInput(
            "pandapipes is not installed; install it with `pip install pandapipes`"
        ) from exc
    return pandapipes


def _extras(table: pd.DataFrame, kind: str, mapped: set[str]) -> dict[str, Any]:
    """Nuanliu columns pandapipes has no field for, as ``nuanliu_<col>`` keyword columns."""
    out: dict[str, Any] = {f"{_PREFIX}id": table.iloc[:, 0].to_numpy(object)}
    for col in SCHEMA[kind]:
        if col.name not in mapped and col.name != SCHEMA[kind][0].name:
            values = table[col.name].to_numpy()
            out[_PREFIX + col.name] = values.astype(object) if col.dtype == "str" else values
    return out


# -- design-point helpers -----------------------------------------------------------------


def _part_supply_temp_c(net: Network) -> pd.Series:
    """Supply temperature reaching each junction's hydraulic part (NaN when none)."""
    from nuanliu.network.validate import hydraulic_parts

    parts = hydraulic_parts(net)
    jindex, label = parts.index, parts.to_numpy()
    temp = np.full(label.max() + 1 if len(label) else 0, np.nan)
    src = net.sources[net.sources["in_service"]]
    for j, t in zip(src["supply_junction_id"], src["supply_temp_c"], strict=True):
        pos = jindex.get_indexer([j])[0]
        if pos >= 0:
            temp[label[pos]] = np.fmax(temp[label[pos]], t)
    st = net.stations[
        net.stations["in_service"] & (net.stations["secondary_supply_junction_id"] != "")
    ]
    for j, t in zip(st["secondary_supply_junction_id"], st["secondary_supply_temp_c"], strict=True):
        pos = jindex.get_indexer([j])[0]
        if pos >= 0:
            temp[label[pos]] = np.fmax(temp[label[pos]], t)
    return pd.Series(temp[label] if len(label) else [], index=jindex, dtype=float)


def station_primary_return_temp_c(
    heat_w: np.ndarray,
    primary_supply_temp_c: np.ndarray,
    secondary_supply_temp_c: np.ndarray,
    secondary_return_temp_c: np.ndarray,
    ua_w_per_k: np.ndarray,
    effectiveness: np.ndarray,
) -> np.ndarray:
    """Primary return temperature of a counter-flow exchanger delivering ``heat_w``.

    With UA: solves Q = UA·LMTD(T1 − Ts_sup, T2 − Ts_ret) for T2 (bisection, vectorised).
    Otherwise with ε on the primary (the smaller capacity flow in district heating):
    T2 = T1 − ε·(T1 − Ts_ret). Where even T2 → T1 cannot deliver Q, T2 = T1 − 0.1 K.
    """
    q = np.asarray(heat_w, float)
    t1 = np.asarray(primary_supply_temp_c, float)
    ts, tr = np.asarray(secondary_supply_temp_c, float), np.asarray(secondary_return_temp_c, float)
    ua, eps = np.asarray(ua_w_per_k, float), np.asarray(effectiveness, float)
    da = np.maximum(t1 - ts, 1e-6)  # hot end: primary in vs secondary out
    lo = np.full_like(q, 1e-6)
    hi = np.maximum(t1 - tr, 2e-6)
    need = q / np.where(ua > 0, ua, np.nan)

    def lmtd(db: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (da - db) / np.log(da / db)
        return np.where(np.abs(da - db) < 1e-9, da, out)

    for _ in range(80):
        mid = 0.5 * (lo + hi)
        too_small = lmtd(mid) < need  # LMTD grows with the cold-end difference
        lo = np.where(too_small, mid, lo)
        hi = np.where(too_small, hi, mid)
    t2_ua = tr + 0.5 * (lo + hi)
    t2_eps = t1 - eps * (t1 - tr)
    t2 = np.where(np.isfinite(need), t2_ua, t2_eps)
    return np.minimum(t2, t1 - 0.1)


# -- export -------------------------------------------------------------------------------


def to_pandapipes(
    net: Network,
    *,
    rho_kg_m3: float = 965.0,
    sections: int = 1,
    fluid: str = "water",
    heat_source_return_temp_c: float | None = None,
) -> Any:
    """``net`` as a pandapipesNet (see the module docstring for the mapping).

    ``rho_kg_m3``: the water density at curve pumps without a fixed
    ``curve_density_kg_m3`` (pandapipes' curves cannot follow the temperature);
    ``heat_source_return_temp_c`` allows exporting ``heat`` sources as flow sources
    (mdot = heat / (cp·ΔT)).
    """
    pp = _pp()
    ppn = pp.create_empty_network(name=net.name, fluid=fluid)
    ppn["nuanliu_meta"] = dumps(net.meta)
    # pandapipes groups elements by its own tables: keep our row order for the way back
    ppn["nuanliu_order"] = dumps(
        {k: net.element_ids(k).tolist() for k in ("sources", "consumers", "stations")}
    )
    j = net.junctions
    jindex = pd.Index(j["junction_id"])
    if jindex.has_duplicates:
        raise InvalidInput("cannot export to pandapipes: duplicate junction ids")

    def jpos(kind: str, table: pd.DataFrame, col: str) -> np.ndarray:
        pos = jindex.get_indexer(table[col])
        if (pos < 0).any():
            bad = table.loc[pos < 0].iloc[0]
            raise InvalidInput(
                f"cannot export {kind} {bad.iloc[0]} to pandapipes: "
                f"{col} = {bad[col]!r} is not a junction"
            )
        return pos

    src = net.sources
    pres = src[src["control"] == "pressure"]
    pn_bar = (
        float(np.nanmean(pres[["supply_pressure_bar", "return_pressure_bar"]]))
        if len(pres)
        else 5.0
    )
    t_init = float(np.nanmax(src["supply_temp_c"])) if src["supply_temp_c"].notna().any() else 80.0
    if len(j):
        geodata = j[["x", "y"]].to_numpy()
        pp.create_junctions(
            ppn,
            len(j),
            pn_bar=pn_bar,
            tfluid_k=t_init + K0,
            height_m=j["elevation_m"].to_numpy(),
            name=j["name"].to_numpy(object),
            index=np.arange(len(j)),
            **_extras(j, "junctions", {"name", "elevation_m", "x", "y"}),
        )
        known = ~np.isnan(geodata).any(axis=1)
        if known.any():
            ppn["junction_geodata"] = pd.DataFrame(
                {"x": geodata[known, 0], "y": geodata[known, 1]}, index=np.flatnonzero(known)
            )

    p = net.pipes
    if len(p):
        d = p["inner_diameter_m"].to_numpy()
        pp.create_pipes_from_parameters(
            ppn,
            jpos("pipe", p, "from_junction_id"),
            jpos("pipe", p, "to_junction_id"),
            length_km=p["length_m"].to_numpy() / 1000.0,
            inner_diameter_mm=d * 1000.0,
            k_mm=p["roughness_mm"].to_numpy(),
            loss_coefficient=p["minor_loss_zeta"].to_numpy(),
            sections=sections,
            u_w_per_m2k=p["u_w_per_m_k"].to_numpy() / (np.pi * d),
            text_k=p["ambient_temp_c"].to_numpy() + K0,
            name=p["name"].to_numpy(object),
            in_service=p["in_service"].to_numpy(),
            index=np.arange(len(p)),
            **_extras(
                p,
                "pipes",
                {
                    "name",
                    "from_junction_id",
                    "to_junction_id",
                    "length_m",
                    "inner_diameter_m",
                    "roughness_mm",
                    "u_w_per_m_k",
                    "ambient_temp_c",
                    "minor_loss_zeta",
                    "in_service",
                },
            ),
        )

    _export_sources(pp, ppn, net, jpos, heat_source_return_temp_c)
    _export_consumers_and_stations(pp, ppn, net, jpos)
    _export_pumps(pp, ppn, net, jpos, rho_kg_m3)
    _export_valves(pp, ppn, net, jpos)
    return ppn


_SOURCE_MAPPED = {
    "name",
    "supply_junction_id",
    "return_junction_id",
    "supply_temp_c",
    "in_service",
}


def _export_sources(
    pp: Any, ppn: Any, net: Network, jpos: Any, heat_source_return_temp_c: float | None
) -> None:
    from nuanliu.network.validate import hydraulic_parts

    src = net.sources
    parts = hydraulic_parts(net).to_dict() if len(src) else {}
    # parts that hold a pressure already (pressure sources, modelled station secondaries)
    live = src[src["in_service"] & (src["control"] == "pressure")]
    held_parts = {parts.get(j, -1) for j in live["supply_junction_id"]}
    st = net.stations[net.stations["in_service"]]
    held_parts |= {parts.get(j, -1) for j in st["secondary_supply_junction_id"] if j}
    for i, row in src.iterrows():
        one = src.loc[[i]]
        if row["control"] == "pressure":
            if math.isnan(row["supply_pressure_bar"]) or math.isnan(row["return_pressure_bar"]):
                raise InvalidInput(
                    f"cannot export source {row['source_id']} to pandapipes: "
                    "a pressure source needs supply_pressure_bar and return_pressure_bar"
                )
            extras = _extras(
                one, "sources", _SOURCE_MAPPED | {"supply_pressure_bar", "return_pressure_bar"}
            )
            pp.create_circ_pump_const_pressure(
                ppn,
                return_junction=int(jpos("source", one, "return_junction_id")[0]),
                flow_junction=int(jpos("source", one, "supply_junction_id")[0]),
                p_flow_bar=row["supply_pressure_bar"],
                plift_bar=row["supply_pressure_bar"] - row["return_pressure_bar"],
                t_flow_k=row["supply_temp_c"] + K0,
                name=row["name"],
                in_service=bool(row["in_service"]),
                **{k: v[0] for k, v in extras.items()},
            )
            continue
        if row["control"] == "flow":
            value = {"controlled_mdot_kg_per_s": row["mdot_kg_s"]}
            mapped = _SOURCE_MAPPED | {"mdot_kg_s"}
        elif row["control"] == "heat":
            # pandapipes cannot inject a set heat at a set outlet temperature (it does not
            # converge); only as a flow source at an assumed return temperature.
            if heat_source_return_temp_c is None:
                raise InvalidInput(
                    f"cannot export source {row['source_id']} (control 'heat') to pandapipes: "
                    "pass heat_source_return_temp_c to export it as a flow source"
                )
            dt_k = row["supply_temp_c"] - heat_source_return_temp_c
            value = {"controlled_mdot_kg_per_s": row["heat_w"] / (CP_J_KG_K * dt_k)}
            mapped = _SOURCE_MAPPED | {"control"}
        else:
            raise InvalidInput(
                f"cannot export source {row['source_id']} to pandapipes: "
                f"unknown control {row['control']!r}"
            )
        if any(math.isnan(v) for v in value.values()):
            raise InvalidInput(
                f"cannot export source {row['source_id']} to pandapipes: "
                f"control {row['control']!r} needs its set-point"
            )
        extras = _extras(one, "sources", mapped)
        if not math.isnan(row["supply_pressure_bar"]):
            # holds its outlet pressure: pandapipes' circ_pump_mass, type "pt" where it is its
            # part's pressure reference in Nuanliu too, else "t" (the pressure stays unused,
            # and pandapipes does not converge with two pressure-holding pumps in one part)
            part = parts.get(row["supply_junction_id"], -1)
            holds = part not in held_parts
            held_parts.add(part)
            pp.create_circ_pump_const_mass_flow(
                ppn,
                return_junction=int(jpos("source", one, "return_junction_id")[0]),
                flow_junction=int(jpos("source", one, "supply_junction_id")[0]),
                p_flow_bar=row["supply_pressure_bar"],
                mdot_flow_kg_per_s=value["controlled_mdot_kg_per_s"],
                t_flow_k=row["supply_temp_c"] + K0,
                type="pt" if holds else "t",
                name=row["name"],
                in_service=bool(row["in_service"]),
                nuanliu_element="source",
                **{k: v[0] for k, v in extras.items()},
            )
            continue
        pp.create_heat_consumer(
            ppn,
            from_junction=int(jpos("source", one, "return_junction_id")[0]),
            to_junction=int(jpos("source", one, "supply_junction_id")[0]),
            treturn_k=row["supply_temp_c"] + K0,
            name=row["name"],
            in_service=bool(row["in_service"]),
            nuanliu_element="source",
            **value,
            **{k: v[0] for k, v in extras.items()},
        )


_CONSUMER_MAPPED = {
    "name",
    "supply_junction_id",
    "return_junction_id",
    "heat_demand_w",
    "in_service",
}
_STATION_MAPPED = {"name", "primary_supply_junction_id", "primary_return_junction_id", "in_service"}


def _export_consumers_and_stations(pp: Any, ppn: Any, net: Network, jpos: Any) -> None:
    c = net.consumers
    for control, extra_mapped in (("return_temp", {"return_temp_c"}), ("flow", {"mdot_kg_s"})):
        sub = c[c["control"] == control]
        if sub.empty:
            continue
        if control == "return_temp":
            value = {"treturn_k": sub["return_temp_c"].to_numpy() + K0}
        else:
            value = {"controlled_mdot_kg_per_s": sub["mdot_kg_s"].to_numpy()}
        pp.create_heat_consumers(
            ppn,
            jpos("consumer", sub, "supply_junction_id"),
            jpos("consumer", sub, "return_junction_id"),
            qext_w=sub["heat_demand_w"].to_numpy(),
            name=sub["name"].to_numpy(object),
            in_service=sub["in_service"].to_numpy(),
            nuanliu_element="consumer",
            **value,
            **_extras(sub, "consumers", _CONSUMER_MAPPED | extra_mapped),
        )
    st = net.stations
    if st.empty:
        return
    modelled = (st["secondary_supply_junction_id"] != "").to_numpy()
    missing = st[st["heat_demand_w"].isna()]
    if len(missing):
        raise InvalidInput(
            f"cannot export station {missing['station_id'].iloc[0]} to pandapipes: "
            "heat_demand_w is needed (for a modelled secondary: the design heat it passes on)"
        )
    no_ret = st[st["secondary_return_temp_c"].isna()]
    if len(no_ret):
        raise InvalidInput(
            f"cannot export station {no_ret['station_id'].iloc[0]} to pandapipes: "
            "secondary_return_temp_c is needed (for a modelled secondary: its design value)"
        )
    t1 = _part_supply_temp_c(net).reindex(st["primary_supply_junction_id"]).to_numpy()
    if np.isnan(t1).any():
        bad = st["station_id"][np.isnan(t1)].iloc[0]
        raise InvalidInput(f"cannot export station {bad} to pandapipes: no source feeds it")
    t2 = station_primary_return_temp_c(
        st["heat_demand_w"].to_numpy(),
        t1,
        st["secondary_supply_temp_c"].to_numpy(),
        st["secondary_return_temp_c"].to_numpy(),
        st["ua_w_per_k"].to_numpy(),
        st["effectiveness"].to_numpy(),
    )
    pp.create_heat_consumers(
        ppn,
        jpos("station", st, "primary_supply_junction_id"),
        jpos("station", st, "primary_return_junction_id"),
        qext_w=st["heat_demand_w"].to_numpy(),
        treturn_k=t2 + K0,
        name=st["name"].to_numpy(object),
        in_service=st["in_service"].to_numpy(),
        nuanliu_element="station",
        **_extras(st, "stations", _STATION_MAPPED | {"heat_demand_w"}),
    )
    for _, row in st[modelled].iterrows():
        one = st.loc[st["station_id"] == row["station_id"]].iloc[[0]]
        pp.create_circ_pump_const_pressure(
            ppn,
            return_junction=int(jpos("station", one, "secondary_return_junction_id")[0]),
            flow_junction=int(jpos("station", one, "secondary_supply_junction_id")[0]),
            p_flow_bar=row["secondary_supply_pressure_bar"],
            plift_bar=row["secondary_supply_pressure_bar"] - row["secondary_return_pressure_bar"],
            t_flow_k=row["secondary_supply_temp_c"] + K0,
            name=f"{row['name'] or row['station_id']} (secondary)",
            in_service=bool(row["in_service"]),
            nuanliu_id=row["station_id"],
            nuanliu_element="station_secondary",
        )


def _curve_coefficients(row: pd.Series, rho_kg_m3: float, rho0_kg_m3: float) -> list[float]:
    """Pump curve as pandapipes poly coefficients (bar over m³/h, highest degree first).

    pandapipes evaluates them at x = 3600·ṁ/ρ0 (ρ0 = its fluid at 0 °C). Nuanliu's law
    Δp = ρ·g·(a0 n² + a1 n ṁ/ρ + a2 (ṁ/ρ)²) with ṁ = ρ0·x/3600 is then exactly
    ρ g a0 n² + g a1 n ρ0 x/3600 + g a2 ρ0² x²/(3600² ρ): exact for a pump with a fixed
    ``curve_density_kg_m3`` (ρ = that), else exact for water of density ``rho_kg_m3``.
    """
    if row["control"] == "lift":
        if math.isnan(row["lift_bar"]):
            raise InvalidInput(f"cannot export pump {row['pump_id']} to pandapipes: no lift_bar")
        return [float(row["lift_bar"])]
    a0, a1, a2 = (row["head_a0_m"], row["head_a1_s_per_m2"], row["head_a2_s2_per_m5"])
    if math.isnan(a0) or math.isnan(a2):
        raise InvalidInput(f"cannot export pump {row['pump_id']} to pandapipes: incomplete curve")
    a1 = 0.0 if math.isnan(a1) else a1
    n = row["speed_ratio"]
    fixed = row.get("curve_density_kg_m3", math.nan)
    rho = rho_kg_m3 if pd.isna(fixed) else float(fixed)
    g = G_M_S2 / 1e5  # bar per (kg/m³ · m)
    return [
        g * a2 * rho0_kg_m3**2 / (rho * 3600.0**2),
        g * a1 * n * rho0_kg_m3 / 3600.0,
        g * rho * a0 * n * n,
    ]


def _export_pumps(pp: Any, ppn: Any, net: Network, jpos: Any, rho_kg_m3: float) -> None:
    pumps = net.pumps
    rho0 = pandapipes_curve_density_kg_m3(ppn)
    for i, row in pumps.iterrows():
        one = pumps.loc[[i]]
        extras = _extras(one, "pumps", {"name", "from_junction_id", "to_junction_id", "in_service"})
        pp.create_pump_from_parameters(
            ppn,
            int(jpos("pump", one, "from_junction_id")[0]),
            int(jpos("pump", one, "to_junction_id")[0]),
            new_std_type_name=f"nuanliu_{row['pump_id']}",
            poly_coefficents=_curve_coefficients(row, rho_kg_m3, rho0),
            name=row["name"],
            in_service=bool(row["in_service"]),
            nuanliu_rho_kg_m3=rho_kg_m3,
            **{k: v[0] for k, v in extras.items()},
        )


def _export_valves(pp: Any, ppn: Any, net: Network, jpos: Any) -> None:
    v = net.valves
    if v.empty:
        return
    kv = v["kv_m3_h"].to_numpy()
    if (~(kv > 0)).any():
        bad = v["valve_id"][~(kv > 0)].iloc[0]
        raise InvalidInput(f"cannot export valve {bad} to pandapipes: kv_m3_h must be > 0")
    # fully open: ζ = 1 and A = kv / sqrt(_KV_ZETA); partly open: ζ = 1 / opening²
    area = kv / math.sqrt(_KV_ZETA)
    d_mm = np.sqrt(4.0 * area / np.pi) * 1000.0
    opening = v["opening"].to_numpy()
    opened = (opening > 0) & v["in_service"].to_numpy()
    zeta = 1.0 / np.where(opening > 0, opening, 1.0) ** 2
    pp.create_valves(
        ppn,
        jpos("valve", v, "from_junction_id"),
        jpos("valve", v, "to_junction_id"),
        et="ju",
        inner_diameter_mm=d_mm,
        opened=opened,
        loss_coefficient=zeta,
        name=v["name"].to_numpy(object),
        **_extras(
            v, "valves", {"name", "from_junction_id", "to_junction_id", "kv_m3_h", "opening"}
        ),
    )


# -- import -------------------------------------------------------------------------------


def _table(ppn: Any, name: str) -> pd.DataFrame:
    t = ppn.get(name, None)
    return t if isinstance(t, pd.DataFrame) else pd.DataFrame()


def _col(t: pd.DataFrame, name: str, default: Any) -> pd.Series:
    return t[name] if name in t.columns else pd.Series([default] * len(t), index=t.index)


def _restore_extras(t: pd.DataFrame, kind: str, out: dict[str, Any]) -> None:
    for col in SCHEMA[kind]:
        key = _PREFIX + col.name
        if key in t.columns and col.name not in out:
            out[col.name] = t[key].to_numpy()


def _ids(t: pd.DataFrame, prefix: str) -> np.ndarray:
    native = np.array([f"{prefix}{i}" for i in t.index], dtype=object)
    if f"{_PREFIX}id" not in t.columns:
        return native
    ids = t[f"{_PREFIX}id"]
    return np.where(ids.isna().to_numpy(), native, ids.astype(str).to_numpy())


class UnconnectedJunctionsWarning(UserWarning):
    """Junctions no pandapipes element refers to were dropped on import (pandapipes
    ignores them); ``junction_ids`` lists them (Nuanliu ids)."""

    def __init__(self, junction_ids: list[str]) -> None:
        self.junction_ids = junction_ids
        shown = ", ".join(junction_ids[:20]) + (" …" if len(junction_ids) > 20 else "")
        super().__init__(
            f"dropped {len(junction_ids)} unconnected junction(s) that pandapipes ignores: "
            f"{shown} (use strict=True / --strict to refuse the file instead)"
        )


#: pandapipes tables and the columns that refer to junctions
_JUNCTION_REFS = {
    "pipe": ("from_junction", "to_junction"),
    "valve": ("junction", "element", "from_junction", "to_junction"),
    "pump": ("from_junction", "to_junction"),
    "heat_consumer": ("from_junction", "to_junction"),
    "circ_pump_pressure": ("return_junction", "flow_junction"),
    "circ_pump_mass": ("return_junction", "flow_junction"),
}


def _unconnected_junctions(ppn: Any) -> pd.Index:
    """Junctions (pandapipes index) that no element refers to."""
    j = _table(ppn, "junction")
    used: list[np.ndarray] = []
    for name, cols in _JUNCTION_REFS.items():
        t = _table(ppn, name)
        used += [t[col].to_numpy() for col in cols if col in t.columns]
    if not used:
        return j.index
    return j.index[~j.index.isin(np.concatenate(used))]


def pandapipes_ambient_temp_k(ppn: Any) -> float:
    """The ambient temperature pandapipes gives a pipe without ``text_k``: the net's
    ``user_pf_options`` if set, else pandapipes' own default pipeflow option."""
    from pandapipes.pf.pipeflow_setup import default_options

    user = ppn.get("user_pf_options", None)
    if isinstance(user, dict) and user.get("ambient_temperature") is not None:
        return float(user["ambient_temperature"])
    return float(default_options["ambient_temperature"])


def pandapipes_curve_density_kg_m3(ppn: Any) -> float:
    """The density pandapipes turns a pump's mass flow into the volume flow of its curve
    with: the net's fluid at its normal temperature (0 °C)."""
    from pandapipes.constants import NORMAL_TEMPERATURE

    fluid = ppn.get("fluid", None) if hasattr(ppn, "get") else None
    if fluid is None:
        fluid = _pp().create_empty_network(fluid="water")["fluid"]
    return float(fluid.get_density(NORMAL_TEMPERATURE))


def _junction_parts(ppn: Any) -> tuple[pd.Series, set[int]]:
    """Resistive parts of a native net (pipes, valves, pumps; not consumers or circulation
    pumps) per junction index, and the parts holding a circulation pump's flow junction
    (the supply side)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    jidx = _table(ppn, "junction").index
    n = int(jidx.max()) + 1 if len(jidx) else 0
    a: list[np.ndarray] = [np.zeros(0, int)]
    b: list[np.ndarray] = [np.zeros(0, int)]
    for name, fa, fb in (
        ("pipe", "from_junction", "to_junction"),
        ("pump", "from_junction", "to_junction"),
        ("valve", "junction", "element"),
        ("valve", "from_junction", "to_junction"),
    ):
        t = _table(ppn, name)
        if len(t) and fa in t.columns and fb in t.columns:
            a.append(t[fa].to_numpy(int))
            b.append(t[fb].to_numpy(int))
    aa, bb = np.concatenate(a), np.concatenate(b)
    adj = coo_matrix((np.ones(len(aa)), (aa, bb)), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    supply: set[int] = set()
    for name in ("circ_pump_pressure", "circ_pump_mass"):
        t = _table(ppn, name)
        if len(t):
            supply |= set(label[t["flow_junction"].to_numpy(int)].tolist())
    return pd.Series(label[jidx.to_numpy(int)] if n else [], index=jidx), supply


def _one(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: (v[0] if isinstance(v, np.ndarray) else v) for k, v in rec.items()}


def _nan(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def from_pandapipes(ppn: Any, *, strict: bool = False) -> Network:
    """A Network from a pandapipesNet (made by :func:`to_pandapipes` or natively).

    A native net is imported so that Nuanliu evaluates what pandapipes evaluates: pump
    curves keep pandapipes' law (``curve_density_kg_m3`` = ρ(0 °C) of the net's fluid),
    pipes without ``text_k`` get pandapipes' ambient temperature, ``circ_pump_mass``
    becomes a flow source holding ``p_flow_bar`` (types ``p``/``pt``), and a
    ``heat_consumer`` that sets ``treturn_k`` and ``controlled_mdot_kg_per_s`` without
    ``qext_w`` (or a negative ``qext_w``) — a source, usually run backwards from the
    return to the supply side — becomes a flow (heat) source at that outlet temperature
    (the same law as pandapipes', whichever way it runs). Junctions no element refers to,
    which pandapipes ignores, are dropped with an :class:`UnconnectedJunctionsWarning`
    listing them; ``strict=True`` refuses the net instead.
    """
    for unsupported in (
        "ext_grid",
        "sink",
        "source",
        "flow_control",
        "pressure_control",
        "compressor",
        "mass_storage",
        "heat_exchanger",
    ):
        if len(_table(ppn, unsupported)):
            raise InvalidInput(
                f"cannot import a pandapipes {unsupported!r} element: Nuanliu models heat "
                "networks with sources, pumps, valves, consumers and stations only"
            )
    j = _table(ppn, "junction")
    jid = _ids(j, "J")
    jmap = pd.Series(jid, index=j.index)
    stray = _unconnected_junctions(ppn)
    if len(stray):
        ids = jmap.loc[stray].astype(str).tolist()
        if strict:
            raise InvalidInput(
                f"{len(ids)} pandapipes junction(s) are connected to nothing: "
                + ", ".join(ids[:20])
                + " (pandapipes ignores them; import without strict to drop them)",
                details=[
                    {"kind": "junctions", "id": i, "problem": "not connected to anything"}
                    for i in ids
                ],
            )
        warnings.warn(UnconnectedJunctionsWarning(ids), stacklevel=2)
    keep = ~j.index.isin(stray)
    geo = _table(ppn, "junction_geodata").reindex(j.index)
    junctions = {
        "junction_id": jid[keep],
        "name": _col(j, "name", "").to_numpy(object)[keep],
        "elevation_m": _col(j, "height_m", 0.0).to_numpy(float)[keep],
        "x": _col(geo, "x", np.nan).to_numpy(float)[keep],
        "y": _col(geo, "y", np.nan).to_numpy(float)[keep],
    }

    def ref(t: pd.DataFrame, col: str) -> np.ndarray:
        return jmap.reindex(t[col].to_numpy()).to_numpy(object)

    p = _table(ppn, "pipe")
    d_m = _col(p, "inner_diameter_mm", np.nan).to_numpy(float) / 1000.0
    do_m = _col(p, "outer_diameter_mm", np.nan).to_numpy(float) / 1000.0
    do_m = np.where(np.isnan(do_m), d_m, do_m)  # pandapipes uses the outer diameter for losses
    text = _col(p, "text_k", np.nan).to_numpy(float)
    # pandapipes gives a pipe without text_k its ambient temperature option (20 °C);
    # create_pipe (std types) stores text_k = 0 K for "not set" (its doc: the ambient)
    unset = np.isnan(text) | (text <= 0.0)
    text = np.where(unset, pandapipes_ambient_temp_k(ppn) if len(p) else np.nan, text)
    pipes: dict[str, Any] = {
        "pipe_id": _ids(p, "P"),
        "name": _col(p, "name", "").to_numpy(object),
        "from_junction_id": ref(p, "from_junction") if len(p) else [],
        "to_junction_id": ref(p, "to_junction") if len(p) else [],
        "length_m": _col(p, "length_km", np.nan).to_numpy(float) * 1000.0,
        "inner_diameter_m": d_m,
        "roughness_mm": _col(p, "k_mm", np.nan).to_numpy(float),
        "u_w_per_m_k": _col(p, "u_w_per_m2k", 0.0).to_numpy(float) * np.pi * do_m,
        "ambient_temp_c": text - K0,
        "minor_loss_zeta": _col(p, "loss_coefficient", 0.0).to_numpy(float),
        "in_service": _col(p, "in_service", True).to_numpy(bool),
    }
    _restore_extras(p, "pipes", pipes)
    if len(p) and f"{_PREFIX}side" not in p.columns:
        part, supply_parts = _junction_parts(ppn)
        on_supply = part.reindex(p["from_junction"].to_numpy()).isin(supply_parts).to_numpy()
        pipes["side"] = np.where(on_supply, "supply", "return")

    sources: list[dict[str, Any]] = []

    def circ_pump(t: pd.DataFrame, i: Any, row: pd.Series, prefix: str) -> dict[str, Any]:
        """A circulation pump's fields shared by both kinds (ids, junctions, supply °C)."""
        return {
            "source_id": _ids(t.loc[[i]], prefix)[0],
            "name": row.get("name") or "",
            "supply_junction_id": jmap[row["flow_junction"]],
            "return_junction_id": jmap[row["return_junction"]],
            "supply_temp_c": _nan(row["t_flow_k"]) - K0,
        }

    cp = _table(ppn, "circ_pump_pressure")
    kinds = _col(cp, f"{_PREFIX}element", None)
    for i, row in cp.iterrows():
        if kinds[i] == "station_secondary":
            continue
        rec: dict[str, Any] = {
            **circ_pump(cp, i, row, "S"),
            "control": "pressure",
            "supply_pressure_bar": row["p_flow_bar"],
            "return_pressure_bar": row["p_flow_bar"] - row["plift_bar"],
            "in_service": bool(row["in_service"]),
        }
        _restore_extras(cp.loc[[i]], "sources", rec)
        sources.append(_one(rec))
    cm = _table(ppn, "circ_pump_mass")
    for i, row in cm.iterrows():
        # a flow source; types p/pt also hold p_flow_bar at the outlet (the reference)
        rec = {
            **circ_pump(cm, i, row, "SM"),
            "control": "flow",
            "mdot_kg_s": row["mdot_flow_kg_per_s"],
            "in_service": bool(row["in_service"]),
        }
        heat = _nan(row.get(f"{_PREFIX}heat_w"))
        if not math.isnan(heat):  # a heat source we exported as a flow source
            rec |= {"control": "heat", "heat_w": heat, "mdot_kg_s": math.nan}
        _restore_extras(cm.loc[[i]], "sources", rec)
        if "supply_pressure_bar" not in rec:
            holds = str(row.get("type", "pt")) in ("p", "pt", "auto")
            rec["supply_pressure_bar"] = _nan(row["p_flow_bar"]) if holds else math.nan
        sources.append(_one(rec))

    hc = _table(ppn, "heat_consumer")
    hkind = _col(hc, f"{_PREFIX}element", None)
    if len(hc) and f"{_PREFIX}element" not in hc.columns:
        # native: a heat_consumer that sets its outlet temperature and its flow or a
        # negative qext_w (heat added) is a source, usually run backwards (return → supply)
        qext = _col(hc, "qext_w", np.nan).to_numpy(float)
        sets_out = _col(hc, "treturn_k", np.nan).notna().to_numpy()
        sets_flow = _col(hc, "controlled_mdot_kg_per_s", np.nan).notna().to_numpy()
        adds_heat = sets_out & ((np.isnan(qext) & sets_flow) | (qext < 0.0))
        hkind = pd.Series(np.where(adds_heat, "native_source", "consumer"), index=hc.index)
    hkind = hkind.fillna("consumer")
    consumers: list[pd.DataFrame] = []
    stations: list[pd.DataFrame] = []
    for kind_name, sub in hc.groupby(hkind, sort=False) if len(hc) else []:
        if kind_name in ("source", "native_source"):
            for i, row in sub.iterrows():
                rec = {
                    "source_id": _ids(sub.loc[[i]], "SC")[0],
                    "name": row.get("name") or "",
                    "supply_junction_id": jmap[row["to_junction"]],
                    "return_junction_id": jmap[row["from_junction"]],
                    "supply_temp_c": _nan(row.get("treturn_k")) - K0,
                    "in_service": bool(row["in_service"]),
                }
                mdot = _nan(row.get("controlled_mdot_kg_per_s"))
                qext = _nan(row.get("qext_w"))
                heat = _nan(row.get(f"{_PREFIX}heat_w"))
                if not math.isnan(heat):  # a heat source we exported as a flow source
                    rec |= {"control": "heat", "heat_w": heat}
                elif not math.isnan(mdot):
                    rec |= {"control": "flow", "mdot_kg_s": mdot}
                elif qext <= 0.0:
                    rec |= {"control": "heat", "heat_w": -qext}
                else:
                    rec = {}
                if not rec or math.isnan(rec["supply_temp_c"]):
                    raise InvalidInput(
                        f"cannot import pandapipes heat_consumer {i} (run from the return to the "
                        "supply side, i.e. a source): it needs treturn_k (the outlet temperature) "
                        "and controlled_mdot_kg_per_s or a negative qext_w"
                    )
                _restore_extras(sub.loc[[i]], "sources", rec)
                sources.append(_one(rec))
        elif kind_name == "station":
            rec_s: dict[str, Any] = {
                "station_id": _ids(sub, "H"),
                "name": _col(sub, "name", "").to_numpy(object),
                "primary_supply_junction_id": ref(sub, "from_junction"),
                "primary_return_junction_id": ref(sub, "to_junction"),
                "heat_demand_w": sub["qext_w"].to_numpy(float),
                "in_service": sub["in_service"].to_numpy(bool),
            }
            _restore_extras(sub, "stations", rec_s)
            stations.append(pd.DataFrame(rec_s))
        else:
            if "deltat_k" in sub.columns and sub["deltat_k"].notna().any():
                raise InvalidInput(
                    "cannot import a pandapipes heat_consumer with deltat_k: Nuanliu consumers "
                    "set a return temperature or a mass flow"
                )
            mdot = _col(sub, "controlled_mdot_kg_per_s", np.nan).to_numpy(float)
            tret = _col(sub, "treturn_k", np.nan).to_numpy(float)
            qext = _col(sub, "qext_w", np.nan).to_numpy(float)
            no_demand = np.isnan(qext)
            if no_demand.any():
                bad = sub.index[no_demand][0]
                raise InvalidInput(
                    f"cannot import pandapipes heat_consumer {bad}: without qext_w it is no "
                    "Nuanliu consumer (a source must run from the return to the supply side)"
                )
            rec_c: dict[str, Any] = {
                "consumer_id": _ids(sub, "C"),
                "name": _col(sub, "name", "").to_numpy(object),
                "supply_junction_id": ref(sub, "from_junction"),
                "return_junction_id": ref(sub, "to_junction"),
                "heat_demand_w": qext,
                "control": np.where(np.isnan(mdot), "return_temp", "flow"),
                "return_temp_c": tret - K0,
                "mdot_kg_s": mdot,
                "in_service": sub["in_service"].to_numpy(bool),
            }
            _restore_extras(sub, "consumers", rec_c)
            consumers.append(pd.DataFrame(rec_c))

    pumps = _import_pumps(ppn, jmap)
    valves = _import_valves(ppn, jmap)
    meta_text = ppn.get("nuanliu_meta", None)
    meta = json.loads(meta_text) if isinstance(meta_text, str) else {}
    order_text = ppn.get("nuanliu_order", None)
    order = json.loads(order_text) if isinstance(order_text, str) else {}
    cons = pd.concat(consumers, ignore_index=True) if consumers else None
    stat = pd.concat(stations, ignore_index=True) if stations else None
    srcs = pd.DataFrame(sources) if sources else None
    return Network.from_tables(
        name=str(ppn.get("name", "network")) or "network",
        meta=meta,
        junctions=junctions,
        pipes=pipes,
        sources=_reorder(srcs, "sources", order.get("sources", [])),
        consumers=_reorder(cons, "consumers", order.get("consumers", [])),
        stations=_reorder(stat, "stations", order.get("stations", [])),
        pumps=pumps,
        valves=valves,
    )


def _reorder(table: pd.DataFrame | None, kind: str, order: list[str]) -> pd.DataFrame | None:
    """Rows in the order of the exported network (pandapipes groups them by element)."""
    if table is None or not order:
        return table
    idcol = SCHEMA[kind][0].name
    rank = {v: i for i, v in enumerate(order)}
    key = table[idcol].map(lambda v: rank.get(v, len(rank)))
    return (
        table.assign(_rank=key.to_numpy())
        .sort_values("_rank", kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _native_curve(ppn: Any, i: Any, coef: list[float]) -> dict[str, Any]:
    """A pandapipes pump curve (bar over m³/h of ṁ/ρ(0 °C)) as the same law in Nuanliu's
    columns: head coefficients at the fixed curve density ρ(0 °C), so that
    ρ0·g·H(ṁ/ρ0) equals pandapipes' lift exactly."""
    if len(coef) == 1:
        return {"control": "lift", "lift_bar": float(coef[0])}
    if len(coef) not in (2, 3):
        raise InvalidInput(
            f"cannot import pandapipes pump {i}: its curve has degree {len(coef) - 1} "
            "(Nuanliu pumps are constant lift or quadratic)"
        )
    c2, c1, c0 = [0.0] * (3 - len(coef)) + [float(x) for x in coef]
    if c2 > 0.0:
        # a quadratic term below round-off (a straight line fitted as degree 2, like the
        # std type P3) is none: it changes the lift by < 1e-9 up to 10,000 m³/h
        if c2 * 1e4**2 > 1e-9 * abs(c0):
            raise InvalidInput(
                f"cannot import pandapipes pump {i}: its curve bends upwards "
                f"(quadratic coefficient {c2:g} bar/(m³/h)² > 0)"
            )
        c2 = 0.0
    rho0 = pandapipes_curve_density_kg_m3(ppn)
    k = rho0 * G_M_S2 / 1e5  # bar per m of head at ρ0
    return {
        "control": "curve",
        "head_a0_m": c0 / k,
        "head_a1_s_per_m2": c1 * 3600.0 / k,
        "head_a2_s2_per_m5": c2 * 3600.0**2 / k,
        "curve_density_kg_m3": rho0,
        "speed_ratio": 1.0,
    }


def _import_pumps(ppn: Any, jmap: pd.Series) -> list[dict[str, Any]] | None:
    t = _table(ppn, "pump")
    if t.empty:
        return None
    rows = []
    std = ppn["std_types"]["pump"] if "std_types" in ppn else {}
    for i, row in t.iterrows():
        rec: dict[str, Any] = {
            "pump_id": _ids(t.loc[[i]], "PU")[0],
            "name": row.get("name") or "",
            "from_junction_id": jmap[row["from_junction"]],
            "to_junction_id": jmap[row["to_junction"]],
            "in_service": bool(row["in_service"]),
        }
        if f"{_PREFIX}control" in t.columns:
            _restore_extras(t.loc[[i]], "pumps", rec)
            rec = _one(rec)
        else:
            pst = std.get(row["std_type"])
            rec |= _native_curve(ppn, i, list(np.atleast_1d(getattr(pst, "reg_par", []))))
        rows.append(rec)
    return rows


def _import_valves(ppn: Any, jmap: pd.Series) -> dict[str, Any] | None:
    t = _table(ppn, "valve")
    if t.empty:
        return None
    if "et" in t.columns and (t["et"] != "ju").any():
        raise InvalidInput("cannot import a pandapipes valve between a junction and a pipe")
    fcol = "junction" if "junction" in t.columns else "from_junction"
    tcol = "element" if "element" in t.columns else "to_junction"
    area = np.pi * (t["inner_diameter_mm"].to_numpy(float) / 1000.0) ** 2 / 4.0
    zeta = t["loss_coefficient"].to_numpy(float)
    opened = t["opened"].to_numpy(bool)
    if f"{_PREFIX}id" in t.columns:
        # exported by us: ζ = 1 / opening², A sized for the fully open kv
        kv = area * math.sqrt(_KV_ZETA)
        opening = np.where(opened, 1.0 / np.sqrt(zeta), 0.0)
    else:
        kv = area * np.sqrt(_KV_ZETA / np.maximum(zeta, 1e-9))
        opening = opened.astype(float)
    out: dict[str, Any] = {
        "valve_id": _ids(t, "V"),
        "name": _col(t, "name", "").to_numpy(object),
        "from_junction_id": jmap.reindex(t[fcol].to_numpy()).to_numpy(object),
        "to_junction_id": jmap.reindex(t[tcol].to_numpy()).to_numpy(object),
        "kv_m3_h": kv,
        "opening": opening,
    }
    _restore_extras(t, "valves", out)
    return out


# -- files --------------------------------------------------------------------------------


def write_pandapipes_json(net: Network, path: Any, **kwargs: Any) -> Any:
    """Write ``net`` as a pandapipes JSON file (``pandapipes.to_json``)."""
    ppn = to_pandapipes(net, **kwargs)
    _pp().to_json(ppn, str(path))
    return path


def read_pandapipes_json(path: Any, *, strict: bool = False) -> Network:
    """Read a pandapipes JSON file (``pandapipes.from_json``) as a Network (``strict``:
    see :func:`from_pandapipes`)."""
    try:
        ppn = _pp().from_json(str(path))
    except (ValueError, KeyError, OSError) as exc:
        raise InvalidInput(f"{path}: not a pandapipes JSON file: {exc}") from None
    return from_pandapipes(ppn, strict=strict)
