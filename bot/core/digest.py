"""Digest alerts: several stories folded into one message (bursts, digests, quiet hours).

A digest is an Alert of kind "digest". Its `title` is a headline ("7 stories for NATO,
Russia"), its `summary` a plain-text list of the stories that fits every platform's limit
(an adapter that renders nothing else still shows all of it), and `extra["items"]` holds
the stories as JSON for adapters that render them natively; `digest_items` reads them.

Each item also names its story (feed, story id, the feed's declared language, the start
of the feed's text) so that delivery can show it in the channel's language from the
story's cached facts without refetching anything; `with_items` puts the shown items back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.core.models import Alert, Channel
from bot.core.summary import SLACK_SECTION_LIMIT, fit, plain, text_length

# At most this many stories per digest message, so its text list fits the smallest
# platform limit (Slack: 3000 per section); more stories make more digests, never a
# dropped story.
DIGEST_MAX_ITEMS = 10
DIGEST_FEED_ID = 0  # outbox rows that belong to no feed
ITEM_TITLE_LIMIT = 120
# Enough of a story's feed text for a language detector; never shown.
_SAMPLE_LIMIT = 200
_SUMMARY_LIMIT = SLACK_SECTION_LIMIT  # the smallest text limit of any platform


@dataclass(frozen=True, slots=True)
class DigestItem:
    title: str
    link: str
    source: str
    published: datetime
    topics: tuple[str, ...]
    matched: tuple[str, ...]
    # The story, for its cached facts (language, translated title); unset in old digests.
    feed_id: int = 0
    story_id: str = ""
    feed_language: str = ""  # as the feed declared it ("en-us"), if it did
    sample: str = ""  # the start of the feed's text, only to tell the story's language
    # Set by delivery when the story's language is not the channel's: `language` names
    # it, and `original` is the feed's title when `title` is the model's translation.
    language: str = ""
    original: str = ""


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
            fit(a.title, ITEM_TITLE_LIMIT),
            a.link,
            a.source,
            a.published,
            a.topics,
            a.matched,
            feed_id=a.feed_id,
            story_id=a.story_id,
            feed_language=a.extra.get("language", "")[:35],
            sample=plain(a.summary)[:_SAMPLE_LIMIT],
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
            feed_id=int(d.get("feed_id", 0)),
            story_id=str(d.get("story_id", "")),
            feed_language=str(d.get("feed_language", "")),
            sample=str(d.get("sample", "")),
            language=str(d.get("language", "")),
            original=str(d.get("original", "")),
        )
        for d in json.loads(raw)
    ]


def with_items(digest: Alert, items: Sequence[DigestItem]) -> Alert:
    """The digest showing `items` (its own, changed: translated titles) in both forms."""
    raw = json.dumps([_item_json(i) for i in items], ensure_ascii=False)
    return replace(digest, summary=_digest_text(items), extra=digest.extra | {"items": raw})


def _item_json(item: DigestItem) -> dict[str, object]:
    fields: dict[str, object] = {
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": item.published.isoformat(),
        "topics": list(item.topics),
        "matched": list(item.matched),
        "feed_id": item.feed_id,
        "story_id": item.story_id,
    }
    optional = {
        "feed_language": item.feed_language,
        "sample": item.sample,
        "language": item.language,
        "original": item.original,
    }
    return fields | {k: v for k, v in optional.items() if v}  # the outbox row stays small


def _digest_text(items: Sequence[DigestItem]) -> str:
    lines: list[str] = []
    used = 0
    for n, item in enumerate(items):
        line = f"• {item.title} ({item.source}) {item.link}"
        if item.original:  # the title is translated: the feed's own beneath it
            line += f"\n  ({item.language}) {item.original}"
        more = f"… and {len(items) - n} more"
        if used + text_length(line) + 1 + text_length(more) > _SUMMARY_LIMIT:
            lines.append(more)  # only with absurd links: the items in extra keep them all
            break
        lines.append(line)
        used += text_length(line) + 1
    return "\n".join(lines)
