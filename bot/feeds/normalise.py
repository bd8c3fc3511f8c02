"""Feed entries to Stories: plain text, canonical links, UTC times, an image if there is one."""

from __future__ import annotations

import calendar
import html
import re
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from bot.core.models import Story
from bot.feeds.identity import story_identity

MAX_TITLE = 500
MAX_SUMMARY = 5000
MAX_LINK = 2048
MAX_SOURCE = 200
# Longer input is cut before markup is parsed: a summary is shown in a few hundred
# characters, and a multi-megabyte field must not cost more than a normal one.
MAX_RAW = 100_000

# Query parameters that say who sent the reader, not what the page is. Removing them
# makes the same story the same link wherever it was shared from.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_")
_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi",
        "mkt_tok", "li_fat_id", "rb_clickid", "s_cid", "wickedid", "ncid", "ocid",
        "cmpid", "smid", "smtyp", "ref_src", "ref_url", "at_medium", "at_campaign",
        "oly_anon_id", "oly_enc_id", "vero_id", "__twitter_impression",
    }
)  # fmt: skip
_DEFAULT_PORT = {"http": 80, "https": 443}

# Controls that are not whitespace, and the bidirectional overrides, embeddings and
# isolates that can make a headline display as something else in a chat client.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\ufeff]")
# After one round of decoding, a common HTML tag means the markup was escaped twice.
# Only common tags: "<!here>" or "<@U123>" in a headline is text to show, not markup.
_HTML_TAG = re.compile(
    r"</?(?:p|br|hr|b|i|u|s|em|strong|small|sub|sup|span|div|a|img|ul|ol|li|h[1-6]|"
    r"blockquote|pre|code|table|tr|td|th|figure|figcaption|iframe|script|style)\b[^<>]{0,500}>",
    re.IGNORECASE,
)
_BOGUS_DECLARATION = re.compile(r"<!(?!--|\[CDATA\[|doctype)", re.IGNORECASE)
# UTF-8 read as windows-1252: a lead byte (Â..ô) then what a continuation byte becomes.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "blockquote"}
    )
    _SKIP = frozenset({"script", "style", "template", "noscript"})

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


class _ImageFinder(HTMLParser):
    """The first <img> that is not a tracking pixel."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.src: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img" or self.src is not None:
            return
        found = {k: (v or "") for k, v in attrs}
        if found.get("width") in ("0", "1") or found.get("height") in ("0", "1"):
            return
        self.src = found.get("src") or None


def _strip_markup(value: str) -> str:
    parser = _TextExtractor()
    # "<!here>" is no HTML (an HTML parser would drop it as a bogus comment) but text a
    # headline may really hold: keep it as text, for the adapters to escape.
    parser.feed(_BOGUS_DECLARATION.sub("&lt;!", value))
    parser.close()
    return "".join(parser.parts)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as windows-1252 or Latin-1 somewhere upstream.

    Only when the whole text round-trips: genuine Latin-1 text ("café") does not form
    valid UTF-8 when encoded back, so it is left alone.
    """
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def html_to_text(value: str, limit: int) -> str:
    """Markup removed, entities decoded, whitespace collapsed, length capped."""
    text = value[:MAX_RAW]
    if "<" in text or "&" in text:
        text = _strip_markup(text)
        # Many feeds escape their HTML twice ("&amp;lt;p&amp;gt;"): one more round.
        if _HTML_TAG.search(text):
            text = _strip_markup(text)
        elif "&" in text:
            text = html.unescape(text)
    text = _INVISIBLE.sub("", repair_mojibake(text))
    return " ".join(text.split())[:limit]


def _is_tracking(key: str) -> bool:
    name = unquote_plus(key).lower()
    return name.startswith(_TRACKING_PREFIXES) or name in _TRACKING_EXACT


def canonical_link(url: str, *, keep_fragment: bool = False) -> str:
    """One spelling per page: http(s) only ("" otherwise), scheme and host lower-cased,
    default port, user info, tracking parameters and the fragment dropped.

    The remaining query keeps its order and its original encoding: re-encoding could
    change what a server sees.
    """
    url = url.strip()[:MAX_LINK]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORT or not host:
        return ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORT[scheme]:
        netloc += f":{port}"
    query = "&".join(
        piece
        for piece in parts.query.split("&")
        if piece and not _is_tracking(piece.split("=", 1)[0])
    )
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((scheme, netloc, parts.path or "/", query, fragment))


def _entry_time(entry: dict[str, Any], now: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get, not entry.get: feedparser's dict maps "updated" to "published" with a
        # DeprecationWarning; we ask for each key as it was stored.
        parsed = dict.get(entry, key)
        if isinstance(parsed, time.struct_time):
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
            # A date in the future is a publisher's clock or typo: trust our own.
            return when if when <= now else now
    return now


def _web_url(candidate: object, base: str) -> str | None:
    if not candidate:
        return None
    url = urljoin(base, str(candidate).strip()) if base else str(candidate).strip()
    if len(url) > MAX_LINK or urlsplit(url).scheme.lower() not in _DEFAULT_PORT:
        return None
    return url


def _entry_image(entry: dict[str, Any], raw_summary: str, base: str) -> str | None:
    """media:thumbnail, media:content, an image enclosure, else an <img> in the summary."""
    candidates: list[object] = [t.get("url") for t in entry.get("media_thumbnail") or []]
    for media in entry.get("media_content") or []:
        kind = str(media.get("medium") or media.get("type") or "")
        url = str(media.get("url") or "")
        if kind.startswith("image") or (not kind and url.lower().endswith(_IMAGE_EXTENSIONS)):
            candidates.append(url)
    candidates += [
        enc.get("href")
        for enc in entry.get("enclosures") or []
        if str(enc.get("type", "")).startswith("image/")
    ]
    for candidate in candidates:
        if image := _web_url(candidate, base):
            return image
    if "<img" in raw_summary:
        finder = _ImageFinder()
        finder.feed(raw_summary[:MAX_RAW])
        finder.close()
        return _web_url(finder.src, base)
    return None


def normalise_entry(
    entry: dict[str, Any], *, feed_id: int, source: str, now: datetime
) -> Story | None:
    """A Story, or None for an entry with neither a title nor a link.

    `now` is when the entry is first seen: the published time when it has none.
    """
    title = html_to_text(str(entry.get("title") or ""), MAX_TITLE)
    raw_summary = str(entry.get("summary") or "")
    if not raw_summary and entry.get("content"):
        raw_summary = str(entry["content"][0].get("value", ""))
    summary = html_to_text(raw_summary, MAX_SUMMARY)
    link = canonical_link(str(entry.get("link") or ""))
    if not title and not link:
        return None
    raw_date = str(dict.get(entry, "published") or dict.get(entry, "updated") or "")
    guid = str(entry.get("id") or "").strip()
    if guid.lower().startswith(("http://", "https://")):
        # A permalink guid gains tracking parameters as easily as a link does; its
        # fragment stays, since live blogs tell their entries apart by it.
        guid = canonical_link(guid, keep_fragment=True) or guid
    return Story(
        feed_id=feed_id,
        story_id=story_identity(guid, link, title, raw_date),
        title=title or summary[:80] or link,
        link=link,
        summary=summary,
        published=_entry_time(entry, now),
        source=html_to_text(source, MAX_SOURCE),
        image=_entry_image(entry, raw_summary, link),
    )
