"""The hotline's vocabulary: ticket categories, states, channels, steps, outcomes."""

from __future__ import annotations

from enum import StrEnum

from nuanliu.errors import InvalidInput


class Category(StrEnum):
    TEMP_LOW = "temp_low"  # room temperature below standard
    NO_HEAT = "no_heat"  # no heat / outage
    LEAK = "leak"
    NOISE = "noise"
    BILLING = "billing"
    ATTITUDE = "attitude"  # service attitude
    OTHER = "other"


class State(StrEnum):
    NEW = "new"  # filed, waiting to be signed
    SIGNED = "signed"  # the enterprise steward took it (签收)
    ON_SITE = "on_site"  # the steward arrived at the household
    MEASURED = "measured"  # room temperatures measured on site
    FIXED = "fixed"  # the enterprise says the cause is fixed; waits for the resident
    REOPENED = "reopened"  # the resident rejected the fix, or the sensor contradicts it
    CLOSED = "closed"


class Channel(StrEnum):
    HOTLINE = "hotline"  # a call logged by the hotline operator
    RESIDENT = "resident"  # the resident's own page
    CITY_12345 = "12345"  # a 12345 work order
    API = "api"


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"  # basically satisfied
    DISSATISFIED = "dissatisfied"


class Step(StrEnum):
    """SLA steps, each with its own clock."""

    SIGN = "sign"
    ARRIVE = "arrive"
    MEASURE = "measure"
    FIX = "fix"
    FOLLOWUP = "followup"  # the follow-up call after the fix (回访)
    FEEDBACK = "feedback"  # the reply to 12345


class PauseReason(StrEnum):
    """The only causes that may stop an SLA clock: all on the resident's side."""

    NOT_HOME = "resident_not_home"
    REFUSED_ENTRY = "resident_refused_entry"
    RESCHEDULED = "resident_rescheduled"


# Categories about the room temperature: measured on site, checked for false closure.
TEMPERATURE_CATEGORIES = frozenset({Category.TEMP_LOW, Category.NO_HEAT})
# Categories that need someone at the household.
SITE_CATEGORIES = frozenset({Category.TEMP_LOW, Category.NO_HEAT, Category.LEAK, Category.NOISE})
OPEN_STATES = frozenset(s for s in State if s is not State.CLOSED)


def parse(enum: type[StrEnum], value: object, field: str) -> StrEnum:
    """``value`` as a member of ``enum``; InvalidInput naming the field and the choices."""
    try:
        return enum(str(value).strip())
    except ValueError:
        allowed = [str(m) for m in enum]
        raise InvalidInput(
            f"{field} {value!r} is not one of {', '.join(allowed)}",
            details={"field": field, "value": str(value), "allowed": allowed},
        ) from None
