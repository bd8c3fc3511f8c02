"""Story identity keys, the same on every backend (only the SQL differs).

A new story's keys are claimed for it in the transaction that records it; a key another
story owns already (within the duplicate window) makes the new one that story's copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.core.ports import StoryCopy, StoryKeys
from bot.core.titles import same_story


def key_rows(keys: Sequence[StoryKeys], recorded: set[str]) -> list[tuple[str, str]]:
    """(key, story_id) to claim, each key once (for the first story of the batch that has
    it: the later ones are its copies), only for stories recorded here, in key order
    (PostgreSQL locks them in that order: two batches never wait on each other in a
    circle). Near keys too: a story owns those of its own that no one held."""
    owner: dict[str, str] = {}
    for k in keys:
        if k.story_id in recorded:
            for key in (*k.keys, *k.near):
                owner.setdefault(key, k.story_id)
    return sorted(owner.items())


Owner = tuple[int, str]  # (feed_id, story_id)


def batch_words(feed_id: int, keys: Sequence[StoryKeys]) -> dict[Owner, frozenset[str]]:
    """The title words of the batch's own stories, by (feed_id, story_id)."""
    return {(feed_id, k.story_id): k.words for k in keys if k.near}


def near_owners(
    keys: Sequence[StoryKeys],
    owners: Iterable[tuple[str, int, str]],
    known: Mapping[Owner, frozenset[str]],
) -> set[Owner]:
    """Stories that own one of the batch's near keys and whose title words are not
    `known` yet (the batch's own are): their titles must be read before they can be
    called the same story."""
    near = {key for k in keys for key in k.near}
    return {(f, s) for key, f, s in owners if key in near and (f, s) not in known}


def copies_from_owners(
    feed_id: int,
    keys: Sequence[StoryKeys],
    owners: Iterable[tuple[str, int, str]],
    words_of: Mapping[Owner, frozenset[str]] | None = None,
) -> list[StoryCopy]:
    """The stories whose keys another story owns: their copies. `owners` are (key,
    feed_id, story_id), the oldest owner first (the order a copy names its originals).
    A near key's owner counts only when `words_of` holds its title's words and they are
    the same story as the copy's (a shared band is only a candidate)."""
    words_of = words_of or {}
    by_key = {key: (rank, f, s) for rank, (key, f, s) in enumerate(owners)}
    found: list[StoryCopy] = []
    for k in keys:
        # Plain loops: a first poll of a big feed checks 10,000 stories, copies are rare.
        others = None
        for key in k.keys:
            owner = by_key.get(key)
            if owner is not None and (owner[1] != feed_id or owner[2] != k.story_id):
                others = [owner] if others is None else [*others, owner]
        for key in k.near:
            owner = by_key.get(key)
            if owner is None or (owner[1] == feed_id and owner[2] == k.story_id):
                continue
            theirs = words_of.get((owner[1], owner[2]))
            if theirs is not None and same_story(k.words, theirs):
                others = [owner] if others is None else [*others, owner]
        if others is not None:
            originals = tuple(dict.fromkeys((f, s) for _, f, s in sorted(others)))
            found.append(StoryCopy(k.story_id, k.source, originals))
    return found


def merged(memory: Sequence[StoryCopy], found: Sequence[StoryCopy]) -> list[StoryCopy]:
    """The copies the duplicate index found and those the keys found, one per story: the
    keys' owners first (the database's word), then the index's near matches."""
    by_story = {c.story_id: c for c in memory}
    for c in found:
        mine = by_story.get(c.story_id)
        earlier = c.earlier if mine is None else tuple(dict.fromkeys(c.earlier + mine.earlier))
        by_story[c.story_id] = StoryCopy(c.story_id, c.source, earlier)
    return list(by_story.values())
