"""OPML 2.0 out: the feed list as feed readers exchange it (`newsbot feeds export`,
`/news feed export`).

Which channels use a feed, and whether it is an operator feed, travel in the outline's
standard `category` attribute (OPML 2.0: comma-separated, slash-delimited category
paths), so any reader keeps them and `newsbot feeds import` restores them:
`/newsbot/operator` and `/newsbot-channel/<platform>/<workspace>/<channel>`, each part
percent-encoded so a `/` or `,` in an id cannot split it. The document carries no date
and lists feeds by URL, so the same feeds always export to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote
from xml.etree import ElementTree

from bot.core.models import Channel

OPERATOR_CATEGORY = ("newsbot", "operator")
CHANNEL_CATEGORY = "newsbot-channel"
OPML_MIME = "text/x-opml"


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None
    operator: bool = False  # an operator feed: its stories go to every channel's subscriptions
    channels: tuple[Channel, ...] = ()  # the channels that added it from chat


def _path(parts: Iterable[str]) -> str:
    return "/" + "/".join(quote(p, safe="") for p in parts)


def categories(feed: OpmlFeed) -> str:
    paths = [_path(OPERATOR_CATEGORY)] if feed.operator else []
    for ch in sorted(set(feed.channels), key=str):
        paths.append(_path((CHANNEL_CATEGORY, ch.platform, ch.workspace, ch.channel)))
    return ",".join(paths)


def channel_of_category(parts: Sequence[str]) -> Channel | None:
    """The channel a category path (as split on `/`) names, or None if it names none."""
    if len(parts) != 4 or parts[0] != CHANNEL_CATEGORY:
        return None
    platform, workspace, channel = (unquote(p) for p in parts[1:])
    if not (platform and workspace and channel):
        return None
    return Channel(platform, workspace, channel)


def is_operator_category(parts: Sequence[str]) -> bool:
    return tuple(parts) == OPERATOR_CATEGORY


def write_opml(feeds: Iterable[OpmlFeed], title: str = "newsbot feeds") -> bytes:
    """An OPML 2.0 document, UTF-8, one `<outline type="rss">` per feed, by URL."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(root, "body")
    for feed in sorted(feeds, key=lambda f: f.url):
        name = feed.title or feed.url
        outline = ElementTree.SubElement(
            body, "outline", type="rss", text=name, title=name, xmlUrl=feed.url
        )
        found = categories(feed)
        if found:
            outline.set("category", found)
    ElementTree.indent(root)
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
