"""Words chosen to hurt a matcher whose word table uses a fixed, public hash.

Until issue 12 the compiled core hashed words with FNV-1a-64 and a fixed finaliser, and
filed them by linear probing. Anyone can compute that hash offline, so these helpers
reproduce it to craft what an attacker would: pairs of words with one 64-bit hash, and
thousands of words whose home slots fall in one small window of the table. The tests and
the hostile-input benchmark feed them to today's matcher, whose hash is keyed per process.
"""

from __future__ import annotations

import random
import string

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1

# Two 16-letter words with one FNV-1a-64 hash (found by a meet-in-the-middle search):
# the old core took either for the other.
FNV_COLLISION = ("lkcoccohocfcaadk", "mkaahphofkpnoeee")


def fnv1a64(data: bytes, h: int = FNV_OFFSET) -> int:
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def old_finish(h: int) -> int:
    """The old core's finaliser over FNV-1a: its table slot was `old_finish(h) & mask`."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    h ^= h >> 33
    return h + 2 if h < 2 else h


def old_table_slots(keys: int) -> int:
    """Slots of the old core's table after `keys` inserts (grown 3/4 full to 3/5 full)."""
    cap = 8
    for used in range(keys):
        if (used + 1) * 4 > cap * 3:
            while (used + 1) * 5 > cap * 3:
                cap *= 2
    return cap


def old_home(word: str, slots: int) -> int:
    return old_finish(fnv1a64(word.encode())) & (slots - 1)


def words_in_one_window(count: int, slots: int, window: int, seed: int) -> list[str]:
    """`count` distinct lower-case words whose old home slots all lie in [0, window) of a
    table of `slots` slots: a flood for the old core, random words for a keyed hash."""
    rng = random.Random(seed)
    letters = string.ascii_lowercase.encode()
    found: set[str] = set()
    while len(found) < count:
        stem = "".join(rng.choices(string.ascii_lowercase, k=7))
        state = fnv1a64(stem.encode())
        # the last two letters varied from one hashed stem: ~1 us a candidate in Python
        for a in letters:
            after_a = ((state ^ a) * FNV_PRIME) & MASK64
            for b in letters:
                if old_finish(((after_a ^ b) * FNV_PRIME) & MASK64) & (slots - 1) < window:
                    found.add(stem + chr(a) + chr(b))
    return sorted(found)[:count]


def random_words(count: int, seed: int, length: int = 9) -> list[str]:
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(rng.choices(string.ascii_lowercase, k=length)))
    return sorted(found)


def shared_head_prefixes(count: int, head: str, seed: int) -> list[str]:
    """`count` distinct prefixes `head` + 4 letters: filed under one 4-byte head, the old
    core compared every story word starting with `head` against all of them."""
    return [head + w for w in random_words(count, seed, length=4)]
