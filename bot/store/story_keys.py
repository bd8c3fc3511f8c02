"""Story identity keys, the same on every backend (only the SQL differs).

A new story's keys are claimed for it in the transaction that records it; a key another
story owns already (within the duplicate window) makes the new one that story's copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.core.ports import StoryCopy, StoryKeys


def key_rows(keys: Sequence[StoryKeys], recorded: set[str]) -> list[tuple[str, str]]:
    """(key, story_id) to claim, each key once (for the first story of the batch that has
    it: the later ones are its copies), only for stories recorded here, in key order
    (PostgreSQL locks them in that order: two batches never wait on each other in a
    circle)."""
    owner: dict[str, str] = {}
    for k in keys:
        if k.story_id in recorded:
            for key in k.keys:
                owner.setdefault(key, k.story_id)
    return sorted(owner.items())


def copies_from_owners(
    feed_id: int, keys: Sequence[StoryKeys], owners: Iterable[tuple[str, int, str]]
) -> list[StoryCopy]:
    """The stories whose keys another story owns: their copies. `owners` are (key,
    feed_id, story_id), the oldest owner first (the order a copy names its originals)."""
    by_key = {key: (rank, f, s) for rank, (key, f, s) in enumerate(owners)}
    found: list[StoryCopy] = []
    for k in keys:
        # Plain loops: a first poll of a big feed checks 10,000 stories, copies are rare.
        others = None
        for key in k.keys:
            owner = by_key.get(key)
            if owner is not None and (owner[1] != feed_id or owner[2] != k.story_id):
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
