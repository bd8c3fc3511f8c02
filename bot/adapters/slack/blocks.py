"""Block Kit for alerts, notices and digests, within Slack's limits.

Every string from a feed or a user goes through mrkdwn.escape (or emphasise/link, which
escape), so a story titled "<!channel> …" shows those characters instead of pinging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.models.blocks import ImageElement

from bot.adapters.slack import mrkdwn
from bot.core.digest import digest_items
from bot.core.models import Alert
from bot.core.topics.display import has_via

Block = dict[str, Any]

METADATA_EVENT = "newsbot_alert"
UNSUBSCRIBE_ACTION = "newsbot_unsubscribe"  # action_id prefix; one button per topic
MAX_BUTTONS = 5  # more topics stay reachable through /news unsubscribe
TITLE_LIMIT = 250  # a headline, not an essay: keeps room for the summary in one section
SOURCE_LIMIT = 200  # a source's name, escaped
# A linked headline longer than this (a feed's link of thousands of characters) is shown
# without its link, so the headline and summary still fit in one section's 3,000.
LINKED_LIMIT = 1500
# Mentions of the people who asked for them lead the first section when they fit in this
# much; a crowd (hundreds of `@me` subscribers) gets sections of its own instead, since
# Slack would refuse a first section over 3,000 and every one of them must still be pinged.
MENTIONS_LIMIT = 1000
# The story's image sits as an accessory on the alert's first block; Slack's refusals name
# what they refuse by a JSON pointer, so this one says "the image" (see errors.py).
IMAGE_POINTER = "/blocks/0/accessory"


@dataclass(frozen=True, slots=True)
class Message:
    text: str  # plain fallback: notifications, screen readers, clients without blocks
    blocks: list[Block]
    metadata: dict[str, Any] | None
    image: str | None = None  # the image_url of the accessory at IMAGE_POINTER, if any


def render(alert: Alert, *, image: bool = True) -> Message:
    """The alert as Block Kit; image=False leaves the story's image out (nothing else)."""
    accessory = image_accessory(alert) if image and alert.kind == "alert" else None
    if alert.kind == "notice":
        blocks = _notice(alert)
    elif alert.kind == "digest":
        blocks = _digest(alert)
    else:
        blocks = _alert(alert, accessory)
    return Message(
        _fallback(alert),
        blocks[: mrkdwn.BLOCK_LIMIT],
        metadata(alert),
        accessory["image_url"] if accessory else None,
    )


def image_accessory(alert: Alert) -> Block | None:
    """An image element for the story's picture, or None when Slack would refuse its URL.

    Only http(s) URLs within Block Kit's image_url limit; whether Slack can download the
    picture is only known when it answers, so the notifier retries without it then.
    """
    url = (alert.image or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    if any(c.isspace() for c in url) or mrkdwn.units(url) > ImageElement.image_url_max_length:
        return None
    # alt_text is plain text (never parsed for mentions), so it is cut but not escaped.
    alt = alert.title.strip() or alert.source.strip() or "Story image"
    return {
        "type": "image",
        "image_url": url,
        "alt_text": mrkdwn.cut(alt, ImageElement.alt_text_max_length),
    }


def metadata(alert: Alert) -> dict[str, Any] | None:
    """Names the outbox row, so a resend after a crash can find the first post."""
    if alert.id is None:
        return None
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {"alert_id": alert.id, "story_id": alert.story_id[:200]},
    }


def is_alert_message(message: dict[str, Any], alert_id: int) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return bool(meta.get("event_type") == METADATA_EVENT and payload.get("alert_id") == alert_id)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": t} for t in texts[:10] if t],  # up to 10 elements
    }


def _headline(alert: Alert) -> str:
    headline = f"*{_linked(alert.link, alert.title.strip() or alert.link)}*"
    if original := alert.extra.get("original_title", "").strip():  # the title was translated
        language = alert.extra.get("title_language", "?")
        headline += "\n" + mrkdwn.escaped(f"({language}) {original}", TITLE_LIMIT)
    return headline


def _linked(url: str, title: str) -> str:
    """The title, linked to `url` unless the link alone would crowd out the text."""
    title = mrkdwn.cut(title, TITLE_LIMIT)
    linked = mrkdwn.link(url, title)
    return linked if mrkdwn.units(linked) <= LINKED_LIMIT else mrkdwn.escape(title)


def _lead(alert: Alert) -> tuple[str, list[Block]]:
    """The mentions: to lead the first section, or (a crowd) as sections of their own."""
    lead = mrkdwn.mentions(alert.mentions)
    if mrkdwn.units(lead) <= MENTIONS_LIMIT:
        return lead, []
    sections: list[Block] = []
    line: list[str] = []
    used = 0
    for mention in lead.split(" "):
        size = mrkdwn.units(mention) + 1
        if line and used + size > mrkdwn.SECTION_LIMIT:
            sections.append(_section(" ".join(line)))
            line, used = [], 0
        line.append(mention)
        used += size
    sections.append(_section(" ".join(line)))
    return "", sections


def _body(alert: Alert, headline: str, lead: str) -> str:
    """Headline and the summary with matched words in bold, together under 3000."""
    head = f"{lead}\n{headline}" if lead else headline
    room = mrkdwn.SECTION_LIMIT - mrkdwn.units(head) - 1
    summary = alert.summary.strip()
    if not summary or room <= 0:
        return head
    body = mrkdwn.fit_rendered(summary, lambda s: mrkdwn.emphasise(s, alert.matched), room)
    return f"{head}\n{body}" if body else head


