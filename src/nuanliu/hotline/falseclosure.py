"""False-closure check (假办结): a temperature ticket marked fixed whose household stays
below the standard in the following 24 h is reopened automatically and flagged.

"Stays below" = in the 24 h after the fix, the household's sensors reported at least
``MIN_HOURS`` hourly means and at least ``BELOW_SHARE`` of them were below its standard.
A ticket is judged once per fix (``fix_checked_at``), when the 24 h have passed; tickets
closed by a *failed* follow-up are judged too (nobody confirmed them), tickets the
resident confirmed are not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

WINDOW = timedelta(hours=24)
MIN_HOURS = 12
BELOW_SHARE = 0.5

_CANDIDATES = """
SELECT t.ticket_id, t.household_id, t.fixed_at, COALESCE(hc.standard_temp_c, 18.0) AS std_c
FROM hl_tickets t JOIN household_context hc ON hc.household_id = t.household_id
WHERE t.category IN ('temp_low', 'no_heat') AND t.fixed_at IS NOT NULL
  AND t.fixed_at <= ?
  AND (t.fix_checked_at IS NULL OR t.fix_checked_at <> t.fixed_at)
  AND (t.state = 'fixed' OR (t.state = 'closed' AND t.closure = 'followup_failed'))
"""

_HOURS = """
SELECT COUNT(*), SUM(CASE WHEN x.mean_c < ? THEN 1 ELSE 0 END), AVG(x.mean_c) FROM (
    SELECT h.hour_ts, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c
    FROM mon_sensor_hourly h JOIN sensors s ON s.sensor_id = h.sensor_id
    WHERE s.household_id = ? AND h.hour_ts >= ? AND h.hour_ts < ?
    GROUP BY h.hour_ts
) x
"""


def judge(q: Any, household_id: str, fixed_at: datetime, std_c: float) -> dict[str, Any]:
    """The 24 h after a fix: hours reported, hours below, mean; and the verdict."""
    start = fixed_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    row = q.one(_HOURS, [std_c, household_id, start, start + WINDOW]) or (0, 0, None)
    hours, below = int(row[0] or 0), int(row[1] or 0)
    still_cold = hours >= MIN_HOURS and below >= BELOW_SHARE * hours
    return {
        "hours_reported": hours,
        "hours_below": below,
        "mean_c": float(row[2]) if row[2] is not None else None,
        "standard_temp_c": std_c,
        "still_cold": still_cold,
    }


def candidates(q: Any, now: datetime) -> list[dict[str, Any]]:
    return q.dicts(_CANDIDATES, [now - WINDOW])
