"""Digest alerts: several stories folded into one message (bursts, digests, quiet hours).

A digest is an Alert of kind "digest". Its `title` is a headline ("7 stories for NATO,
Russia"), its `summary` a plain-text list of the stories that fits every platform's limit
(an adapter that renders nothing else still shows all of it), and `extra["items"]` holds
the stories as JSON for adapters that render them natively; `digest_items` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.models import Alert, Channel
from bot.core.summary import SLACK_SECTION_LIMIT, fit, text_length

# At most this many stories per digest message, so its text list fits the smallest
# platform limit (Slack: 3000 per section); more stories make more digests, never a
# dropped story.
DIGEST_MAX_ITEMS = 10
DIGEST_FEED_ID = 0  # outbox rows that belong to no feed
_ITEM_TITLE_LIMIT = 120
_SUMMARY_LIMIT = SLACK_SECTION_LIMIT  # the smallest text limit of any platform


@dataclass(frozen=True, slots=True)
class DigestItem:
    title: str
    link: str
    source: str
    published: datetime
    topics: tuple[str, ...]
    matched: tuple[str, ...]


def build_digest(channel: Channel, alerts: Sequence[Alert], reason: str) -> Alert:
    """One digest of `alerts` (oldest first, at most DIGEST_MAX_ITEMS) for `channel`.

    `reason` says why they were folded ("hourly digest", "quiet hours ended", ...). The
    story_id names the outbox rows folded in, so a digest is queued once however often
    a crash makes delivery build it again.
    """
    if not alerts or len(alerts) > DIGEST_MAX_ITEMS:
        raise ValueError(f"a digest holds 1 to {DIGEST_MAX_ITEMS} alerts, not {len(alerts)}")
    items = [
        DigestItem(
            fit(a.title, _ITEM_TITLE_LIMIT), a.link, a.source, a.published, a.topics, a.matched
        )
        for a in alerts
    ]
    topics = tuple(dict.fromkeys(t for a in alerts for t in a.topics))
    matched = tuple(dict.fromkeys(w for a in alerts for w in a.matched))
    mentions = tuple(dict.fromkeys(m for a in alerts for m in a.mentions))
    count = len(items)
    title = fit(f"{count} {'story' if count == 1 else 'stories'} for {', '.join(topics)}", 200)
    ids = [a.id for a in alerts if a.id is not None]
    key = f"digest:{ids[0]}-{ids[-1]}" if ids else f"digest:{alerts[0].story_id}"
    return Alert(
        channel=channel,
        feed_id=DIGEST_FEED_ID,
        story_id=key,
        title=title,
        link=items[0].link,
        source=reason,
        published=max(a.published for a in alerts),
        summary=_digest_text(items),
        topics=topics,
        matched=matched,
        kind="digest",
        mentions=mentions,
        extra={"items": json.dumps([_item_json(i) for i in items], ensure_ascii=False)},
    )


def digest_items(alert: Alert) -> list[DigestItem]:
    """The stories of a digest alert, oldest first; [] for other kinds."""
    raw = alert.extra.get("items")
    if alert.kind != "digest" or not raw:
        return []
    return [
        DigestItem(
            title=d["title"],
            link=d["link"],
            source=d["source"],
            published=datetime.fromisoformat(d["published"]).astimezone(UTC),
            topics=tuple(d["topics"]),
            matched=tuple(d["matched"]),
        )
        for d in json.loads(raw)
    ]


def _item_json(item: DigestItem) -> dict[str, object]:
    return {
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": item.published.isoformat(),
        "topics": list(item.topics),
        "matched": list(item.matched),
    }


def _digest_text(items: Sequence[DigestItem]) -> str:
    lines: list[str] = []
    used = 0
    for n, item in enumerate(items):
        line = f"• {item.title} ({item.source}) {item.link}"
        more = f"… and {len(items) - n} more"
        if used + text_length(line) + 1 + text_length(more) > _SUMMARY_LIMIT:
            lines.append(more)  # only with absurd links: the items in extra keep them all
            break
        lines.append(line)
        used += text_length(line) + 1
    return "\n".join(lines)