def _topics_line(alert: Alert) -> str:
    """The topics as escaped mrkdwn for a context element ("" when there are none), with
    what fired for topic: terms (the summary's bold words may be cut off)."""
    fired = [m for m in alert.matched if has_via(m)]  # topic:Russia -> Russia (via Kremlin)
    if fired and alert.topics:
        line = f"Topics: {', '.join(alert.topics)} · Matched: {', '.join(fired)}"
        return mrkdwn.escaped(line, mrkdwn.TEXT_OBJECT_LIMIT)
    if not alert.topics:
        return ""
    return mrkdwn.escaped("Topics: " + ", ".join(alert.topics), mrkdwn.TEXT_OBJECT_LIMIT)


def _alert(alert: Alert, accessory: Block | None) -> list[Block]:
    lead, crowd = _lead(alert)
    main = _section(_body(alert, _headline(alert), lead))
    if accessory is not None:
        main["accessory"] = accessory
    blocks = [main, *crowd]
    source = mrkdwn.escaped(alert.source, SOURCE_LIMIT)
    info = [f"{source} · {mrkdwn.date(alert.published)}", _topics_line(alert)]
    also = alert.extra.get("also_reported_by", "").strip()
    if also:
        # Other feeds' names: any of them may be full of `&<>`, so measured escaped.
        info.append(mrkdwn.escaped(f"Also reported by: {also}", mrkdwn.TEXT_OBJECT_LIMIT))
    blocks.append(_context(*info))
    buttons = [_unsubscribe_button(n, topic) for n, topic in enumerate(alert.topics[:MAX_BUTTONS])]
    if buttons:
        blocks.append({"type": "actions", "block_id": "newsbot_topics", "elements": buttons})
    return blocks


def _unsubscribe_button(n: int, topic: str) -> Block:
    label = mrkdwn.cut(f"Unsubscribe: {topic}", mrkdwn.BUTTON_TEXT_LIMIT)
    return {
        "type": "button",
        "action_id": f"{UNSUBSCRIBE_ACTION}:{n}",
        "text": {"type": "plain_text", "text": label, "emoji": False},
        "value": topic[:2000],
    }


def _notice(alert: Alert) -> list[Block]:
    title = mrkdwn.escape(mrkdwn.cut(alert.title, TITLE_LIMIT))
    lead, crowd = _lead(alert)
    head = f"{lead}\n*{title}*" if lead else f"*{title}*"
    room = mrkdwn.SECTION_LIMIT - mrkdwn.units(head) - 1
    body = mrkdwn.escaped(alert.summary.strip(), room) if room > 0 else ""
    return [
        _section(f"{head}\n{body}" if body else head),
        *crowd,
        _context("newsbot notice"),
    ]


def _digest(alert: Alert) -> list[Block]:
    """Headline, one section per folded story, and a line saying why they were folded."""
    title = mrkdwn.escape(mrkdwn.cut(alert.title, TITLE_LIMIT))
    lead, crowd = _lead(alert)
    blocks = [_section(f"{lead}\n*{title}*" if lead else f"*{title}*"), *crowd]
    items = digest_items(alert)
    room = mrkdwn.BLOCK_LIMIT - len(blocks) - 1  # the closing context comes last
    for item in items[:room]:
        linked = _linked(item.link, item.title)
        if item.original:  # the title was translated: the feed's own beneath it
            linked += "\n" + mrkdwn.escaped(f"({item.language}) {item.original}", TITLE_LIMIT)
        # What is left of the section's 3,000 once the headline is in, measured escaped.
        left = min(mrkdwn.TEXT_OBJECT_LIMIT, mrkdwn.SECTION_LIMIT - mrkdwn.units(linked) - 1)
        about = mrkdwn.escaped(f"{item.source} · {', '.join(item.topics)}", left)
        blocks.append(_section(f"{linked}\n{about}" if about else linked))
    if not items:  # an older or foreign digest: its plain-text list is all there is
        lines = [line for line in alert.summary.splitlines() if line.strip()]
        for line in lines[:room]:
            render = lambda s: mrkdwn.emphasise(s, alert.matched)  # noqa: E731
            blocks.append(_section(mrkdwn.fit_rendered(line, render, mrkdwn.SECTION_LIMIT)))
    info = [mrkdwn.escaped(alert.source, SOURCE_LIMIT), _topics_line(alert)]
    context = _context(*info)
    if context["elements"]:  # Slack refuses a context block without elements
        blocks.append(context)
    return blocks


def _fallback(alert: Alert) -> str:
    """The notification text: the same words, escaped, without layout."""
    lead = mrkdwn.mentions(alert.mentions)
    parts = [lead] if lead else []
    if alert.kind == "alert":
        parts.append(mrkdwn.escape(mrkdwn.cut(alert.title, TITLE_LIMIT)))
        topics = _topics_line(alert)
        if topics:
            parts.append(f"({topics})")
        url = mrkdwn.safe_url(alert.link)
        if url:
            parts.append(url)
    else:
        parts.append(mrkdwn.escape(mrkdwn.cut(alert.title, TITLE_LIMIT)))
    return " ".join(parts)
