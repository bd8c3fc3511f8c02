"""Threads (`/news threads on`): a story's later developments under its first alert.

A later development is a new alert for a subscription that an alert sent earlier in the
channel also matched, whose title is close to that alert's but not close enough to be the
same story: word-set similarity (Jaccard) from RELATED up to, not including, SAME_STORY,
the "same story" threshold of the duplicate index (bot/feeds/dedupe.py), whose copies
never become alerts of their own. It goes in the thread of the earliest such alert (the
thread's own first message, when that alert was itself a development).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import Alert
from bot.core.ports import PendingEdit
from bot.core.query.text import tokenize

RELATED = 0.5
SAME_STORY = 0.8
THREAD_OF = "thread_of"  # Alert.extra: the platform id of the thread's first message


def similarity(a: str, b: str) -> float:
    return _jaccard(_words(a), _words(b))


def _words(title: str) -> frozenset[str]:
    return frozenset(tokenize(title))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def thread_root(alert: Alert, sent: Sequence[PendingEdit]) -> str | None:
    """The message whose thread `alert` belongs in, among `sent` (alerts of its channel sent
    before it, oldest first, with their message ids); None: a story of its own.

    An earlier alert that was itself a development was posted in its story's thread, so
    the thread is that one's (worked out the same way: the answer never changes at a
    resend, as only what went out before an alert decides where it goes)."""
    before = [
        e for e in sent if e.alert.id is not None and (alert.id is None or e.alert.id < alert.id)
    ]
    words = {id(e): _words(e.alert.title) for e in before}
    roots: dict[int, str] = {}  # memo: an earlier alert's own thread root (or its id)

    def root_of(index: int) -> str:
        entry = before[index]
        key = id(entry)
        if key not in roots:
            parent = _parent(entry.alert, words[key], before[:index])
            roots[key] = root_of(parent) if parent is not None else entry.remote_id
        return roots[key]

    def _parent(
        item: Alert, item_words: frozenset[str], earlier: Sequence[PendingEdit]
    ) -> int | None:
        topics = set(item.topics)
        for n, candidate in enumerate(earlier):
            if topics & set(candidate.alert.topics) and (
                RELATED <= _jaccard(item_words, words[id(candidate)]) < SAME_STORY
            ):
                return n
        return None

    parent = _parent(alert, _words(alert.title), before)
    return root_of(parent) if parent is not None else None
