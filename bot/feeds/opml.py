"""Feed lists in: OPML (read by listparser, as feed readers write it) or one URL per line.

What `newsbot feeds import` stores. Every entry is read into an ImportEntry or a
BadEntry saying why not, so one bad line is reported and the rest still go in. The
channels and operator mark that `newsbot feeds export` writes in the `category`
attribute (bot/core/opml.py) come back; an entry without them (another reader's OPML,
a plain list) is an operator feed, as NEWSBOT_FEEDS_FILE's are: a feed no channel uses
would otherwise reach no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import listparser

from bot.core.models import Channel
from bot.core.opml import channel_of_category, is_operator_category
from bot.feeds.fetch import MAX_URL


class FeedFileError(Exception):
    """The file as a whole cannot be read (not OPML nor a URL list): nothing is imported."""


@dataclass(frozen=True, slots=True)
class ImportEntry:
    url: str
    title: str | None
    operator: bool
    channels: tuple[Channel, ...]


@dataclass(frozen=True, slots=True)
class BadEntry:
    text: str  # the URL or line as written
    reason: str


def read_feed_file(data: bytes) -> list[ImportEntry | BadEntry]:
    """The entries of an OPML document or a URL list, in file order, duplicates dropped."""
    text = data.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("<"):
        entries = _opml_entries(data)
    else:
        entries = [
            _entry(line.strip(), None, [])
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    seen: set[str] = set()
    unique: list[ImportEntry | BadEntry] = []
    for entry in entries:
        if isinstance(entry, ImportEntry):
            if entry.url in seen:
                continue
            seen.add(entry.url)
        unique.append(entry)
    return unique


def _opml_entries(data: bytes) -> list[ImportEntry | BadEntry]:
    # listparser reads leniently (a truncated file is a shorter list): a file that is not
    # even well-formed XML is refused whole instead, before anything is stored.
    try:
        ElementTree.fromstring(data.lstrip())
    except ElementTree.ParseError as exc:
        raise FeedFileError(f"not well-formed XML ({exc})") from None
    # Bytes, never str: listparser fetches a str that looks like a URL.
    parsed: Any = listparser.parse(data.lstrip())
    if parsed.get("bozo") or not str(parsed.get("version") or ""):
        detail = parsed.get("bozo_exception")
        raise FeedFileError("not an OPML subscription list" + (f" ({detail})" if detail else ""))
    return [
        _entry(str(feed.get("url") or "").strip(), feed.get("title"), feed.get("categories"))
        for feed in parsed["feeds"]
    ]


def _entry(url: str, title: object, categories: object) -> ImportEntry | BadEntry:
    problem = url_problem(url)
    if problem is not None:
        return BadEntry(url, problem)
    channels: list[Channel] = []
    operator = False
    marked = False
    for parts in categories if isinstance(categories, list) else []:
        if not isinstance(parts, list):
            continue
        if is_operator_category(parts):
            operator = marked = True
        elif (channel := channel_of_category(parts)) is not None:
            channels.append(channel)
            marked = True
    name = str(title).strip() if isinstance(title, str) else ""
    # An export writes the URL where a feed has no title yet: that is no title.
    return ImportEntry(
        url=url,
        title=name if name and name != url else None,
        operator=operator or not marked,
        channels=tuple(dict.fromkeys(channels)),
    )


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a feed address at all, before anything is fetched."""
    if not url:
        return "no URL"
    if len(url) > MAX_URL:
        return f"the URL is longer than {MAX_URL} characters"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "not an http(s) URL"
    return None
