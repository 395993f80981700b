"""One login per role for the demo, bound to real rows of the registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nuanliu.api.accounts import create_user, find_user
from nuanliu.api.roles import Role
from nuanliu.errors import InvalidInput


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    scope: tuple[str, ...]


def _first(q: Any, sql: str, params: list[Any], what: str) -> str:
    value = q.scalar(sql, params)
    if value is None:
        raise InvalidInput(f"the registry has no {what}; import or build one before demo users")
    return str(value)


def demo_scopes(store: Any) -> dict[Role, list[str]]:
    """The first city, enterprise, community and household (by id) the demo binds to."""
    with store.read() as q:
        city = _first(
            q,
            "SELECT region_id FROM regions WHERE level = 'city' ORDER BY region_id LIMIT 1",
            [],
            "city",
        )
        enterprise = _first(
            q,
            "SELECT enterprise_id FROM enterprises ORDER BY enterprise_id LIMIT 1",
            [],
            "enterprise",
        )
        community = _first(
            q,
            "SELECT community_id FROM household_context WHERE enterprise_id = ?"
            " ORDER BY community_id LIMIT 1",
            [enterprise],
            "community with households",
        )
        household = _first(
            q,
            "SELECT household_id FROM household_context WHERE community_id = ?"
            " ORDER BY household_id LIMIT 1",
            [community],
            "household",
        )
    return {
        Role.REGULATOR: [city],
        Role.ENTERPRISE_ADMIN: [enterprise],
        Role.ENTERPRISE_OPERATOR: [enterprise],
        Role.STEWARD: [community],
        Role.RESIDENT: [household],
        Role.GATEWAY: [enterprise],
    }


# Display names of the demo logins (people's names are data, shown as written).
DEMO_NAMES = {
    "regulator": "赵监管",
    "enterprise_admin": "钱经理",
    "enterprise_operator": "孙调度",
    "steward": "李管家",
    "resident": "周女士",
    "gateway": "数据网关",
}


def create_demo_users(store: Any, *, password: str = "nuanliu-demo") -> list[DemoLogin]:
    """Create (or reuse) ``demo-<role>`` users; returns their logins for the demo to print."""
    logins = []
    for role, ids in demo_scopes(store).items():
        username = f"demo-{role.value.replace('_', '-')}"
        existing = find_user(store, username)
        if existing is None:
            create_user(
                store,
                username=username,
                password=password,
                role=role,
                scope_ids=ids,
                display_name=DEMO_NAMES.get(role.value, username),
            )
        else:
            ids = list(existing.scope_ids)
        logins.append(DemoLogin(username, password, role.value, tuple(ids)))
    return logins
