"""Search homes by address, building, resident name or phone — within the caller's scope.

Roles that may not see personal data (``Scope.mask_personal``) search addresses and
building names only: matching on a name or phone would reveal whose flat it is even
with the result masked. The user's text is a literal: ``%`` and ``_`` are escaped in
the LIKE pattern, so ``_`` finds an underscore, not every row.
"""

from __future__ import annotations

from typing import Any

from nuanliu.scope import Scope
from nuanliu.web.data import mask_text

MAX_RESULTS = 100
MIN_CHARS = 1
ESCAPE = "\\"


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards in ``text`` taken literally (escape ``\\``)."""
    escaped = (
        text.replace(ESCAPE, ESCAPE + ESCAPE).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    )
    return f"%{escaped.lower()}%"


def search_households(
    store: Any, scope: Scope, text: str, *, limit: int = MAX_RESULTS
) -> list[dict[str, Any]]:
    """Households in scope whose address, building name or (unmasked roles) resident
    name or phone contains ``text`` (case-insensitive), with what matched."""
    text = text.strip()
    if len(text) < MIN_CHARS:
        return []
    fields = ["h.address", "b.name_zh", "b.name_en", "b.address"]
    if not scope.mask_personal:
        fields += ["h.resident_name", "h.resident_phone"]
    like = " OR ".join(f"LOWER(COALESCE({f}, '')) LIKE ? ESCAPE '{ESCAPE}'" for f in fields)
    where, params = scope.where("hc")
    pattern = like_pattern(text)
    sql = f"""
        SELECT h.household_id, h.address, h.building_id, h.resident_name, h.resident_phone
        FROM households h
        JOIN household_context hc ON hc.household_id = h.household_id
        LEFT JOIN buildings b ON b.building_id = h.building_id
        WHERE ({where}) AND ({like})
        ORDER BY h.household_id
        LIMIT {int(limit)}
    """
    with store.read() as q:
        rows = q.all(sql, [*params, *([pattern] * len(fields))])
    needle = text.lower()
    out = []
    for hid, address, bid, name, phone in rows:
        personal = {"name": name or "", "phone": phone or ""}
        matched = "address"
        if not scope.mask_personal:
            if needle in (name or "").lower():
                matched = "name"
            elif needle in (phone or "").lower():
                matched = "phone"
        if scope.mask_personal:
            personal = {"name": mask_text(name), "phone": mask_text(phone, keep=3)}
        out.append(
            {
                "household_id": str(hid),
                "address": address or "",
                "building_id": str(bid),
                "resident_name": personal["name"],
                "resident_phone": personal["phone"],
                "matched": matched,
            }
        )
    return out
