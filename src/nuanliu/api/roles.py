"""Roles, what each may do, and the data scope each gets.

| role | scope | personal data | may |
|---|---|---|---|
| regulator | regions (region, city or county ids) | masked | read everything in its regions |
| enterprise_admin | one enterprise | shown | read; edit registry; manage users; ingest; ack |
| enterprise_operator | one enterprise | masked | read; ingest; acknowledge alerts |
| steward | communities | shown | read its communities; acknowledge alerts there |
| resident | own household | shown | read own household |
| gateway | one enterprise | masked | ingest readings only (API token) |
| gov_steward | communities | shown | read its communities; supervise tickets (hotline) |
| hotline_operator | regions | shown | read; file complaints, import 12345, follow-up calls |

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
    # hotline (issue #10): the community's government steward (``steward`` is the
    # enterprise steward) and the service-line operator who logs calls and 12345 orders.
    GOV_STEWARD = "gov_steward"
    HOTLINE_OPERATOR = "hotline_operator"


class Permission(StrEnum):
    READ = "read"  # registry, monitoring, simulation within scope
    INGEST = "ingest"  # post readings for sensors in scope
    EDIT_REGISTRY = "edit_registry"
    ACKNOWLEDGE = "acknowledge"  # acknowledge alerts
    MANAGE_USERS = "manage_users"  # users of one's own enterprise
    READ_AUDIT = "read_audit"
    READ_NETWORK = "read_network"  # network twin results (operations data, not households)
    # hotline (issue #10)
    HOTLINE_FILE = "hotline_file"  # file a complaint (residents: their own household)
    HOTLINE_HANDLE = "hotline_handle"  # sign, visit, measure, fix, pause (enterprise side)
    HOTLINE_REASSIGN = "hotline_reassign"  # hand a ticket to another handler, with a reason
    HOTLINE_FOLLOWUP = "hotline_followup"  # the follow-up call: record confirmation or failure
    HOTLINE_CONFIRM = "hotline_confirm"  # the resident confirms or rejects the fix
    HOTLINE_IMPORT = "hotline_import"  # import 12345 work orders
    # control: accept, edit or reject a proposed supply-temperature schedule (调度)
    DISPATCH = "dispatch"
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

# control: enterprise admins and operators dispatch their own enterprise's schedules
PERMISSIONS[Role.ENTERPRISE_ADMIN] |= {Permission.DISPATCH}
PERMISSIONS[Role.ENTERPRISE_OPERATOR] |= {Permission.DISPATCH}

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

# --- hotline (issue #10): grants, scopes and names of the hotline roles ---------------
# The enterprise side handles; the government steward supervises (reads, reassigns, makes
# the follow-up call) but never signs or fixes; the operator files and follows up. Both
# new roles call residents back, so they see names and phones.
_HOTLINE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ENTERPRISE_ADMIN: frozenset(
        {
            Permission.HOTLINE_FILE,
            Permission.HOTLINE_HANDLE,
            Permission.HOTLINE_REASSIGN,
            Permission.HOTLINE_IMPORT,
        }
    ),
    Role.ENTERPRISE_OPERATOR: frozenset(
        {Permission.HOTLINE_FILE, Permission.HOTLINE_HANDLE, Permission.HOTLINE_REASSIGN}
    ),
    Role.STEWARD: frozenset({Permission.HOTLINE_FILE, Permission.HOTLINE_HANDLE}),
    Role.RESIDENT: frozenset({Permission.HOTLINE_FILE, Permission.HOTLINE_CONFIRM}),
    Role.GOV_STEWARD: frozenset(
        {Permission.READ, Permission.HOTLINE_REASSIGN, Permission.HOTLINE_FOLLOWUP}
    ),
    Role.HOTLINE_OPERATOR: frozenset(
        {
            Permission.READ,
            Permission.HOTLINE_FILE,
            Permission.HOTLINE_FOLLOWUP,
            Permission.HOTLINE_IMPORT,
        }
    ),
}
for _role, _grants in _HOTLINE_GRANTS.items():
    PERMISSIONS[_role] = PERMISSIONS.get(_role, frozenset()) | _grants
UNMASKED_ROLES = UNMASKED_ROLES | {Role.GOV_STEWARD, Role.HOTLINE_OPERATOR}
SCOPE_KIND[Role.GOV_STEWARD] = ("community", None)
SCOPE_KIND[Role.HOTLINE_OPERATOR] = ("region", None)
ROLE_NAMES_ZH[Role.GOV_STEWARD] = "政府管家"
ROLE_NAMES_ZH[Role.HOTLINE_OPERATOR] = "热线坐席"
# deployment (#15): who sees the platform's operations pages (scheduler runs and
# failures, user administration is MANAGE_USERS): regulators and enterprise admins.
OPERATIONS_ROLES = frozenset({Role.REGULATOR, Role.ENTERPRISE_ADMIN})
# billing (issue 11): enterprise admins run billing, import payments, manage meters.
PERMISSIONS[Role.ENTERPRISE_ADMIN] = PERMISSIONS[Role.ENTERPRISE_ADMIN] | {
    Permission.MANAGE_BILLING
}
