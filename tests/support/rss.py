"""RSS documents with the knobs the watcher's tests turn: guid or not, dates, links, ttl."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str | None = None
    description: str = ""
    pub_date: str = "Mon, 27 Dec 2021 14:10:00 GMT"

    def xml(self) -> str:
        guid = f"<guid isPermaLink='false'>{escape(self.guid)}</guid>" if self.guid else ""
        return (
            f"<item>{guid}<title>{escape(self.title)}</title><link>{escape(self.link)}</link>"
            f"<description>{escape(self.description)}</description>"
            f"<pubDate>{self.pub_date}</pubDate></item>"
        )


def rss_doc(*items: Item, title: str = "Test Wire", ttl: int | None = None) -> str:
    ttl_xml = f"<ttl>{ttl}</ttl>" if ttl is not None else ""
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{escape(title)}</title><link>https://news.example/</link>{ttl_xml}"
        + "".join(i.xml() for i in items)
        + "</channel></rss>"
    )
