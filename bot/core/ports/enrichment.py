"""What enriching an alert keeps: article texts per URL, facts per story, model calls per day.

Shared by every channel and every process on one database: an article is fetched once per
URL, a model asked once per story, language and kind, whichever channel wanted it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

# What is known of a story, per language: "language" (the detector's verdict; language ""),
# "summary" (a model's summary in that language), "title" (the title translated into it).
StoryFactKind = Literal["language", "summary", "title"]


@dataclass(frozen=True, slots=True)
class CachedArticle:
    """An article page as far as the bot read it. `text` None: nothing usable there (a
    failed fetch, a refused address, a consent wall): never fetched again."""

    url: str
    text: str | None
    note: str  # "ok", or why there is no text ("paywall or consent page", the fetch error)
    fetched_at: datetime


class EnrichmentStore(Protocol):
    async def cached_article(self, url: str) -> CachedArticle | None: ...

    async def save_article(self, article: CachedArticle) -> None:
        """Keep what fetching `article.url` gave; a second save of one URL changes nothing."""
        ...

    async def story_fact(
        self, feed_id: int, story_id: str, kind: StoryFactKind, language: str
    ) -> str | None: ...

    async def save_story_fact(
        self,
        feed_id: int,
        story_id: str,
        kind: StoryFactKind,
        language: str,
        value: str,
        now: datetime,
    ) -> None:
        """Keep a fact; the first saved stays (two processes asking at once agree)."""
        ...

    async def reserve_model_call(self, day: date, limit: int) -> bool:
        """Count one model call on `day` (UTC) if fewer than `limit` were counted; atomic
        across processes. False: the day's cap is reached, nothing counted."""
        ...

    async def forget_enrichment(self, before: datetime) -> int:
        """Drop articles fetched, facts learnt and day counts from before `before` (the
        caches would otherwise grow with every story); returns rows dropped."""
        ...
