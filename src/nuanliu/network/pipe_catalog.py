"""Steel district-heating pipe catalogue: DN → inner diameter and heat-loss coefficient.

Dimensions: steel service pipes of pre-insulated bonded pipes, EN 253 (outer diameter ×
wall thickness per EN 10217 / ISO 4200; the GB/T 8163 / CJ/T 114 series used in China
has the same outer diameters and very close walls). DN1200–DN1600 use the walls common
for long-distance transmission mains (12.5–16 mm).

Heat loss: ``u_w_per_m_k`` is the loss of one buried pipe of a supply/return pair per
metre and per kelvin between water and undisturbed ground, for insulation series 1
(PUR λ ≈ 0.027 W/(m·K), cover depth ≈ 1 m, soil λ ≈ 1.5 W/(m·K)), rounded from
manufacturers' tables (e.g. Logstor/Isoplus series-1 data). These are typical values
for new pipes; aged networks lose 1.5–2 times more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput

# DN, outer diameter mm, wall mm, U W/(m·K)
_ROWS: tuple[tuple[int, float, float, float], ...] = (
    (20, 26.9, 2.6, 0.13),
    (25, 33.7, 2.6, 0.15),
    (32, 42.4, 2.6, 0.16),
    (40, 48.3, 2.6, 0.18),
    (50, 60.3, 2.9, 0.20),
    (65, 76.1, 2.9, 0.22),
    (80, 88.9, 3.2, 0.23),
    (100, 114.3, 3.6, 0.25),
    (125, 139.7, 3.6, 0.28),
    (150, 168.3, 4.0, 0.31),
    (200, 219.1, 4.5, 0.33),
    (250, 273.0, 5.0, 0.36),
    (300, 323.9, 5.6, 0.39),
    (350, 355.6, 5.6, 0.39),
    (400, 406.4, 6.3, 0.41),
    (450, 457.0, 6.3, 0.42),
    (500, 508.0, 6.3, 0.47),
    (600, 610.0, 7.1, 0.52),
    (700, 711.0, 8.0, 0.55),
    (800, 813.0, 8.8, 0.59),
    (900, 914.0, 10.0, 0.63),
    (1000, 1016.0, 11.0, 0.67),
    (1200, 1219.0, 12.5, 0.75),
    (1400, 1422.0, 14.2, 0.82),
    (1600, 1626.0, 16.0, 0.90),
)

CATALOG = pd.DataFrame(_ROWS, columns=["dn_mm", "outer_diameter_mm", "wall_mm", "u_w_per_m_k"])
CATALOG["inner_diameter_m"] = (
    (CATALOG["outer_diameter_mm"] - 2 * CATALOG["wall_mm"]) / 1000.0
).round(4)

DN_MM = CATALOG["dn_mm"].to_numpy()
INNER_DIAMETER_M = CATALOG["inner_diameter_m"].to_numpy()
U_W_PER_M_K = CATALOG["u_w_per_m_k"].to_numpy()


def _positions(dn_mm: np.ndarray | list[float] | float) -> np.ndarray:
    dn = np.atleast_1d(np.asarray(dn_mm, dtype=float))
    pos = np.searchsorted(DN_MM, dn)
    pos_c = np.minimum(pos, len(DN_MM) - 1)
    bad = DN_MM[pos_c] != dn
    if bad.any():
        raise InvalidInput(
            f"DN {dn[bad][0]:g} is not in the pipe catalogue "
            f"(known: {', '.join(str(d) for d in DN_MM)})"
        )
    return pos_c


def inner_diameter_m(dn_mm: np.ndarray | list[float] | float) -> np.ndarray:
    """Inner diameters (m) for nominal diameters DN (mm); InvalidInput for an unknown DN."""
    return INNER_DIAMETER_M[_positions(dn_mm)]


def heat_loss_u_w_per_m_k(dn_mm: np.ndarray | list[float] | float) -> np.ndarray:
    """Heat-loss coefficients W/(m·K) of series-1 pre-insulated pipes for DN (mm)."""
    return U_W_PER_M_K[_positions(dn_mm)]


def friction_gradient_pa_per_m(
    mdot_kg_s: np.ndarray,
    d_m: np.ndarray,
    *,
    roughness_mm: float = 0.05,
    rho_kg_m3: float = 960.0,
    nu_m2_s: float = 3.3e-7,
) -> np.ndarray:
    """Darcy friction pressure gradient (Pa/m), Swamee–Jain friction factor (sizing only)."""
    mdot = np.abs(np.asarray(mdot_kg_s, dtype=float))
    d = np.asarray(d_m, dtype=float)
    v = mdot / (rho_kg_m3 * np.pi * d**2 / 4.0)
    re = np.maximum(v * d / nu_m2_s, 1.0)
    lam = np.where(
        re < 2300.0,
        64.0 / re,
        0.25 / np.log10(roughness_mm / 1000.0 / (3.7 * d) + 5.74 / re**0.9) ** 2,
    )
    return lam / d * rho_kg_m3 * v**2 / 2.0


def size_dn(
    mdot_kg_s: np.ndarray,
    *,
    max_gradient_pa_per_m: float = 100.0,
    max_velocity_m_s: float = 3.0,
    min_dn_mm: int = 20,
) -> np.ndarray:
    """Smallest catalogue DN per flow with friction gradient and velocity within the limits."""
    mdot = np.atleast_1d(np.asarray(mdot_kg_s, dtype=float))
    ok_dn = min_dn_mm <= DN_MM
    dns, ds = DN_MM[ok_dn], INNER_DIAMETER_M[ok_dn]
    grad = friction_gradient_pa_per_m(mdot[:, None], ds[None, :])
    vel = mdot[:, None] / (960.0 * np.pi * ds[None, :] ** 2 / 4.0)
    fits = (grad <= max_gradient_pa_per_m) & (vel <= max_velocity_m_s)
    # first fitting DN; the largest one when even that is not enough
    first = np.where(fits.any(axis=1), fits.argmax(axis=1), len(dns) - 1)
    return dns[first].astype(float)
