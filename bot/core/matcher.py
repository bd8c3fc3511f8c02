"""Match stories against every active subscription at once.

The index maps each term to the subscriptions that use it, so a story only costs work
for the subscriptions whose terms it contains.
"""

from __future__ import annotations

from collections import defaultdict

from bot.core.models import Match
from bot.core.query import WORD_RE, Query, parse_query


class Matcher:
    def __init__(self) -> None:
        self._queries: dict[int, Query] = {}
        self._by_term: defaultdict[str, set[int]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._queries)

    def add(self, subscription_id: int, query: str | Query) -> None:
        parsed = parse_query(query) if isinstance(query, str) else query
        self.remove(subscription_id)
        self._queries[subscription_id] = parsed
        for term in set(parsed.terms):
            self._by_term[term].add(subscription_id)

    def remove(self, subscription_id: int) -> None:
        old = self._queries.pop(subscription_id, None)
        if old is None:
            return
        for term in set(old.terms):
            ids = self._by_term.get(term)
            if ids is not None:
                ids.discard(subscription_id)
                if not ids:
                    del self._by_term[term]

    def match(self, title: str, summary: str) -> list[Match]:
        words = {m.group(0).casefold() for m in WORD_RE.finditer(f"{title}\n{summary}")}
        candidates: set[int] = set()
        for word in words:
            candidates.update(self._by_term.get(word, ()))
        results: list[Match] = []
        for sub_id in sorted(candidates):
            query = self._queries[sub_id]
            if all(term in words for term in query.terms):
                results.append(Match(sub_id, query.text, tuple(dict.fromkeys(query.words))))
        return results
