"""Queries checked at once and indexed only when a story could match them: `newsbot match`.

A one-shot run over a few feeds with a file of 100,000 queries would spend most of its time
indexing queries that none of its stories can match. Each query is checked (parsed) up
front, as before, but waits out of the index until a batch of stories arrives whose words
could satisfy it; the rest are never indexed. The matches are the same: a story can only
match a query holding a positive word the story has, and every form a query word matches
starts with the word less its last letter (its plurals, possessives, `ies` and adjectives
all do; see bot.core.query.inflect), an exact word or a prefix with the word itself. So a
query none of whose positive words begins any word of the batch cannot match it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from functools import partial

from bot.core.matching.shapes import Shapes
from bot.core.query import parse_query
from bot.core.query.inflect import inflects


class WaitingQueries:
    def __init__(self) -> None:
        self._shapes = Shapes()
        self._unsure: list[tuple[int, str]] = []  # queries the shapes do not read: indexed first
        # (id, text, the start any word matching one of its positive words has)
        self._waiting: list[tuple[int, str, list[str]]] = []

    def __len__(self) -> int:
        return len(self._unsure) + len(self._waiting)

    def add(self, query_id: int, text: str) -> None:
        """Check `text` (a bad query raises QueryError) and keep it waiting."""
        text = text.strip()
        shaped = self._shapes.of(text)
        if shaped is None:
            parse_query(text)
            self._unsure.append((query_id, text))
            return
        shape, written = shaped
        starts = []
        for i in shape.positive:
            slot, literal, mode = shape.occurrences[i]
            norm = written[slot].lower() if slot >= 0 else literal
            starts.append(norm[:-1] if mode == "word" and inflects(norm) else norm)
        self._waiting.append((query_id, text, starts))

    def ready_for(self, words: Iterable[str]) -> list[tuple[int, str]]:
        """The waiting queries a story of these words (normal forms) could match; they wait
        no more."""
        ordered = sorted(set(words))
        size = len(ordered)
        ordered.append("")  # stands past the end (the bisects stop before it): no word
        # Every start of every waiting query at once, by C-level passes (a bisect each).
        owners = [i for i, query in enumerate(self._waiting) for _ in query[2]]
        starts = [start for query in self._waiting for start in query[2]]
        found = map(ordered.__getitem__, map(partial(bisect_left, ordered, hi=size), starts))
        hit = {
            i
            for i, start, word in zip(owners, starts, found, strict=True)
            if word.startswith(start)
        }
        ready, self._unsure = self._unsure, []
        ready += (query[:2] for i, query in enumerate(self._waiting) if i in hit)
        self._waiting = [query for i, query in enumerate(self._waiting) if i not in hit]
        return ready

    def take_all(self) -> list[tuple[int, str]]:
        """Every query still waiting; none waits after."""
        ready = self._unsure + [query[:2] for query in self._waiting]
        self._unsure, self._waiting = [], []
        return ready
