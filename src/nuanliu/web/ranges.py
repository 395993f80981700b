"""The time-range picker every chart and list shares: today, 7 days, 30 days, the
heating season so far (Hohhot's season starts on 15 October; local days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import Request

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
PRESETS = ("today", "7d", "30d", "season")
DEFAULT = "7d"
SEASON_START = (10, 15)  # month, day


@dataclass(frozen=True)
class Range:
    key: str
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive (today)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def start_utc(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), LOCAL_TZ)


def season_start(today: date) -> date:
    year = today.year if (today.month, today.day) >= SEASON_START else today.year - 1
    return date(year, *SEASON_START)


def resolve(key: str | None, now: datetime, default: str = DEFAULT) -> Range:
    """The preset ``key`` (an unknown one falls back to ``default``) ending today."""
    key = key if key in PRESETS else default
    today = now.astimezone(LOCAL_TZ).date()
    first = {
        "today": today,
        "7d": today - timedelta(days=6),
        "30d": today - timedelta(days=29),
        "season": season_start(today),
    }[key]
    return Range(key, first, today)


def from_request(request: Request, now: datetime, default: str = DEFAULT) -> Range:
    return resolve(request.query_params.get("range"), now, default)


def range_links(request: Request) -> list[tuple[str, str]]:
    """``(preset, url)`` of this page for each preset, other parameters kept."""
    from urllib.parse import urlencode

    out = []
    for key in PRESETS:
        params = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("range", "format")
        ]
        out.append((key, request.url.path + "?" + urlencode([*params, ("range", key)])))
    return out
