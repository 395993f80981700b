"""The dashboard's main navigation: one entry per page family, with the roles that see it.

Each capability adds its entry here (one line); ``base.html`` renders the entries the
user's role may see, in this order.
"""

from __future__ import annotations

from typing import NamedTuple


class NavItem(NamedTuple):
    key: str  # the page's ``nav`` value
    label: str  # catalog key of the link text
    href: str
    roles: frozenset[str]


STAFF = frozenset({"regulator", "enterprise_admin", "enterprise_operator", "steward"})
EVERYONE = STAFF | {"resident"}

NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("overview", "nav.overview", "/", STAFF),
    NavItem("household", "nav.my_home", "/", frozenset({"resident"})),
    NavItem("drill", "nav.drill", "/drill", STAFF),
    NavItem("map", "nav.map", "/map", STAFF),
    NavItem("alerts", "nav.alerts", "/alerts", EVERYONE),
    NavItem("search", "nav.search", "/search", STAFF),
)


def nav_for(role: str) -> list[NavItem]:
    """The entries ``role`` sees, in order."""
    return [item for item in NAV_ITEMS if role in item.roles]
