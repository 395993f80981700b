"""Compensation for households confirmed below the standard too long (the billing seam).

A household is *confirmed* below standard when an on-site visit of a temperature ticket
measured a room below its standard (``below_confirmed_at``). The cold period runs from
the complaint (ticket creation) to the fix that held (``fixed_at`` of a closed ticket),
or to now / the season's end while the ticket is open. Past ``threshold_hours``
(``hl_settings.compensation_threshold_h``, default 48 h) the household is owed
compensation for the whole period, counted in days by ``compensation_rounding``
(``ceil``: every started day counts — the default; ``floor``: whole days only).

Billing computes the money (it knows the tariff); ``refund_yuan`` is the area-price rule
the pages show: area × price per m² × days / season days, rounded half-up to the fen.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from nuanliu.hotline.calendar import load_calendar
from nuanliu.seams import CompensationClaim

DEFAULT_THRESHOLD_H = 48.0
DEFAULT_PRICE_YUAN_M2 = Decimal("22.00")  # area price per m² and season (a default)


def rule(q: Any) -> tuple[float, str]:
    rows = dict(
        q.all(
            "SELECT key, value FROM hl_settings WHERE key IN"
            " ('compensation_threshold_h', 'compensation_rounding')"
        )
    )
    return (
        float(rows.get("compensation_threshold_h", DEFAULT_THRESHOLD_H)),
        rows.get("compensation_rounding", "ceil"),
    )


def compensable_days(below: timedelta, threshold_h: float, rounding: str) -> Decimal:
    """Days owed for a cold period of ``below`` (0 up to the threshold)."""
    hours = below.total_seconds() / 3600.0
    if hours <= threshold_h:
        return Decimal(0)
    days = hours / 24.0
    return Decimal(math.floor(days) if rounding == "floor" else math.ceil(days))


def compensation_claims(
    store: Any, *, household_ids: list[str] | None, season: str, now: datetime | None = None
) -> list[CompensationClaim]:
    """One claim per ticket whose confirmed cold period exceeds the threshold.

    Periods of one household never overlap in the result: a later ticket's period
    starts where the earlier one ended, so a day is never compensated twice.
    """
    now = now or datetime.now(UTC)
    with store.read() as q:
        threshold_h, rounding = rule(q)
        _, season_end = load_calendar(q).bounds(season)
        where, params = "t.season = ? AND t.below_confirmed_at IS NOT NULL", [season]
        if household_ids is not None:
            if not household_ids:
                return []
            where += f" AND t.household_id IN ({', '.join('?' for _ in household_ids)})"
            params += list(household_ids)
        rows = q.all(
            "SELECT t.ticket_id, t.household_id, t.created_at, t.state, t.fixed_at"
            f" FROM hl_tickets t WHERE {where}"
            " AND t.category IN ('temp_low', 'no_heat')"
            " ORDER BY t.household_id, t.created_at",
            params,
        )
    claims: list[CompensationClaim] = []
    last_until: dict[str, datetime] = {}
    for ticket_id, household_id, created, state, fixed in rows:
        start = max(created, last_until.get(household_id, created))
        until = fixed if state == "closed" and fixed is not None else min(now, season_end)
        if until <= start:
            continue
        last_until[household_id] = until
        days = compensable_days(until - start, threshold_h, rounding)
        if days > 0:
            claims.append(
                CompensationClaim(
                    household_id=household_id,
                    season=season,
                    ticket_id=ticket_id,
                    below_from=start,
                    below_until=until,
                    days=days,
                )
            )
    return claims


def refund_yuan(
    days: Decimal, area_m2: float, *, price_yuan_m2: Decimal, season_days: int
) -> Decimal:
    """Area price pro rata for ``days`` of the season, half-up to the fen."""
    if season_days <= 0:
        return Decimal("0.00")
    raw = Decimal(str(area_m2)) * price_yuan_m2 * days / Decimal(season_days)
    return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
