"""A building by floor × unit: each flat a cell coloured by today's mean temperature.

Floor, unit and door come from the flat's address, in the two forms Chinese addresses
use: ``…3单元502室`` (unit 3, floor 5, door 02) and ``3-502``. Flats whose address says
neither are listed beside the grid, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

PATTERNS = (
    re.compile(r"(\d+)\s*单元\s*(\d+?)(\d{2})\s*室?$"),
    re.compile(r"(?:^|\D)(\d+)-(\d+?)(\d{2})$"),
)


def flat_position(address: str) -> tuple[int, int, int] | None:
    """``(unit, floor, door)`` of a flat from its address, or None."""
    for pattern in PATTERNS:
        m = pattern.search(address.strip())
        if m:
            unit, floor, door = (int(g) for g in m.groups())
            if floor >= 1:
                return unit, floor, door
    return None


def temp_band(temp_c: float | None, standard_c: float, cold_c: float, hot_c: float) -> str:
    """Colour band of a flat's temperature (the legend of the grid)."""
    if temp_c is None:
        return "none"
    if temp_c < cold_c:
        return "cold"
    if temp_c < standard_c:
        return "low"
    if temp_c > hot_c:
        return "hot"
    return "warm" if temp_c > standard_c + 4 else "ok"


def building_grid(
    _store: Any, households: list[dict[str, Any]], cold_c: float = 16.0, hot_c: float = 24.0
) -> dict[str, Any] | None:
    """``{"units": [...], "floors": [{"floor": n, "cells": {unit: [flat, ...]}}], "other":
    [...]}`` top floor first; None when no address gives a position."""
    placed: dict[tuple[int, int], list[dict[str, Any]]] = {}
    other = []
    for h in households:
        pos = flat_position(h.get("address") or "")
        cell = {
            **h,
            "band": temp_band(h["temp_c"], h["standard_temp_c"], cold_c, hot_c),
        }
        if pos is None:
            other.append(cell)
            continue
        unit, floor, door = pos
        placed.setdefault((floor, unit), []).append({**cell, "door": door})
    if not placed:
        return None
    units = sorted({u for _, u in placed})
    floors = sorted({f for f, _ in placed}, reverse=True)
    return {
        "units": units,
        "floors": [
            {
                "floor": f,
                "cells": {
                    u: sorted(placed.get((f, u), []), key=lambda c: c["door"]) for u in units
                },
            }
            for f in floors
        ],
        "other": other,
    }
