"""Cron schedules in a local time zone, and the slot a job is due for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from nuanliu.errors import InvalidInput


@dataclass(frozen=True)
class Schedule:
    """A five-field cron expression read in ``timezone`` (wall-clock times there)."""

    cron: str
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.cron):
            raise InvalidInput(f"schedule {self.cron!r} is not a valid cron expression")
        try:
            ZoneInfo(self.timezone)
        except Exception as exc:
            raise InvalidInput(f"schedule time zone {self.timezone!r} is unknown") from exc

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise InvalidInput("schedule times must be timezone-aware")
        return at.astimezone(ZoneInfo(self.timezone))

    def latest_slot(self, now: datetime) -> datetime:
        """The newest scheduled instant at or before ``now`` (UTC)."""
        local = self._local(now)
        # croniter's get_prev is strictly before; an instant exactly on a slot is due.
        if local.second == 0 and local.microsecond == 0 and croniter.match(self.cron, local):
            return local.astimezone(UTC)
        return croniter(self.cron, local).get_prev(datetime).astimezone(UTC)

    def next_slot(self, now: datetime) -> datetime:
        """The first scheduled instant after ``now`` (UTC)."""
        return croniter(self.cron, self._local(now)).get_next(datetime).astimezone(UTC)
