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

OPERATORS = frozenset({"regulator", "enterprise_admin"})  # deployment (#15) pages
OPERATIONS = frozenset({"regulator", "enterprise_admin", "enterprise_operator"})  # twin side

NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("overview", "nav.overview", "/", STAFF),
    NavItem("household", "nav.my_home", "/", frozenset({"resident"})),
    NavItem("drill", "nav.drill", "/drill", STAFF),
    NavItem("map", "nav.map", "/map", STAFF),
    NavItem("alerts", "nav.alerts", "/alerts", EVERYONE),
    NavItem("search", "nav.search", "/search", STAFF),
    NavItem("reports", "nav.oversight", "/reports", OPERATIONS),  # oversight (#9)
    # hotline (#10): the queue for staff and both stewards; the resident's own page
    NavItem("hotline", "hotline.nav", "/hotline", STAFF | {"gov_steward", "hotline_operator"}),
    NavItem("hotline_mine", "hotline.nav_mine", "/hotline/mine", frozenset({"resident"})),
    NavItem("billing", "nav.billing", "/billing", STAFF),  # billing (#11)
    NavItem("billing", "nav.my_bill", "/billing", frozenset({"resident"})),
    NavItem("telemetry", "nav.telemetry", "/telemetry", OPERATIONS),  # telemetry (#12)
    NavItem("control", "nav.control", "/control", OPERATIONS),  # on-demand heating (#13)
    NavItem("scheduler", "nav.ops_scheduler", "/scheduler", OPERATORS),  # operations (#15)
    NavItem("admin", "nav.ops_admin", "/admin/users", frozenset({"enterprise_admin"})),
)


def nav_for(role: str) -> list[NavItem]:
    """The entries ``role`` sees, in order."""
    return [item for item in NAV_ITEMS if role in item.roles]
