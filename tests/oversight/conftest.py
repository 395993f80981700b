"""The reports' town fixture (both engines) and users of each side."""

from __future__ import annotations

from nuanliu.api.accounts import User
from nuanliu.api.roles import Role
from tests.reports.conftest import store, town

__all__ = ["store", "town", "REGULATOR", "CITY_REGULATOR", "OP_E2", "OP_E1", "STEWARD"]

REGULATOR = User("u-reg", "reg_region", Role.REGULATOR, scope_ids=("R",))
CITY_REGULATOR = User("u-city", "reg_city", Role.REGULATOR, scope_ids=("C",))
OP_E2 = User("u-e2", "op_e2", Role.ENTERPRISE_OPERATOR, scope_ids=("E2",))
OP_E1 = User("u-e1", "op_e1", Role.ENTERPRISE_ADMIN, scope_ids=("E1",))
STEWARD = User("u-st", "steward", Role.STEWARD, scope_ids=("M",))
