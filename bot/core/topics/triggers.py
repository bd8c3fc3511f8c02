"""The story words the matcher files a `topic:` term under (see pack.Topic.triggers).

Kept apart from pack.py so the matcher's backends import one small function; the pack is
loaded on the first call, which the parser has already made for any topic query.
"""

from __future__ import annotations

from bot.core.topics.pack import current


def topic_triggers(key: str) -> frozenset[str]:
    """Normal forms of the words that make a story a candidate for topic `key`."""
    pack = current()
    if key not in pack.topics:
        return frozenset()  # the pack was replaced since this term was parsed
    return pack.triggers(key)
