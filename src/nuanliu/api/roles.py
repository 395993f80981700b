"""Roles, what each may do, and the data scope each gets.

| role | scope | personal data | may |
|---|---|---|---|
| regulator | regions (region, city or county ids) | masked | read everything in its regions |
| enterprise_admin | one enterprise | shown | read; edit registry; manage users; ingest; ack |
| enterprise_operator | one enterprise | masked | read; ingest; acknowledge alerts |
| steward | communities | shown | read its communities; acknowledge alerts there |
| resident | own household | shown | read own household |
| gateway | one enterprise | masked | ingest readings only (API token) |

Network twin results (operations data, not households) are open to regulators,
enterprise admins and operators.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REGULATOR = "regulator"
    ENTERPRISE_ADMIN = "enterprise_admin"
    ENTERPRISE_OPERATOR = "enterprise_operator"
    STEWARD = "steward"
    RESIDENT = "resident"
    GATEWAY = "gateway"


class Permission(StrEnum):
    READ = "read"  # registry, monitoring, simulation within scope
    INGEST = "ingest"  # post readings for sensors in scope
    EDIT_REGISTRY = "edit_registry"
    ACKNOWLEDGE = "acknowledge"  # acknowledge alerts
    MANAGE_USERS = "manage_users"  # users of one's own enterprise
    READ_AUDIT = "read_audit"
    READ_NETWORK = "read_network"  # network twin results (operations data, not households)
    MANAGE_BILLING = "manage_billing"  # billing: runs, payment imports, meters (issue 11)


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REGULATOR: frozenset({Permission.READ, Permission.READ_NETWORK}),
    Role.ENTERPRISE_ADMIN: frozenset(
        {
            Permission.READ,
            Permission.INGEST,
            Permission.EDIT_REGISTRY,
            Permission.ACKNOWLEDGE,
            Permission.MANAGE_USERS,
            Permission.READ_AUDIT,
            Permission.READ_NETWORK,
        }
    ),
    Role.ENTERPRISE_OPERATOR: frozenset(
        {Permission.READ, Permission.INGEST, Permission.ACKNOWLEDGE, Permission.READ_NETWORK}
    ),
    Role.STEWARD: frozenset({Permission.READ, Permission.ACKNOWLEDGE}),
    Role.RESIDENT: frozenset({Permission.READ}),
    Role.GATEWAY: frozenset({Permission.INGEST}),
}

# Roles that see resident names and phone numbers of households in their scope.
UNMASKED_ROLES = frozenset({Role.ENTERPRISE_ADMIN, Role.STEWARD, Role.RESIDENT})

# Scope kind each role is bound to, and how many ids it takes (None = one or more).
SCOPE_KIND: dict[Role, tuple[str, int | None]] = {
    Role.REGULATOR: ("region", None),
    Role.ENTERPRISE_ADMIN: ("enterprise", 1),
    Role.ENTERPRISE_OPERATOR: ("enterprise", 1),
    Role.STEWARD: ("community", None),
    Role.RESIDENT: ("household", 1),
    Role.GATEWAY: ("enterprise", 1),
}

ROLE_NAMES_ZH = {
    Role.REGULATOR: "监管部门",
    Role.ENTERPRISE_ADMIN: "供热企业管理员",
    Role.ENTERPRISE_OPERATOR: "供热企业值班员",
    Role.STEWARD: "社区管家",
    Role.RESIDENT: "居民",
    Role.GATEWAY: "数据网关",
}

# billing (issue 11): enterprise admins run billing, import payments, manage meters.
PERMISSIONS[Role.ENTERPRISE_ADMIN] = PERMISSIONS[Role.ENTERPRISE_ADMIN] | {
    Permission.MANAGE_BILLING
}
