"""An alert as the outbox keeps it: JSON text every backend reads and writes the same way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.models import Alert, Channel

ALSO_REPORTED_BY = "also_reported_by"


def alert_to_payload(alert: Alert) -> dict[str, Any]:
    return {
        "title": alert.title,
        "link": alert.link,
        "source": alert.source,
        "published": alert.published.isoformat(),
        "summary": alert.summary,
        "topics": list(alert.topics),
        "matched": list(alert.matched),
        "image": alert.image,
        "kind": alert.kind,
        "mentions": list(alert.mentions),
        "extra": alert.extra,
    }


def encode_alert(alert: Alert) -> str:
    return json.dumps(alert_to_payload(alert), ensure_ascii=False)


def decode_alert(
    alert_id: int, channel: Channel, feed_id: int, story_id: str, payload: str
) -> Alert:
    p = json.loads(payload)
    return Alert(
        id=alert_id,
        channel=channel,
        feed_id=feed_id,
        story_id=story_id,
        title=p["title"],
        link=p["link"],
        source=p["source"],
        published=datetime.fromisoformat(p["published"]).astimezone(UTC),
        summary=p["summary"],
        topics=tuple(p["topics"]),
        matched=tuple(p["matched"]),
        image=p.get("image"),
        kind=p.get("kind", "alert"),
        mentions=tuple(p.get("mentions") or ()),
        extra=dict(p.get("extra") or {}),
    )


def with_also_reported_by(payload: str, source: str) -> str | None:
    """The payload with `source` added to its "also reported by" outlets; None when it
    is the alert's own source or already named (nothing to change)."""
    p = json.loads(payload)
    extra = dict(p.get("extra") or {})
    names = [n for n in (extra.get(ALSO_REPORTED_BY) or "").split(", ") if n]
    if source == p.get("source") or source in names:
        return None
    extra[ALSO_REPORTED_BY] = ", ".join([*names, source])
    p["extra"] = extra
    return json.dumps(p, ensure_ascii=False)


# A sent alert's message is edited at most once a minute (issue 17: follow-ups).
EDIT_INTERVAL = timedelta(minutes=1)


def next_edit_at(now: datetime, edited_at: datetime | None) -> datetime:
    """When an edit owed now may go: now, or a minute after the last edit."""
    return now if edited_at is None else max(now, edited_at + EDIT_INTERVAL)


def shown_outlets(payload: str) -> str:
    """The "also reported by" a payload lists ("" for none)."""
    return str((json.loads(payload).get("extra") or {}).get(ALSO_REPORTED_BY) or "")
