"""Parsing fetched bytes with feedparser (RSS 0.9x/1.0/2.0, RDF, Atom), hostile input included.

Before feedparser sees a document we decode it ourselves (bot/feeds/encoding.py) and
drop its prolog: the XML declaration, comments, processing instructions and above all any
DOCTYPE. feedparser's loose fallback parser expands internal entities, so one entity
referenced a few thousand times turns a 44 KB feed into hundreds of megabytes (measured
with feedparser 6.0.14: expat refuses such a document, the loose parser then expands it; a
44 KB feed gave a 100-million-character field, 4 s and over 300 MB). Feeds have no use
for a DTD, so no entity is ever declared: references to unknown entities stay as they are,
and nothing expands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import feedparser

from bot.feeds.encoding import decode_feed
from bot.feeds.normalise import html_to_text

MAX_FEED_TITLE = 300
MAX_FEED_LINK = 2048
# feedparser spends about 50 µs of CPU per element, so the body cap alone still lets a
# 10 MiB feed of tiny elements cost half a minute. 10,000 items of 20 elements each fit.
MAX_ELEMENTS = 250_000
_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)
_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 forbids: one stray control byte would otherwise push a whole feed
# into the slower, looser fallback parser.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Inside a declaration only these characters change what comes next.
_DECLARATION_SPECIAL = re.compile(r"[\"'\[\]<>]")


class FeedParseError(Exception):
    """The bytes are not a feed we can read; the watcher counts it as a failed fetch."""

    def __init__(self, detail: str) -> None:
        self.detail = " ".join(detail.split())[:300]
        super().__init__(f"not an RSS, Atom or RDF feed: {self.detail}")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    link: str | None
    entries: list[dict[str, Any]]
    ttl_minutes: int | None = None
    encoding: str = "utf-8"  # how the bytes were decoded
    language: str | None = None  # as the feed declares it (<language>, xml:lang), if at all


def _skip_past(text: str, start: int, end_mark: str, what: str) -> int:
    end = text.find(end_mark, start)
    if end < 0:
        raise FeedParseError(f"the document has an unclosed {what}")
    return end + len(end_mark)


def _end_of_declaration(text: str, start: int) -> int:
    """The index just past the `<!...>` declaration (a DOCTYPE, say) opened at `start`.

    Quoted strings, comments and processing instructions are skipped whole, so a `]` or
    `>` inside them does not end anything; square brackets nest, for the internal subset
    and for conditional sections inside it.
    """
    depth = 0
    i = start + 2
    while (m := _DECLARATION_SPECIAL.search(text, i)) is not None:
        i = m.start()
        char = m.group()
        if char in "\"'":
            i = _skip_past(text, i + 1, char, "quoted string in its DOCTYPE")
        elif text.startswith("<!--", i):
            i = _skip_past(text, i + 4, "-->", "comment in its DOCTYPE")
        elif text.startswith("<?", i):
            i = _skip_past(text, i + 2, "?>", "processing instruction in its DOCTYPE")
        elif char == "[":
            depth += 1
            i += 1
        elif char == "]":
            depth = max(depth - 1, 0)
            i += 1
        elif char == ">" and depth == 0:
            return i + 1
        else:
            i += 1
    raise FeedParseError("the document has an unclosed DOCTYPE")


def root_element_start(text: str) -> int:
    """Where the root element begins: past the declaration, comments, PIs and DOCTYPE."""
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            raise FeedParseError("no XML element found")
        if text.startswith("<?", lt):
            pos = _skip_past(text, lt + 2, "?>", "processing instruction")
        elif text.startswith("<!--", lt):
            pos = _skip_past(text, lt + 4, "-->", "comment")
        elif text.startswith("<!", lt):
            # DOCTYPE (any case, any ids, any internal subset) or a stray <!ENTITY ...>.
            pos = _end_of_declaration(text, lt)
        else:
            return lt


def prepare_document(body: bytes, content_type: str | None = None) -> tuple[bytes, str]:
    """UTF-8 bytes with no prolog, ready for feedparser; and the encoding the bytes had."""
    decoded = decode_feed(body, content_type)
    text = decoded.text
    if _INVALID_XML_CHARS.search(text):  # rare: spare a 10 MiB copy when there are none
        text = _INVALID_XML_CHARS.sub("", text)
    root = root_element_start(text)
    elements = _count_start_tags(text)
    if elements > MAX_ELEMENTS:
        raise FeedParseError(f"{elements} elements is more than the {MAX_ELEMENTS} allowed")
    return _XML_DECLARATION.encode() + text[root:].encode("utf-8"), decoded.encoding


def _count_start_tags(text: str) -> int:
    """Start tags, roughly and cheaply: markup inside CDATA is text, not elements."""
    if text.count("<") <= MAX_ELEMENTS:
        return text.count("<")  # an upper bound already under the limit
    text = _CDATA.sub("", text)
    return text.count("<") - text.count("</") - text.count("<!") - text.count("<?")


def parse_feed(
    body: bytes, headers: dict[str, str] | None = None, *, base_url: str | None = None
) -> ParsedFeed:
    """A ParsedFeed, or FeedParseError with a one-line reason; never anything else.

    `headers` are the response headers (names lower-cased); `base_url`, where the feed
    was fetched from, resolves relative links.
    """
    headers = headers or {}
    try:
        document, encoding = prepare_document(body, headers.get("content-type"))
        response_headers = {"content-type": "application/xml; charset=utf-8"}
        location = headers.get("content-location") or base_url
        if location:
            response_headers["content-location"] = location
        # Bytes in a BytesIO, never a str: feedparser may read a string as a path or URL.
        # No HTML sanitising or link rewriting inside HTML: both parse every summary's
        # markup again (slowly, in Python), and normalise.py reduces each field to plain
        # text and resolves the one image it keeps itself.
        result = feedparser.parse(
            BytesIO(document),
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except FeedParseError:
        raise
    except Exception as exc:  # a parser bug on hostile input is this feed's failure only
        raise FeedParseError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    feed = result.get("feed", {})
    entries = list(result.get("entries", []))
    if not entries and not result.get("version"):
        if headers.get("content-type", "").lower().startswith("text/html"):
            raise FeedParseError("the address serves an HTML page")
        problem = result.get("bozo_exception")
        raise FeedParseError(str(problem) if problem else "no feed elements found")
    ttl = str(feed.get("ttl") or "").strip()
    title = html_to_text(str(feed.get("title") or ""), MAX_FEED_TITLE)
    link = str(feed.get("link") or "").strip()[:MAX_FEED_LINK]
    return ParsedFeed(
        title=title or None,
        link=link or None,
        entries=entries,
        ttl_minutes=int(ttl) if ttl.isdigit() and len(ttl) <= 7 else None,
        encoding=encoding,
        language=str(feed.get("language") or "")[:35] or None,
    )
