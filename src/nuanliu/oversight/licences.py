"""Heating operating licences (供热经营许可): number, holder, areas, heated area,
validity, state with reasons and history, documents; warnings before expiry.

The stored state is the decision (valid, suspended, revoked); a valid licence past its
``valid_to`` day is *expired*. An enterprise's licence state on a day is the best of its
licences (valid > suspended > expired > revoked), ``none`` when it holds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from nuanliu.errors import Conflict, InvalidInput, NotFound
from nuanliu.oversight.records import audit, dumps, loads, new_id
from nuanliu.web.i18n import translate

DECIDED_STATES = ("valid", "suspended", "revoked")
STATES = (*DECIDED_STATES, "expired")
_RANK = {"valid": 0, "suspended": 1, "expired": 2, "revoked": 3, "none": 4}
# Which decided state may follow which (revocation is final).
_MOVES = {"valid": {"suspended", "revoked"}, "suspended": {"valid", "revoked"}, "revoked": set()}
WARN_DAYS = 60


def state_label(state: str, lang: str) -> str:
    labels = {
        "valid": translate("oversight.licence_state.valid", lang),
        "suspended": translate("oversight.licence_state.suspended", lang),
        "revoked": translate("oversight.licence_state.revoked", lang),
        "expired": translate("oversight.licence_state.expired", lang),
        "none": translate("oversight.licence_state.none", lang),
    }
    return labels.get(state, state)


@dataclass(frozen=True)
class Licence:
    licence_id: str
    licence_no: str
    enterprise_id: str
    holder_name: str
    region_ids: list[str]
    station_ids: list[str]
    heated_area_m2: float | None
    valid_from: date
    valid_to: date
    state: str  # decided state
    state_reason: str

    def state_on(self, day: date) -> str:
        if self.state == "valid" and day > self.valid_to:
            return "expired"
        return self.state

    def expires_within(self, day: date, days: int = WARN_DAYS) -> bool:
        return self.state_on(day) == "valid" and self.valid_to - day <= timedelta(days=days)


_COLS = (
    "licence_id, licence_no, enterprise_id, holder_name, region_ids, station_ids,"
    " heated_area_m2, valid_from, valid_to, state, state_reason"
)


def _licence(row: tuple) -> Licence:
    return Licence(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        loads(row[4], []),
        loads(row[5], []),
        None if row[6] is None else float(row[6]),
        _day(row[7]),
        _day(row[8]),
        str(row[9]),
        str(row[10] or ""),
    )


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def add_licence(
    store: Any,
    *,
    licence_no: str,
    enterprise_id: str,
    holder_name: str,
    valid_from: date,
    valid_to: date,
    region_ids: list[str] | None = None,
    station_ids: list[str] | None = None,
    heated_area_m2: float | None = None,
    by: Any = None,
) -> Licence:
    if valid_to < valid_from:
        raise InvalidInput(
            f"licence {licence_no}: valid_to {valid_to} is before valid_from {valid_from}",
            details={"field": "valid_to", "value": str(valid_to)},
        )
    if heated_area_m2 is not None and heated_area_m2 < 0:
        raise InvalidInput(
            f"licence {licence_no}: heated_area_m2 {heated_area_m2} is negative",
            details={"field": "heated_area_m2", "value": heated_area_m2},
        )
    now = datetime.now(UTC)
    lid = new_id("LIC")
    with store.write() as w:
        if w.one("SELECT 1 FROM enterprises WHERE enterprise_id = ?", [enterprise_id]) is None:
            raise NotFound(
                f"enterprise {enterprise_id!r} not found", details={"enterprise_id": enterprise_id}
            )
        if w.one("SELECT 1 FROM ov_licences WHERE licence_no = ?", [licence_no]):
            raise Conflict(
                f"licence number {licence_no!r} exists", details={"licence_no": licence_no}
            )
        w.execute(
            f"INSERT INTO ov_licences ({_COLS}, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                lid,
                licence_no,
                enterprise_id,
                holder_name,
                dumps(region_ids or []),
                dumps(station_ids or []),
                heated_area_m2,
                valid_from,
                valid_to,
                "valid",
                "",
                now,
            ],
        )
        w.execute(
            "INSERT INTO ov_licence_events VALUES (?,?,?,?,?,?,?)",
            [new_id("LE"), lid, now, _actor(by), None, "valid", "granted"],
        )
    audit(store, by, "licence_grant", "licence", lid, None, {"licence_no": licence_no})
    return get_licence(store, lid)


def _actor(by: Any) -> str:
    return str(getattr(by, "username", by) or "system")


def get_licence(store: Any, licence_id: str) -> Licence:
    with store.read() as q:
        row = q.one(f"SELECT {_COLS} FROM ov_licences WHERE licence_id = ?", [licence_id])
    if row is None:
        raise NotFound(f"licence {licence_id!r} not found", details={"licence_id": licence_id})
    return _licence(row)


def list_licences(store: Any, enterprise_ids: list[str] | None = None) -> list[Licence]:
    with store.read() as q:
        rows = q.all(f"SELECT {_COLS} FROM ov_licences ORDER BY enterprise_id, licence_no")
    out = [_licence(r) for r in rows]
    if enterprise_ids is not None:
        keep = set(enterprise_ids)
        out = [lic for lic in out if lic.enterprise_id in keep]
    return out


def licence_history(store: Any, licence_id: str) -> list[dict[str, Any]]:
    with store.read() as q:
        return q.dicts(
            "SELECT occurred_at, actor, from_state, to_state, reason FROM ov_licence_events"
            " WHERE licence_id = ? ORDER BY occurred_at",
            [licence_id],
        )


def set_state(store: Any, licence_id: str, state: str, reason: str, *, by: Any = None) -> Licence:
    """Decide a licence's state (suspend, reinstate, revoke) with a reason; audited."""
    if state not in DECIDED_STATES:
        raise InvalidInput(
            f"licence state {state!r} is not one of {', '.join(DECIDED_STATES)}",
            details={"field": "state", "value": state},
        )
    if not reason.strip():
        raise InvalidInput("a licence state change needs a reason", details={"field": "reason"})
    lic = get_licence(store, licence_id)
    if state not in _MOVES[lic.state]:
        raise Conflict(
            f"licence {lic.licence_no} cannot go from {lic.state} to {state}",
            details={"licence_id": licence_id, "from": lic.state, "to": state},
        )
    now = datetime.now(UTC)
    with store.write() as w:
        w.execute(
            "UPDATE ov_licences SET state = ?, state_reason = ?, updated_at = ?"
            " WHERE licence_id = ?",
            [state, reason, now, licence_id],
        )
        w.execute(
            "INSERT INTO ov_licence_events VALUES (?,?,?,?,?,?,?)",
            [new_id("LE"), licence_id, now, _actor(by), lic.state, state, reason],
        )
    audit(
        store,
        by,
        "licence_state",
        "licence",
        licence_id,
        {"state": lic.state},
        {"state": state, "reason": reason},
    )
    return get_licence(store, licence_id)


def licence_states(store: Any, enterprise_ids: list[str], day: date) -> dict[str, str]:
    """Each enterprise's best licence state on ``day`` (``none`` without a licence)."""
    best = {e: "none" for e in enterprise_ids}
    for lic in list_licences(store, enterprise_ids):
        s = lic.state_on(day) if lic.valid_from <= day else "none"
        if _RANK[s] < _RANK[best[lic.enterprise_id]]:
            best[lic.enterprise_id] = s
    return best


def licence_expiry(store: Any, enterprise_ids: list[str], day: date) -> dict[str, date]:
    """The last validity day of each enterprise's licences valid on ``day``."""
    out: dict[str, date] = {}
    for lic in list_licences(store, enterprise_ids):
        if lic.valid_from <= day and lic.state_on(day) == "valid":
            out[lic.enterprise_id] = max(out.get(lic.enterprise_id, lic.valid_to), lic.valid_to)
    return out


def expiring(store: Any, day: date, days: int = WARN_DAYS) -> list[Licence]:
    """Valid licences whose validity ends within ``days`` of ``day`` (the warning list)."""
    return [lic for lic in list_licences(store) if lic.expires_within(day, days)]
