"""The duplicate index's memory: flat columns instead of an object per story or per key.

A day of a large install holds 100,000 stories in the window. As Python objects (a frozenset
of word strings, a dict per index key, a datetime per story) that cost over 3 KB a story;
here a story is a few machine words in `array`s plus its id's bytes, and an index posting
is a 64-bit key and three 32-bit integers. Stories and postings are numbered in the order
they were added and leave from the front (the oldest first), so forgetting them is moving
a number, and the space is given back by cutting the front off each column now and then
(C-level `del column[:n]`), never by rebuilding anything in Python.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable

# Cut the forgotten front off the columns once it is this long and at least half of them:
# the copying then costs at most as much as the adds since the last cut.
_COMPACT_AT = 4096


def sketch(word_hashes: Iterable[int]) -> int:
    """32 bits, one set per word (of 32-bit word hashes).

    A word of title x whose bit is not in title y's sketch is not in y; so x (n words,
    sketch a) and y (sketch b) share at most popcount(a & b) + n - popcount(a) words
    (the last term: x's own words that share a bit). Checked before comparing two
    titles: most titles that share a common word share little else, and this rules
    them out for the price of an AND.
    """
    bits = 0
    for h in word_hashes:
        bits |= 1 << (h >> 27)  # the high bits: the low ones pick the table slot
    return bits


class Postings:
    """A multimap from an integer key to entry numbers, newest first, in flat arrays.

    A chained hash table: `_heads[key & mask]` holds the newest posting of that slot,
    each posting the next older one of the same slot (other keys may share a slot; their
    postings are read past). Entry numbers must be added in increasing order, so the
    postings of forgotten entries are always a prefix. Each posting keeps its entry's
    sketch, so a lookup rules most entries out without looking them up.

    Postings are numbered from 1 (0 ends a chain) in 32 bits, as are entry numbers: one
    process would have to index a billion stories (decades of a large install) before an
    append overflowed, and that raises OverflowError, never a wrong answer.
    """

    def __init__(self) -> None:
        self._key = array("q")
        self._entry = array("I")
        self._next = array("I")
        self._sketch = array("I")
        self._base = 1  # the number of the posting in column position 0
        self._first = 1  # the oldest posting still live
        self._heads = array("I", [0]) * 1024
        self._mask = len(self._heads) - 1
        self.reads = 0  # postings read by `find` so far (tests and benchmarks read it)

    def __len__(self) -> int:
        return self._base + len(self._key) - self._first

    def add(self, key: int, entry: int, sketch: int = 0) -> None:
        number = self._base + len(self._key)
        slot = key & self._mask
        self._key.append(key)
        self._entry.append(entry)
        self._sketch.append(sketch)
        self._next.append(self._heads[slot])
        self._heads[slot] = number
        if number - self._first >= len(self._heads):
            self._grow()

    def find(self, key: int, limit: int, sketch: int = 0, common: int = 0) -> list[int]:
        """Entries filed under `key` whose sketch shares at least `common` bits with
        `sketch`, newest first, reading at most `limit` postings."""
        found: list[int] = []
        keys, entries, nexts, sketches = self._key, self._entry, self._next, self._sketch
        base, first = self._base, self._first
        number = self._heads[key & self._mask]
        read = 0
        while number >= first and read < limit:
            i = number - base
            if keys[i] == key and (sketch & sketches[i]).bit_count() >= common:
                found.append(entries[i])
            number = nexts[i]
            read += 1
        self.reads += read
        return found

    def forget_before(self, entry: int) -> None:
        """Forget the postings of entries numbered below `entry`."""
        start = self._first - self._base
        self._first = self._base + bisect_left(self._entry, entry, start)
        cut = self._first - self._base
        if cut >= _COMPACT_AT and cut * 2 >= len(self._key):
            del self._key[:cut]
            del self._entry[:cut]
            del self._next[:cut]
            del self._sketch[:cut]
            self._base += cut

    def _grow(self) -> None:
        """Twice the slots, so chains stay about one posting long; relink live postings."""
        heads = array("I", [0]) * (len(self._heads) * 2)
        mask = len(heads) - 1
        keys, nexts, base = self._key, self._next, self._base
        for i in range(self._first - base, len(keys)):
            slot = keys[i] & mask
            nexts[i] = heads[slot]
            heads[slot] = base + i
        self._heads, self._mask = heads, mask


class Entries:
    """Per story: feed id, story id (UTF-8 bytes), source, seen time, title-word hashes
    (32 bits: two different words of two near-identical titles agree by chance once in
    four billion, and then only make them look a word more alike).

    Numbered from 0 in the order added; `first` is the oldest still kept.
    """

    def __init__(self) -> None:
        self.first = 0
        self._base = 0  # the number of the entry in column position 0
        self._feed = array("q")
        self._seen = array("d")  # POSIX seconds
        self._source: list[str] = []  # interned: a feed's stories share one string
        self._id_start = array("q")  # offsets in _ids, counted from _ids_base
        self._ids = bytearray()
        self._ids_base = 0
        self._word_start = array("q")  # offsets in _words, counted from _words_base
        self._word_count = array("H")
        self._words = array("I")
        self._words_base = 0

    def __len__(self) -> int:
        return self._base + len(self._feed) - self.first

    @property
    def end(self) -> int:
        """The number the next entry will get."""
        return self._base + len(self._feed)

    def add(self, feed_id: int, story_id: str, source: str, seen: float, words: list[int]) -> int:
        self._feed.append(feed_id)
        self._seen.append(seen)
        self._source.append(source)
        self._id_start.append(self._ids_base + len(self._ids))
        self._ids += story_id.encode("utf-8", "surrogatepass")
        self._word_start.append(self._words_base + len(self._words))
        self._word_count.append(len(words))
        self._words.extend(words)
        return self.end - 1

    def feed_id(self, entry: int) -> int:
        return self._feed[entry - self._base]

    def seen(self, entry: int) -> float:
        return self._seen[entry - self._base]

    def source(self, entry: int) -> str:
        return self._source[entry - self._base]

    def story_id(self, entry: int) -> str:
        i = entry - self._base
        start = self._id_start[i] - self._ids_base
        end = self._id_start[i + 1] - self._ids_base if i + 1 < len(self._id_start) else None
        return self._ids[start:end].decode("utf-8", "surrogatepass")

    def word_count(self, entry: int) -> int:
        return self._word_count[entry - self._base]

    def words(self, entry: int) -> array[int]:
        i = entry - self._base
        start = self._word_start[i] - self._words_base
        return self._words[start : start + self._word_count[i]]

    def forget_seen_before(self, horizon: float) -> int:
        """Forget the oldest entries while they were seen before `horizon`; the new first.

        Entries are added about in the order they are seen; like a queue, one seen a
        little later than a newer one behind it waits for that one.
        """
        i, seen = self.first - self._base, self._seen
        while i < len(seen) and seen[i] < horizon:
            i += 1
        self.first = self._base + i
        if i >= _COMPACT_AT and i * 2 >= len(seen):
            self._compact(i)
        return self.first

    def _compact(self, cut: int) -> None:
        ids_cut = self._id_start[cut] - self._ids_base if cut < len(self._id_start) else None
        words_cut = (
            self._word_start[cut] - self._words_base if cut < len(self._word_start) else None
        )
        ids_cut = len(self._ids) if ids_cut is None else ids_cut
        words_cut = len(self._words) if words_cut is None else words_cut
        for column in (self._feed, self._seen, self._id_start, self._word_start, self._word_count):
            del column[:cut]
        del self._source[:cut]
        del self._ids[:ids_cut]
        del self._words[:words_cut]
        self._base += cut
        self._ids_base += ids_cut
        self._words_base += words_cut
