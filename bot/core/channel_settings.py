"""Per-channel delivery settings: digests and quiet hours, and the times they imply.

Pure time arithmetic on aware datetimes with IANA zones (zoneinfo), so daylight saving
moves a local "08:00" to the right UTC instant every day. Wall times that do not exist
on a spring-forward day resolve the way zoneinfo does (fold=0, the offset before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """A digest or quiet-hours setting the bot cannot read; the message says what to type."""


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    every: Literal["hourly", "daily"]
    at: time | None = None  # daily: the local time the digest goes out
    zone: str = "UTC"

    def describe(self) -> str:
        if self.every == "hourly":
            return "hourly"
        assert self.at is not None
        return f"daily at {self.at:%H:%M} {self.zone}"


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    zone: str

    def describe(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone}"


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    digest: DigestSchedule | None = None
    quiet: QuietHours | None = None
    snooze_until: datetime | None = None  # `/news snooze`: held until then (past: off)
    threads: bool = False  # `/news threads on`: later developments in a thread
    # What an alert's summary is: "feed", "article" (default) or "model"
    # (bot/core/enrichment.py); the language (ISO 639-1) titles are translated into.
    summary_mode: str = "article"
    language: str | None = None

    def snoozed(self, now: datetime) -> bool:
        return self.snooze_until is not None and now < self.snooze_until


_SNOOZE = re.compile(r"^(\d{1,4})\s*([mhd])$", re.IGNORECASE)
_SNOOZE_UNITS = {"m": 60, "h": 3600, "d": 86400}
MAX_SNOOZE = timedelta(days=30)  # longer is an unsubscribe: say so rather than forget it


def parse_snooze(args: str) -> timedelta | None:
    """`30m`, `2h`, `1d` (a length) or `off` (None)."""
    text = args.strip()
    if text.casefold() == "off":
        return None
    m = _SNOOZE.match(text)
    if m is None:
        raise ScheduleError("Usage: /news snooze 30m | 2h | 1d | off")
    length = timedelta(seconds=int(m.group(1)) * _SNOOZE_UNITS[m.group(2).casefold()])
    if not timedelta(0) < length <= MAX_SNOOZE:
        raise ScheduleError("a snooze lasts from 1 minute to 30 days (30d)")
    return length


def parse_time(text: str) -> time:
    m = _HHMM.match(text.strip())
    if m is None:
        raise ScheduleError(f"`{text}` is not a time; use HH:MM, 24-hour, e.g. 08:30")
    return time(int(m.group(1)), int(m.group(2)))


def zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"`{name}` is not an IANA time zone; use a name such as Europe/Berlin or UTC"
        ) from None


def parse_digest(args: str) -> DigestSchedule | None:
    """`hourly`, `daily HH:MM [zone]` or `off` (None)."""
    words = args.split()
    if not words:
        raise ScheduleError("Usage: /news digest hourly | daily HH:MM [time zone] | off")
    mode = words[0].casefold()
    if mode == "off" and len(words) == 1:
        return None
    if mode == "hourly" and len(words) == 1:
        return DigestSchedule("hourly")
    if mode == "daily" and len(words) in (2, 3):
        name = words[2] if len(words) == 3 else "UTC"
        zone(name)
        at = parse_time(words[1])
        return DigestSchedule("daily", at, "UTC" if name.upper() == "UTC" else name)
    raise ScheduleError("Usage: /news digest hourly | daily HH:MM [time zone] | off")


def parse_quiet(args: str) -> QuietHours | None:
    """`HH:MM-HH:MM <zone>` or `off` (None)."""
    words = args.split()
    if len(words) == 1 and words[0].casefold() == "off":
        return None
    if len(words) != 2 or "-" not in words[0]:
        raise ScheduleError("Usage: /news quiet HH:MM-HH:MM <IANA time zone> | off")
    start_text, _, end_text = words[0].partition("-")
    start, end = parse_time(start_text), parse_time(end_text)
    if start == end:
        raise ScheduleError("quiet hours must start and end at different times")
    zone(words[1])
    return QuietHours(start, end, "UTC" if words[1].upper() == "UTC" else words[1])


def _local_at(day: datetime, at: time, tz: tzinfo) -> datetime:
    """The instant (UTC) when it is `at` on the local date of `day` in `tz`."""
    return datetime.combine(day.date(), at, tzinfo=tz).astimezone(UTC)


def quiet_until(quiet: QuietHours, now: datetime) -> datetime | None:
    """When the quiet period `now` falls in ends; None if `now` is not quiet."""
    tz = zone(quiet.zone)
    local = now.astimezone(tz)
    for day_offset in (-1, 0):  # a period that wraps midnight may have started yesterday
        day = local + timedelta(days=day_offset)
        start = _local_at(day, quiet.start, tz)
        end_day = day + timedelta(days=1) if quiet.end <= quiet.start else day
        end = _local_at(end_day, quiet.end, tz)
        if start <= now < end:
            return end
    return None


def next_digest(schedule: DigestSchedule, after: datetime) -> datetime:
    """The first digest time strictly after `after`."""
    tz = zone(schedule.zone)
    if schedule.every == "hourly":
        local = after.astimezone(tz)
        offset = local.utcoffset() or timedelta(0)
        # Whole local hours: in UTC for most zones, at :30 for India and the like.
        floor = (after + offset).replace(minute=0, second=0, microsecond=0) - offset
        return floor + timedelta(hours=1)
    assert schedule.at is not None
    local = after.astimezone(tz)
    for day_offset in range(3):
        candidate = _local_at(local + timedelta(days=day_offset), schedule.at, tz)
        if candidate > after:
            return candidate
    raise AssertionError("a daily time always comes within two days")
