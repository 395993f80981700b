"""The heating-season calendar: season labels, the season's first days, clock starts.

Hotline clocks run 24 × 7 inside the heating season (nights and holidays count). The
season's dates are settings (``hl_settings``: ``season_start`` and ``season_end`` as
``MM-DD`` local dates; Hohhot's published season runs 15 October – 15 April) — defaults,
never constants in code paths that cannot be changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nuanliu.errors import InvalidInput

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_SEASON_START = "10-15"
DEFAULT_SEASON_END = "04-15"
DEFAULT_EARLY_DAYS = 10  # "the first 10 days of the season" have longer on-site budgets


@dataclass(frozen=True)
class SeasonCalendar:
    start_mmdd: str = DEFAULT_SEASON_START
    end_mmdd: str = DEFAULT_SEASON_END
    early_days: int = DEFAULT_EARLY_DAYS

    def _mmdd(self, text: str, year: int) -> date:
        try:
            month, day = (int(p) for p in text.split("-"))
            return date(year, month, day)
        except ValueError:
            raise InvalidInput(
                f"season date {text!r} is not MM-DD", details={"field": "season", "value": text}
            ) from None

    def season_label(self, at: datetime) -> str:
        """``"2026-2027"`` for any time from the 2026 season's start to the next one."""
        local = at.astimezone(LOCAL_TZ).date()
        first = self._mmdd(self.start_mmdd, local.year)
        year = local.year if local >= first else local.year - 1
        return f"{year}-{year + 1}"

    def bounds(self, season: str) -> tuple[datetime, datetime]:
        """UTC start (inclusive) and end (exclusive) of the season ``"YYYY-YYYY"``."""
        try:
            year = int(season.split("-")[0])
        except ValueError:
            raise InvalidInput(
                f"season {season!r} is not YYYY-YYYY", details={"field": "season", "value": season}
            ) from None
        start = self._mmdd(self.start_mmdd, year)
        end = self._mmdd(self.end_mmdd, year + 1) + timedelta(days=1)
        return (
            datetime.combine(start, time(), LOCAL_TZ).astimezone(UTC),
            datetime.combine(end, time(), LOCAL_TZ).astimezone(UTC),
        )

    def season_part(self, at: datetime) -> str:
        """``early`` in the first ``early_days`` of the season, else ``normal``."""
        start, _ = self.bounds(self.season_label(at))
        return "early" if at < start + timedelta(days=self.early_days) else "normal"

    def clock_start(self, at: datetime) -> datetime:
        """When a clock started at ``at`` begins counting: at once inside the season;
        at the season's start for a ticket filed in the days before it."""
        start, end = self.bounds(self.season_label(at))
        if at >= end:  # between seasons: the next season's start
            nxt, _ = self.bounds(f"{start.year + 1}-{start.year + 2}")
            return nxt
        return at


def load_calendar(q: Any) -> SeasonCalendar:
    """The calendar from ``hl_settings`` (defaults for keys not set)."""
    rows = dict(
        q.all(
            "SELECT key, value FROM hl_settings WHERE key IN"
            " ('season_start', 'season_end', 'season_early_days')"
        )
    )
    return SeasonCalendar(
        start_mmdd=rows.get("season_start", DEFAULT_SEASON_START),
        end_mmdd=rows.get("season_end", DEFAULT_SEASON_END),
        early_days=int(rows.get("season_early_days", DEFAULT_EARLY_DAYS)),
    )
