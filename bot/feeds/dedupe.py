"""One story, one alert: spot a story that another feed (or the same one) already carried.

Two stories are the same when, within the window, they share a canonical link, or their
normalised titles (case-folded, punctuation dropped, as sets of words) have a Jaccard
similarity of at least `threshold`. Titles are compared through an index, never against
every story: with every title's words in one fixed global order, two sets whose Jaccard
is at least t must share a word among the first |x| - ceil(t·|x|) + 1 words of each
("prefix filtering", Chaudhuri et al. 2006; Xiao et al., PPJoin, 2008). Only those prefix
words are indexed, and only stories sharing one are compared.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.models import Story
from bot.core.ports import StoryCopy

_WORD = re.compile(r"\w+")
StoryKey = tuple[int, str]  # (feed_id, story_id)


def title_words(title: str) -> frozenset[str]:
    """Case-folded words, punctuation and accents' composition differences ignored."""
    return frozenset(_WORD.findall(unicodedata.normalize("NFKC", title).casefold()))


def _order(word: str) -> tuple[int, int, str]:
    # A fixed order that does not depend on what has been seen (frequencies would change
    # it over time and break the prefix guarantee). Longer words first: short ones ("in",
    # "the", "and") are the common ones, and a common word in a prefix makes a big bucket.
    return -len(word), zlib.crc32(word.encode("utf-8")), word


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


@dataclass(slots=True)
class _Entry:
    key: StoryKey
    source: str
    seen_at: datetime
    index_keys: tuple[str, ...]
    words: frozenset[str]
    group: list[StoryKey] = field(default_factory=list)  # shared by the group's entries


class DuplicateIndex:
    """In memory, rebuilt at start from the stories of the last `window` (they persist)."""

    def __init__(self, window: timedelta, *, threshold: float = 0.8, min_words: int = 4) -> None:
        self.window = window
        self.threshold = threshold
        # Short titles ("Live updates", "Briefing") are shared by unrelated stories.
        self.min_words = min_words
        self._by_key: dict[str, dict[StoryKey, _Entry]] = {}
        self._entries: dict[StoryKey, _Entry] = {}
        self._order: deque[_Entry] = deque()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self.window > timedelta(0)

    def _prefix(self, words: frozenset[str]) -> list[str]:
        if len(words) < self.min_words:
            return []
        size = len(words) - math.ceil(self.threshold * len(words) - 1e-9) + 1
        return sorted(words, key=_order)[:size]

    def prune(self, now: datetime) -> None:
        horizon = now - self.window
        while self._order and self._order[0].seen_at < horizon:
            entry = self._order.popleft()
            if self._entries.get(entry.key) is not entry:
                continue
            del self._entries[entry.key]
            for k in entry.index_keys:
                bucket = self._by_key.get(k)
                if bucket is not None:
                    bucket.pop(entry.key, None)
                    if not bucket:
                        del self._by_key[k]

    def _find(self, key: StoryKey, link_key: str | None, words: frozenset[str]) -> _Entry | None:
        best: _Entry | None = None
        if link_key is not None:
            for entry in self._by_key.get(link_key, {}).values():
                if entry.key != key and (best is None or entry.seen_at < best.seen_at):
                    best = entry
        if best is not None:
            return best
        # Jaccard >= t needs t·|x| <= |y| <= |x|/t: sizes outside that are never compared.
        low = self.threshold * len(words) - 1e-9
        high = len(words) / self.threshold + 1e-9
        for word in self._prefix(words):
            for entry in self._by_key.get("t:" + word, {}).values():
                if entry.key == key or not low <= len(entry.words) <= high:
                    continue
                if jaccard(words, entry.words) >= self.threshold and (
                    best is None or entry.seen_at < best.seen_at
                ):
                    best = entry
        return best

    def check_and_add(self, story: Story, seen_at: datetime) -> StoryCopy | None:
        """Index `story`; if an earlier story is the same one, say which (the copy)."""
        if not self.enabled:
            return None
        key = (story.feed_id, story.story_id)
        words = title_words(story.title)
        link_key = "l:" + story.link if story.link else None
        earlier = self._find(key, link_key, words)
        group = earlier.group if earlier is not None else []
        copy = (
            StoryCopy(story.story_id, story.source, tuple(group)) if earlier is not None else None
        )
        index_keys = tuple(
            ([link_key] if link_key else []) + ["t:" + w for w in self._prefix(words)]
        )
        previous = self._entries.get(key)
        if previous is not None:  # seen again (a retried refresh): keep the first entry
            return copy
        group.append(key)
        entry = _Entry(key, story.source, seen_at, index_keys, words, group)
        self._entries[key] = entry
        self._order.append(entry)
        for k in index_keys:
            self._by_key.setdefault(k, {})[key] = entry
        return copy
