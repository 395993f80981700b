"""Flows and outlet laws of the fixed-flow elements for the current temperatures.

Consumers, stations and flow/heat sources decide their own mass flow (return
temperature or flow control); each also gives its outlet temperature as an affine law
T_out = α T_in + β for the thermal pass. All functions are vectorised over elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nuanliu.physics.heat_exchanger import (
    max_heat_ua_w,
    primary_return_effectiveness_c,
    primary_return_ua_c,
    primary_return_ua_newton_c,
)
from nuanliu.physics.water import WaterProperties

FloatArray = NDArray[np.float64]

#: Heat sources under heat control never see less than this temperature rise (K), so a
#: return at or above the supply temperature cannot ask for an infinite flow.
MIN_SOURCE_RISE_K = 1.0


@dataclass
class FlowLaw:
    """Mass flow and outlet law of a group of fixed-flow elements."""

    mdot_kg_s: FloatArray
    alpha: FloatArray
    beta: FloatArray


def consumer_flows(
    supply_temp_c: FloatArray,
    prev_out_c: FloatArray,
    heat_demand_w: FloatArray,
    flow_control: NDArray[np.bool_],
    return_temp_c: FloatArray,
    mdot_kg_s: FloatArray,
    *,
    min_delta_t_k: float,
    min_return_temp_c: float,
    water: WaterProperties,
) -> FlowLaw:
    """Consumer flows and outlet laws.

    Return-temperature control: ṁ = Q / (h(T_s) − h(T_r)), capped by the valve's largest
    flow (``mdot_kg_s`` if given, else the flow that carries Q at ``min_delta_t_k``). When
    the supply is at or below the set-point the valve is fully open, no heat is
    delivered and the water leaves at its supply temperature. Flow control: fixed ṁ,
    the water cools by Q/(ṁ c) but not below the return set-point (or
    ``min_return_temp_c``); the rest of the demand is the shortfall.
    """
    n = len(supply_temp_c)
    ts = supply_temp_c
    q = np.maximum(heat_demand_w, 0.0)
    tr = np.where(np.isnan(return_temp_c), min_return_temp_c, return_temp_c)
    m = np.zeros(n)
    alpha = np.ones(n)
    beta = np.zeros(n)

    rt = ~flow_control
    dh = water.dh(ts, tr)
    cap = np.where(np.isnan(mdot_kg_s), q / (water.cp(ts) * min_delta_t_k), mdot_kg_s)
    m_req = np.where(dh > 0, q / np.where(dh > 0, dh, 1.0), np.inf)
    m_rt = np.where(q > 0, np.minimum(m_req, cap), 0.0)
    hot = ts > tr
    m = np.where(rt, m_rt, m)
    alpha = np.where(rt & hot, 0.0, alpha)
    beta = np.where(rt & hot, tr, beta)

    fc = flow_control
    m_fc = np.nan_to_num(mdot_kg_s)
    c = water.mean_cp(ts, prev_out_c)
    drop = np.where(m_fc > 0, q / (np.where(m_fc > 0, m_fc, 1.0) * c), 0.0)
    can_full = (m_fc > 0) & (ts - drop >= tr)
    can_part = (m_fc > 0) & ~can_full & (ts > tr)
    m = np.where(fc, m_fc, m)
    alpha = np.where(fc & can_part, 0.0, alpha)
    beta = np.where(fc & can_full, -drop, np.where(fc & can_part, tr, beta))
    return FlowLaw(m, alpha, beta)


def station_flows(
    primary_in_c: FloatArray,
    heat_w: FloatArray,
    sec_supply_c: FloatArray,
    sec_return_c: FloatArray,
    ua_w_per_k: FloatArray,
    effectiveness: FloatArray,
    *,
    min_delta_t_k: float,
    water: WaterProperties,
    ua_iterations: int = 60,
    ua_newton: bool = False,
) -> tuple[FlowLaw, FloatArray]:
    """Primary flows and outlet laws of heat-exchange stations; also the heat passed (W).

    ``ua_iterations``: bisection steps of a UA exchanger's primary return (60 reach
    round-off; the dynamic model's hourly steps use 40, ~1e-10 K). ``ua_newton``: the
    closed form polished by Newton instead (:func:`primary_return_ua_newton_c`, the same
    root within the LMTD's own round-off, ~1e-8 K, about 3× cheaper).

    The primary control valve passes the flow that transfers ``heat_w``, at most the
    flow that would carry it at ``min_delta_t_k``; beyond that the station delivers less.
    """
    tpi = primary_in_c
    q = np.maximum(heat_w, 0.0)
    n = len(tpi)
    if n == 0:
        return FlowLaw(np.zeros(0), np.zeros(0), np.zeros(0)), np.zeros(0)
    cap = q / (water.cp(tpi) * min_delta_t_k)
    use_ua = ~np.isnan(ua_w_per_k)
    eps = np.where(np.isnan(effectiveness), 1.0, effectiveness)
    ua = np.where(use_ua, ua_w_per_k, 1.0)

    # UA: primary return for the demanded (or largest possible) heat.
    qmax = max_heat_ua_w(tpi, sec_supply_c, sec_return_c, ua)
    q_ua = np.minimum(q, qmax)
    if ua_newton:
        tpr_ua = primary_return_ua_newton_c(q_ua, tpi, sec_supply_c, sec_return_c, ua)
    else:
        tpr_ua = primary_return_ua_c(q_ua, tpi, sec_supply_c, sec_return_c, ua, ua_iterations)
    # Effectiveness: T_pr = T_pi − ε (T_pi − T_sr).
    tpr_eps = primary_return_effectiveness_c(tpi, sec_return_c, eps)
    tpr = np.where(use_ua, tpr_ua, tpr_eps)
    q_target = np.where(use_ua, q_ua, q)
    dh = water.dh(tpi, tpr)
    m_req = np.where(dh > 0, q_target / np.where(dh > 0, dh, 1.0), np.inf)
    m = np.where(q > 0, np.minimum(m_req, cap), 0.0)
    capped = (q > 0) & (m_req > cap)

    # Capped UA stations: both flows known → ε-NTU of a counter-flow exchanger.
    c_p = np.maximum(m * water.cp(tpi), 1e-12)
    dts = np.maximum(sec_supply_c - sec_return_c, 1e-6)
    c_s = np.maximum(q / dts, 1e-12)
    c_min = np.minimum(c_p, c_s)
    cr = c_min / np.maximum(c_p, c_s)
    ntu = ua / c_min
    e = np.exp(-ntu * (1.0 - cr))
    balanced = np.abs(1.0 - cr) < 1e-9
    eps_ntu = np.where(
        balanced, ntu / (1.0 + ntu), (1.0 - e) / np.where(balanced, 1.0, 1.0 - cr * e)
    )
    q_ntu = eps_ntu * c_min * np.maximum(tpi - sec_return_c, 0.0)
    tpr_ntu = tpi - q_ntu / c_p
    tpr = np.where(use_ua & capped, tpr_ntu, tpr)

    hot = (tpi > sec_return_c) & (m > 0)
    alpha = np.ones(n)
    beta = np.zeros(n)
    # UA stations: outlet fixed for this iterate; ε stations: affine in T_pi (exact).
    alpha = np.where(hot & use_ua, 0.0, np.where(hot, 1.0 - eps, alpha))
    beta = np.where(hot & use_ua, tpr, np.where(hot, eps * sec_return_c, beta))
    passed = m * np.maximum(water.dh(tpi, np.where(hot, tpr, tpi)), 0.0)
    return FlowLaw(m, alpha, beta), passed


def source_flows(
    return_temp_c: FloatArray,
    supply_temp_c: FloatArray,
    heat_control: NDArray[np.bool_],
    heat_w: FloatArray,
    mdot_kg_s: FloatArray,
    *,
    water: WaterProperties,
) -> FlowLaw:
    """Flow and heat sources: ṁ set, or ṁ = Q / (h(T_supply) − h(T_return))."""
    rise = water.dh(supply_temp_c, return_temp_c)
    floor = water.cp(supply_temp_c) * MIN_SOURCE_RISE_K
    m_heat = np.nan_to_num(heat_w) / np.maximum(rise, floor)
    m = np.where(heat_control, m_heat, np.nan_to_num(mdot_kg_s))
    n = len(m)
    return FlowLaw(m, np.zeros(n), supply_temp_c.copy())
