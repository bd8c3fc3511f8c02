"""One story, one alert: spot a story that another feed (or the same one) already carried.

Two stories are the same when, within the window, they share a canonical link, or their
normalised titles (case-folded, punctuation dropped, as sets of words) have a Jaccard
similarity of at least `threshold`. Titles are compared through an index, never against
every story: with every title's words in one fixed order, two sets whose Jaccard is at
least t must share a word among the first |x| - ceil(t·|x|) + 1 words of each ("prefix
filtering", Chaudhuri et al. 2006; Xiao et al., PPJoin, 2008). Only those prefix words
are indexed, and only stories sharing one are compared.

What one check costs does not grow with the window. Templated titles ("Feed 123 story
5", "Podcast episode 12", a hostile feed of thousands of such items) all share their
longest word, so that word's list holds every one of them; comparing each new title
with the whole list made a cycle over such feeds quadratic. So each key is read newest
first and only `bucket_cap` postings deep, and one check compares at most `compare_cap`
titles. The trade: a copy whose only shared prefix words are each in more than
`bucket_cap` newer stories is missed. Copies of a story come close together in time
(newest first finds them), and an identical title is also filed under the hash of its
whole word set, a list only its own copies are in, so a repeated template is still
caught however common its words are.

The index holds hashes, not text (bot/feeds/dedupe_tables.py), about 400 bytes a story
where objects cost over 3 KB. They are Python's string hashes, salted per process, so no
feed can aim for a collision: links and index keys by their 64 bits (a chance collision
about once in 10^19 pairs), title words by 32 (two different words of two titles agree
by chance once in four billion, and then only make the titles look a word more alike).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.core.models import Story
from bot.core.ports import SeenTitle, StoryCopy, StoryKeys
from bot.core.titles import SAME_STORY, digest, near_keys, title_words
from bot.feeds.dedupe_tables import Entries, Postings, sketch

StoryKey = tuple[int, str]  # (feed_id, story_id)

# Postings read per key, newest first. 64 covers every story of a busy word within a few
# hours of a large install; the per-key list of a template is longer than that.
BUCKET_CAP = 64
# Titles compared per check, whatever the number of keys (a 250-word title has 51).
COMPARE_CAP = 256
# Stories named as earlier copies: enough for a wire story carried by every outlet a
# channel follows; a feed repeating one title 10,000 times must not make every copy
# carry (and every alert query name) all the others.
GROUP_CAP = 200

# Namespaces of the index keys besides plain title words.
_LINK = 1
_WHOLE_TITLE = 2


def identity_keys(story: Story, min_words: int) -> StoryKeys:
    """The story's identity keys for the database (bot/core/ports StoryKeys): its link,
    and its title's word set when long enough to be no one else's, exactly and nearly
    (bot/core/titles.py). Hashed with fixed functions, unlike the index's salted ones:
    every process must agree."""
    keys = [digest("link", story.link)] if story.link else []
    words = title_words(story.title)
    if len(words) < min_words:
        return StoryKeys(story.story_id, story.source, tuple(keys))
    keys.append(digest("title", "\x1f".join(sorted(words))))
    return StoryKeys(story.story_id, story.source, tuple(keys), near_keys(words), words)


class DuplicateIndex:
    """In memory, rebuilt at start from the stories of the last `window` (they persist).

    Not thread-safe: one caller at a time (the refresher holds a lock around each use and
    runs the batch methods in a worker thread, so the event loop is never held).
    """

    def __init__(
        self,
        window: timedelta,
        *,
        threshold: float = SAME_STORY,
        min_words: int = 4,
        bucket_cap: int = BUCKET_CAP,
        compare_cap: int = COMPARE_CAP,
        group_cap: int = GROUP_CAP,
    ) -> None:
        self.window = window
        self.threshold = threshold
        # Short titles ("Live updates", "Briefing") are shared by unrelated stories.
        self.min_words = min_words
        self.bucket_cap = bucket_cap
        self.compare_cap = compare_cap
        self.group_cap = group_cap
        self.comparisons = 0  # titles compared so far (tests and benchmarks read it)
        self._entries = Entries()
        self._postings = Postings()
        # Entry -> the (feed_id, story_id) of its group, oldest first, one list shared by
        # the group's entries; only entries that have a copy are here.
        self._groups: dict[int, list[StoryKey]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def postings_read(self) -> int:
        """Index postings read by lookups so far: the work of finding candidates."""
        return self._postings.reads

    @property
    def enabled(self) -> bool:
        return self.window > timedelta(0)

    def _prefix(self, words: frozenset[str]) -> list[int]:
        """The hashes of the title's prefix words (none for a title too short to index).

        A fixed order that does not depend on what has been seen (frequencies would
        change it over time and break the prefix guarantee). Longer words first: short
        ones ("in", "the", "and") are the common ones, and a common word in a prefix
        makes a big bucket. Ties by the salted hash: no feed can choose which of its
        words are indexed.
        """
        if len(words) < self.min_words:
            return []
        size = len(words) - math.ceil(self.threshold * len(words) - 1e-9) + 1
        return [h for _, h, _ in sorted([(-len(w), hash(w), w) for w in words])[:size]]

    def prune(self, now: datetime) -> None:
        old = self._entries.first
        first = self._entries.forget_seen_before((now - self.window).timestamp())
        if first == old:
            return
        self._postings.forget_before(first)
        if self._groups:
            for entry in range(old, first):
                self._groups.pop(entry, None)

    def keys_for(self, stories: Sequence[Story]) -> list[StoryKeys]:
        """The identity keys of `stories`, by which the database (the arbiter across
        processes) finds exact copies this index never saw; none when it is off."""
        if not self.enabled:
            return []
        return [identity_keys(s, self.min_words) for s in stories]

    def check_all(self, stories: Sequence[Story], now: datetime) -> list[StoryCopy]:
        """Forget what left the window, then check and index each story, seen `now`."""
        if not self.enabled:
            return []
        self.prune(now)
        return [c for s in stories if (c := self.check_and_add(s, now)) is not None]

    def load(self, stored: Iterable[SeenTitle]) -> None:
        """Index stories as stored (at start), copies among them grouped as they were."""
        if not self.enabled:
            return
        for feed_id, story_id, title, link, source, seen_at in stored:
            self._add(feed_id, story_id, title, link, source, seen_at.timestamp())

    def check_and_add(self, story: Story, seen_at: datetime) -> StoryCopy | None:
        """Index `story`; if an earlier story is the same one, say which (the copy)."""
        if not self.enabled:
            return None
        return self._add(
            story.feed_id,
            story.story_id,
            story.title,
            story.link,
            story.source,
            seen_at.timestamp(),
        )

    def _add(
        self, feed_id: int, story_id: str, title: str, link: str, source: str, seen: float
    ) -> StoryCopy | None:
        words = title_words(title)
        title_keys = self._prefix(words)
        hashes = [hash(w) & 0xFFFF_FFFF for w in words] if title_keys else []
        if title_keys:
            title_keys.append(hash((_WHOLE_TITLE, frozenset(hashes))))
        link_key = hash((_LINK, link)) if link else None
        if link_key is None and not title_keys:
            return None  # nothing to find it by: it can be no one's copy, nor have one
        earlier, again = self._find(feed_id, story_id, link_key, title_keys, hashes)
        group: list[StoryKey] | None = None
        copy = None
        if earlier is not None:
            group = self._groups.get(earlier)
            if group is None:
                group = self._groups[earlier] = [self._key(earlier)]
            me = (feed_id, story_id)
            copy = StoryCopy(story_id, source, tuple(k for k in group if k != me))
        if again:  # seen again (a retried refresh): the first entry stays
            return copy
        entry = self._entries.add(feed_id, story_id, sys.intern(source), seen, hashes)
        if group is not None:
            self._groups[entry] = group
            if len(group) < self.group_cap:
                group.append((feed_id, story_id))
        if link_key is not None:
            self._postings.add(link_key, entry)
        bits = sketch(hashes)
        for key in title_keys:
            self._postings.add(key, entry, bits)
        return copy

    def _key(self, entry: int) -> StoryKey:
        return self._entries.feed_id(entry), self._entries.story_id(entry)

    def _is(self, entry: int, feed_id: int, story_id: str) -> bool:
        entries = self._entries
        return entries.feed_id(entry) == feed_id and entries.story_id(entry) == story_id

    def _find(
        self,
        feed_id: int,
        story_id: str,
        link_key: int | None,
        title_keys: list[int],
        hashes: list[int],
    ) -> tuple[int | None, bool]:
        """(the earliest story that is the same one, whether this one is indexed already)."""
        entries, postings = self._entries, self._postings
        best: int | None = None
        again = False
        if link_key is not None:
            for entry in postings.find(link_key, self.bucket_cap):
                if self._is(entry, feed_id, story_id):
                    again = True
                elif best is None or entries.seen(entry) <= entries.seen(best):
                    best = entry
        if best is not None or not title_keys:
            return best, again
        mine = frozenset(hashes)
        size = len(mine)
        # Jaccard >= t needs t·|x| <= |y| <= |x|/t: sizes outside that are never compared;
        # and at least t·|x| words in common, so (see `sketch`) as many sketch bits less
        # the words of x that share a bit.
        low = self.threshold * size - 1e-9
        high = size / self.threshold + 1e-9
        bits = sketch(hashes)
        common = math.ceil(self.threshold * size - 1e-9) - (size - bits.bit_count())
        budget = self.compare_cap
        compared: set[int] = set()
        # The whole-title key first: an identical title is the likeliest copy.
        for key in reversed(title_keys):
            for entry in postings.find(key, self.bucket_cap, bits, common):
                if budget <= 0:
                    return best, again
                if entry in compared or not low <= entries.word_count(entry) <= high:
                    continue
                compared.add(entry)
                budget -= 1
                self.comparisons += 1
                shared = len(mine.intersection(entries.words(entry)))
                similar = shared / (size + entries.word_count(entry) - shared) >= self.threshold
                if not similar:
                    continue
                if self._is(entry, feed_id, story_id):
                    again = True
                elif best is None or entries.seen(entry) <= entries.seen(best):
                    best = entry
        return best, again
