"""Feed entries to Stories: plain text, canonical links, UTC times."""

from __future__ import annotations

import calendar
import html
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.core.models import Story
from bot.feeds.identity import story_identity

MAX_TITLE = 500
MAX_SUMMARY = 5000
MAX_LINK = 2048

_TRACKING_EXACT = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"})


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr", "blockquote"})
    _SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(value: str, limit: int) -> str:
    """Markup removed, entities decoded, whitespace collapsed, length capped."""
    if "<" in value or "&" in value:
        parser = _TextExtractor()
        parser.feed(value)
        parser.close()
        value = html.unescape("".join(parser.parts))
    return " ".join(value.split())[:limit]


def canonical_link(url: str) -> str:
    """Drop tracking parameters and the fragment; lower-case scheme and host."""
    url = url.strip()[:MAX_LINK]
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_EXACT
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, urlencode(query), "")
    )


def _entry_time(entry: dict[str, Any], now: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            # A date in the future is a publisher's clock or typo: trust our own.
            return when if when <= now else now
    return now


def _entry_image(entry: dict[str, Any]) -> str | None:
    for key in ("media_thumbnail", "media_content"):
        for item in entry.get(key) or []:
            url = item.get("url")
            if url and (key == "media_thumbnail" or str(item.get("medium", "image")) == "image"):
                return str(url)[:MAX_LINK]
    for enc in entry.get("enclosures") or []:
        if str(enc.get("type", "")).startswith("image/") and enc.get("href"):
            return str(enc["href"])[:MAX_LINK]
    return None


def normalise_entry(
    entry: dict[str, Any], *, feed_id: int, source: str, now: datetime
) -> Story | None:
    """A Story, or None for an entry with neither a title nor a link."""
    title = html_to_text(str(entry.get("title") or ""), MAX_TITLE)
    raw_summary = entry.get("summary") or ""
    if not raw_summary and entry.get("content"):
        raw_summary = entry["content"][0].get("value", "")
    summary = html_to_text(str(raw_summary), MAX_SUMMARY)
    link = canonical_link(str(entry.get("link") or ""))
    if not title and not link:
        return None
    published = _entry_time(entry, now)
    raw_date = str(entry.get("published") or entry.get("updated") or "")
    return Story(
        feed_id=feed_id,
        story_id=story_identity(str(entry.get("id") or ""), link, title, raw_date),
        title=title or summary[:80] or link,
        link=link,
        summary=summary,
        published=published,
        source=source,
        image=_entry_image(entry),
    )
