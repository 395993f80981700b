"""What a report covers: one regulator level (region, city, county) or one enterprise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuanliu.errors import InvalidInput, NotFound, PermissionDenied
from nuanliu.scope import Scope

REPORT_LEVELS = ("region", "city", "county", "enterprise")


@dataclass(frozen=True)
class ReportScope:
    level: str
    unit_id: str

    @classmethod
    def parse(cls, text: str) -> ReportScope:
        """``level:id``, e.g. ``city:HH`` or ``enterprise:E1``."""
        level, sep, unit = text.partition(":")
        if not sep or level not in REPORT_LEVELS or not unit:
            raise InvalidInput(
                f"report scope {text!r} must be level:id with level one of "
                f"{', '.join(REPORT_LEVELS)}",
                details={"field": "scope", "value": text},
            )
        return cls(level, unit)

    @property
    def key(self) -> str:
        return f"{self.level}:{self.unit_id}"

    def data_scope(self) -> Scope:
        """The households the report counts."""
        if self.level == "enterprise":
            return Scope(enterprise_ids=frozenset({self.unit_id}))
        return Scope(region_ids=frozenset({self.unit_id}))

    def names(self, store: Any) -> tuple[str, str]:
        """(name_zh, name_en); NotFound for an unknown unit."""
        table, key = (
            ("enterprises", "enterprise_id")
            if self.level == "enterprise"
            else ("regions", "region_id")
        )
        with store.read() as q:
            row = q.one(f"SELECT name_zh, name_en FROM {table} WHERE {key} = ?", [self.unit_id])
        if row is None:
            raise NotFound(f"{self.level} {self.unit_id!r} not found", details={"scope": self.key})
        return str(row[0]), str(row[1] or row[0])


def region_chain(store: Any, region_id: str) -> list[str]:
    """``region_id`` and its ancestors, nearest first."""
    chain: list[str] = []
    current: str | None = region_id
    with store.read() as q:
        while current is not None and current not in chain:
            chain.append(current)
            row = q.one("SELECT parent_id FROM regions WHERE region_id = ?", [current])
            current = row[0] if row else None
    return chain


def enterprise_region(store: Any, enterprise_id: str) -> str:
    with store.read() as q:
        row = q.one("SELECT region_id FROM enterprises WHERE enterprise_id = ?", [enterprise_id])
    if row is None:
        raise NotFound(
            f"enterprise {enterprise_id!r} not found", details={"enterprise_id": enterprise_id}
        )
    return str(row[0])


def may_see(store: Any, user: Any, rs: ReportScope) -> bool:
    """A regulator sees reports of its regions and everything below them; an enterprise
    user only its own enterprise's; other roles none."""
    role = str(user.role)
    ids = set(user.scope_ids)
    if role == "regulator":
        if rs.level == "enterprise":
            return bool(ids & set(region_chain(store, enterprise_region(store, rs.unit_id))))
        return bool(ids & set(region_chain(store, rs.unit_id)))
    if role in ("enterprise_admin", "enterprise_operator"):
        return rs.level == "enterprise" and rs.unit_id in ids
    return False


def check_may_see(store: Any, user: Any, rs: ReportScope) -> None:
    """NotFound (not revealed) when the user may not see the scope's reports."""
    role = str(user.role)
    if role not in ("regulator", "enterprise_admin", "enterprise_operator"):
        raise PermissionDenied(f"role {role} has no reports", details={"role": role})
    try:
        ok = may_see(store, user, rs)
    except NotFound:
        ok = False
    if not ok:
        raise NotFound(f"report scope {rs.key} not found", details={"scope": rs.key})


def default_scope(store: Any, user: Any) -> ReportScope:
    """The report scope a user lands on: a regulator's first region, an enterprise's own."""
    role = str(user.role)
    if role == "regulator" and user.scope_ids:
        region_id = sorted(user.scope_ids)[0]
        with store.read() as q:
            row = q.one("SELECT level FROM regions WHERE region_id = ?", [region_id])
        return ReportScope(str(row[0]) if row else "region", region_id)
    if role in ("enterprise_admin", "enterprise_operator") and user.scope_ids:
        return ReportScope("enterprise", user.scope_ids[0])
    raise PermissionDenied(f"role {role} has no reports", details={"role": role})
