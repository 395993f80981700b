"""Finding the household a caller means: by id, address, phone or name, within a scope."""

from __future__ import annotations

import re
from typing import Any

from nuanliu.registry.masking import mask_name, mask_phone
from nuanliu.scope import Scope

MAX_MATCHES = 20


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def find_households(q: Any, scope: Scope, text: str, *, limit: int = MAX_MATCHES):
    """Households in ``scope`` whose id, address, phone or resident name matches ``text``.

    An exact id, phone or address match comes first; otherwise a substring of the
    address or name (at least 2 characters). Names and phones are masked when the scope
    says so.
    """
    text = (text or "").strip()
    if len(text) < 2:
        return []
    cond, params = scope.where("hc")
    digits = _digits(text)
    like = f"%{text}%"
    rows = q.dicts(
        "SELECT h.household_id, h.address, h.resident_name, h.resident_phone,"
        " hc.community_id, c.name_zh AS community_zh, c.name_en AS community_en,"
        " CASE WHEN h.household_id = ? OR h.address = ? THEN 0"
        "      WHEN ? <> '' AND REPLACE(REPLACE(h.resident_phone, '-', ''), ' ', '') = ? THEN 0"
        "      ELSE 1 END AS rank"
        " FROM households h JOIN household_context hc ON hc.household_id = h.household_id"
        " LEFT JOIN communities c ON c.community_id = hc.community_id"
        f" WHERE ({cond}) AND (h.household_id = ? OR h.address LIKE ? OR h.resident_name LIKE ?"
        "   OR (? <> '' AND REPLACE(REPLACE(h.resident_phone, '-', ''), ' ', '') LIKE ?))"
        " ORDER BY rank, h.household_id LIMIT ?",
        [text, text, digits, digits, *params, text, like, like, digits, f"%{digits}%", limit],
    )
    if scope.mask_personal:
        for r in rows:
            r["resident_name"] = mask_name(r["resident_name"])
            r["resident_phone"] = mask_phone(r["resident_phone"])
    return rows


def resolve_household(
    q: Any, scope: Scope, *, household_id: str = "", address: str = "", phone: str = ""
) -> tuple[str | None, str | None]:
    """One household for an imported order: ``(id, None)`` or ``(None, reason)``.

    Tried in order: the household id, the exact address, the exact phone; a phone shared
    by several households is ambiguous (reason given) rather than guessed.
    """
    cond, params = scope.where("hc")
    base = (
        "SELECT h.household_id FROM households h"
        " JOIN household_context hc ON hc.household_id = h.household_id"
        f" WHERE ({cond}) AND "
    )
    tries: list[tuple[str, str, str]] = []
    if household_id.strip():
        tries.append(("household_id", "h.household_id = ?", household_id.strip()))
    if address.strip():
        tries.append(("address", "h.address = ?", address.strip()))
    if _digits(phone):
        tries.append(
            (
                "phone",
                "REPLACE(REPLACE(h.resident_phone, '-', ''), ' ', '') = ?",
                _digits(phone),
            )
        )
    if not tries:
        return None, "no household id, address or phone to find the household by"
    for field, test, value in tries:
        found = [r[0] for r in q.all(base + test + " LIMIT 3", [*params, value])]
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            return None, f"{field} {value!r} matches {len(found)} households"
    fields = ", ".join(f for f, _, _ in tries)
    return None, f"no household in scope matches the {fields} given"
