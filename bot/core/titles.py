"""Titles as sets of words: when two stories are the same one, and keys that find it.

Two stories are the same when their normalised titles (case-folded, punctuation dropped,
as sets of words) have a Jaccard similarity of at least SAME_STORY. In one process the
duplicate index (bot/feeds/dedupe.py) finds such pairs; across processes the database
does, through keys every process computes alike (bot/core/ports StoryKeys):

- exact keys: a hash of the link, and of the whole word set;
- near keys: MinHash locality-sensitive hashing (Broder 1997; the banding of Indyk and
  Motwani, as in Leskovec, Rajaraman and Ullman, "Mining of Massive Datasets", ch. 3).
  NEAR_HASHES minimum hashes of the word set, in NEAR_BANDS bands of NEAR_ROWS; each band
  is one key. Two sets share a band with probability 1 - (1 - s^ROWS)^BANDS for a
  Jaccard similarity s: 0.985 at 0.8, 0.9998 at 0.9, 0.06 at 0.3. A shared band only
  makes a candidate: the database compares the two titles (`similarity`) before it
  calls one a copy, so a chance band never folds two different stories.

The hashes are fixed (blake2b), not Python's salted `hash`: every process must compute
the same keys.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from typing import Final

_WORD: Final = re.compile(r"\w+")

SAME_STORY: Final = 0.8  # Jaccard similarity of two titles that are one story
NEAR_ROWS: Final = 4
NEAR_BANDS: Final = 8
NEAR_HASHES: Final = NEAR_ROWS * NEAR_BANDS
_SLOT: Final = struct.Struct(f"<{NEAR_HASHES}I")  # NEAR_HASHES 32-bit hashes a word


def title_words(title: str) -> frozenset[str]:
    """Case-folded words, punctuation and accents' composition differences ignored."""
    return frozenset(_WORD.findall(unicodedata.normalize("NFKC", title).casefold()))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two word sets (0 for two empty ones)."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def same_story(a: frozenset[str], b: frozenset[str]) -> bool:
    return similarity(a, b) >= SAME_STORY - 1e-9


def digest(kind: str, text: str) -> str:
    """A fixed hash of `text`, named by `kind` (the keys' namespace)."""
    return f"{kind}:{hashlib.blake2b(text.encode(), digest_size=16).hexdigest()}"


def _hashes(word: str) -> tuple[int, ...]:
    # Each 32-bit slot of a cryptographic digest is a hash function of its own: the
    # NEAR_HASHES functions MinHash needs, from two digests per word.
    data = word.encode()
    raw = hashlib.blake2b(data, digest_size=64).digest()
    raw += hashlib.blake2b(data, digest_size=64, person=b"newsbot-near").digest()
    return _SLOT.unpack(raw[: _SLOT.size])


def near_keys(words: frozenset[str]) -> tuple[str, ...]:
    """The word set's NEAR_BANDS band keys (none for an empty set)."""
    if not words:
        return ()
    minima = [str(m) for m in map(min, zip(*map(_hashes, sorted(words)), strict=True))]
    return tuple(
        digest(f"near{band}", " ".join(minima[band * NEAR_ROWS : (band + 1) * NEAR_ROWS]))
        for band in range(NEAR_BANDS)
    )
