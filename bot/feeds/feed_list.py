"""The operator's feed list (NEWSBOT_FEEDS_FILE): OPML, or one URL per line."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree


class FeedListError(Exception):
    pass


def read_feed_list(path: Path) -> list[str]:
    """Feed URLs (or local paths, resolved against the list's folder) in file order."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {path}: {exc.strerror or exc}") from exc
    if text.lstrip().startswith("<"):
        urls = _opml_urls(text, path)
    else:
        urls = [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    resolved = [u if "://" in u else str((path.parent / u).resolve()) for u in urls]
    return list(dict.fromkeys(resolved))


def _opml_urls(text: str, path: Path) -> list[str]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise FeedListError(f"feed list {path} is not valid OPML: {exc}") from exc
    return [
        url.strip()
        for outline in root.iter("outline")
        if (url := outline.get("xmlUrl") or outline.get("xmlurl"))
    ]
