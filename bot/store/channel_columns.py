"""Channel settings as columns and back: the same on every backend (only the SQL differs)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal, cast

from bot.core.channel_settings import ChannelSettings, DigestSchedule, QuietHours, parse_time
from bot.store.rows import Row


def settings_from_row(row: Row | None) -> ChannelSettings:
    """The settings a `channel_settings` row holds; the defaults where there is none."""
    if row is None:
        return ChannelSettings()
    digest = None
    if row["digest"] is not None:
        every = cast(Literal["hourly", "daily"], row["digest"])
        at = parse_time(row["digest_at"]) if row["digest_at"] else None
        digest = DigestSchedule(every, at, row["digest_zone"] or "UTC")
    quiet = None
    if row["quiet_start"] is not None:
        quiet = QuietHours(
            parse_time(row["quiet_start"]), parse_time(row["quiet_end"]), row["quiet_zone"]
        )
    snooze = row["snooze_until"]
    return ChannelSettings(
        digest,
        quiet,
        snooze_until=datetime.fromisoformat(snooze) if snooze else None,
        threads=row["threads"] == "on",
    )


def digest_columns(digest: DigestSchedule | None) -> dict[str, str | None]:
    return {
        "digest": digest.every if digest else None,
        "digest_at": f"{digest.at:%H:%M}" if digest and digest.at else None,
        "digest_zone": digest.zone if digest else None,
    }


def threads_columns(on: bool) -> dict[str, str | None]:
    return {"threads": "on" if on else None}


def snooze_columns(until: datetime | None) -> dict[str, str | None]:
    """ISO text in UTC on every backend, like the table's other settings."""
    return {"snooze_until": until.astimezone(UTC).isoformat() if until else None}


def quiet_columns(quiet: QuietHours | None) -> dict[str, str | None]:
    return {
        "quiet_start": f"{quiet.start:%H:%M}" if quiet else None,
        "quiet_end": f"{quiet.end:%H:%M}" if quiet else None,
        "quiet_zone": quiet.zone if quiet else None,
    }


def with_enrichment(row: Row | None, settings: ChannelSettings) -> ChannelSettings:
    """`settings` with the row's summary mode and language (migration 0011)."""
    if row is None:
        return settings
    return replace(
        settings, summary_mode=row["summary_mode"] or "article", language=row["language"]
    )


def summary_mode_columns(mode: str) -> dict[str, str | None]:
    return {"summary_mode": mode}


def language_columns(language: str | None) -> dict[str, str | None]:
    return {"language": language}
