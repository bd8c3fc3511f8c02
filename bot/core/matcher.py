"""Match stories against every active subscription at once, through one index.

Cost per story: tokenize it once; look each distinct word up (one dictionary hit, cached
per word); gather the queries filed under an atom the story holds (see the cover in
bot.core.matcher_plan); evaluate only those. Nothing is done per subscription that the
story gives no reason to look at, so the cost follows the story's length and the matches,
not the number of subscriptions. Adding or removing a subscription updates the index in
place; equal queries (`NATO`, `nato`) share one compiled entry.
"""

from __future__ import annotations

from bisect import insort
from itertools import chain
from typing import cast

from bot.core.matcher_plan import Compiled, LazySpans, compile_query
from bot.core.matcher_story import StoryView
from bot.core.models import Match
from bot.core.query import Query, parse_query
from bot.core.query.ast import Node, Word, canonical
from bot.core.query.inflect import base_candidates, word_forms

_TOKEN_CACHE_MAX = 500_000
_NO_ATOMS: tuple[int, ...] = ()


class _Entry:
    """One distinct query (by meaning), compiled once, and who subscribed to it."""

    __slots__ = ("compiled", "key", "subscribers", "terms")

    def __init__(self, key: str, compiled: Compiled, terms: tuple[int, ...]) -> None:
        self.key = key
        self.compiled = compiled
        # Subscription id, query as written, id, query...: one flat tuple, as most queries
        # have one subscriber (a dict or a tuple of pairs each would double the memory).
        self.subscribers: tuple[int | str, ...] = ()
        self.terms = terms  # distinct term ids it holds a reference to

    def pairs(self) -> zip[tuple[int, str]]:
        """(subscription id, query as written) for each subscriber."""
        flat = self.subscribers
        return zip(cast(tuple[int, ...], flat[::2]), cast(tuple[str, ...], flat[1::2]), strict=True)


class Matcher:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}  # by canonical(query.node)
        self._by_subscription: dict[int, _Entry] = {}
        self._by_cover: dict[int, tuple[_Entry, ...]] = {}  # tuples: most atoms cover one
        # Terms: one id per distinct word-test, shared by every query using it.
        self._term_ids: dict[tuple[str, str], int] = {}  # (norm, mode): C-level hashing
        self._terms: dict[int, Word] = {}
        self._term_refs: dict[int, int] = {}
        self._next_term = 0
        # Query words by normal form; a story word reaches a "word" term through its
        # possible bases (inflect.base_candidates), so each term is filed once, not per form.
        self._by_word: dict[str, list[int]] = {}
        self._by_exact: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._prefix_lengths: list[int] = []  # distinct prefix lengths, ascending
        self._prefix_length_uses: dict[int, int] = {}
        self._token_cache: dict[str, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._by_subscription)

    @property
    def distinct_queries(self) -> int:
        return len(self._entries)

    def add(self, subscription_id: int, query: str | Query) -> None:
        parsed = parse_query(query) if isinstance(query, str) else query
        self.remove(subscription_id)
        key = canonical(parsed.node)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._new_entry(key, parsed.node)
        entry.subscribers += (subscription_id, parsed.text)
        self._by_subscription[subscription_id] = entry

    def remove(self, subscription_id: int) -> None:
        entry = self._by_subscription.pop(subscription_id, None)
        if entry is None:
            return
        entry.subscribers = tuple(
            chain.from_iterable(pair for pair in entry.pairs() if pair[0] != subscription_id)
        )
        if not entry.subscribers:
            self._drop_entry(entry)

    def match(self, title: str, summary: str) -> list[Match]:
        story = StoryView(title, summary, self._lookup, self._token_cache)
        by_cover = self._by_cover
        candidates: set[_Entry] = set().union(
            *map(by_cover.__getitem__, story.present & by_cover.keys())
        )
        results: list[Match] = []
        for entry in candidates:
            compiled = entry.compiled
            plan = compiled.plan
            if plan is not None and not plan.test(story):
                continue
            words = compiled.words
            if words is None:  # OR inside: report the terms this story has
                leaves = tuple(leaf for leaf in compiled.leaves if leaf.found(story))
                words = tuple(dict.fromkeys(leaf.display for leaf in leaves))
            else:
                leaves = compiled.leaves
            where = LazySpans(story, leaves)  # shared by the entry's subscribers
            subscribers = entry.subscribers
            if len(subscribers) == 2:  # one subscriber: most queries
                sub_id, text = cast(tuple[int, str], subscribers)
                results.append(Match(sub_id, text, words, where))
            else:
                results.extend(Match(i, text, words, where) for i, text in entry.pairs())
        if len(results) > 1:
            results.sort(key=_by_subscription)
        return results

    # -- the index ---------------------------------------------------------------------

    def _new_entry(self, key: str, node: Node) -> _Entry:
        used: list[int] = []

        def term_id(word: Word) -> int:
            tid = self._acquire(word)
            used.append(tid)
            return tid

        compiled = compile_query(node, term_id, self._weight)
        # _acquire counted every use; keep one reference per distinct term per entry.
        terms = tuple(set(used))
        for tid in used:
            self._term_refs[tid] -= 1
        for tid in terms:
            self._term_refs[tid] += 1
        entry = _Entry(key, compiled, terms)
        self._entries[key] = entry
        for atom in compiled.cover:
            self._by_cover[atom] = (*self._by_cover.get(atom, ()), entry)
        return entry

    def _drop_entry(self, entry: _Entry) -> None:
        del self._entries[entry.key]
        for atom in entry.compiled.cover:
            bucket = tuple(e for e in self._by_cover.get(atom, ()) if e is not entry)
            if bucket:
                self._by_cover[atom] = bucket
            else:
                self._by_cover.pop(atom, None)
        for tid in entry.terms:
            self._term_refs[tid] -= 1
        self._release_unused(entry.terms)

    def _acquire(self, word: Word) -> int:
        tid = self._term_ids.get((word.norm, word.mode))
        if tid is None:
            tid = self._next_term
            self._next_term += 1
            self._term_ids[word.norm, word.mode] = tid
            self._terms[tid] = word
            self._term_refs[tid] = 0
            if word.mode == "prefix":
                self._by_prefix.setdefault(word.norm, []).append(tid)
                uses = self._prefix_length_uses.get(len(word.norm), 0)
                if uses == 0:
                    insort(self._prefix_lengths, len(word.norm))
                self._prefix_length_uses[len(word.norm)] = uses + 1
            else:
                index = self._by_word if word.mode == "word" else self._by_exact
                index.setdefault(word.norm, []).append(tid)
            self._token_cache.clear()  # a word may now satisfy a new term
        self._term_refs[tid] += 1
        return tid

    def _release_unused(self, tids: tuple[int, ...]) -> None:
        for tid in tids:
            if self._term_refs[tid] > 0:
                continue
            word = self._terms.pop(tid)
            del self._term_refs[tid]
            del self._term_ids[word.norm, word.mode]
            index = {"prefix": self._by_prefix, "word": self._by_word}.get(
                word.mode, self._by_exact
            )
            bucket = index[word.norm]
            bucket.remove(tid)
            if not bucket:
                del index[word.norm]
            if word.mode == "prefix":
                self._prefix_length_uses[len(word.norm)] -= 1
                if not self._prefix_length_uses[len(word.norm)]:
                    del self._prefix_length_uses[len(word.norm)]
                    self._prefix_lengths.remove(len(word.norm))
            self._token_cache.clear()

    def _weight(self, atom: int) -> float:
        """Guessed share of stories holding `atom` (lower is rarer): shorter is commoner."""
        word = self._terms[atom // 2]
        length = len(word.norm) - (2 if word.mode == "prefix" else 0)
        return 0.5 ** min(max(length, 1), 16) * (0.2 if atom % 2 else 1.0)

    def _lookup(self, token: str) -> tuple[int, ...]:
        """The anywhere-atoms one story word satisfies (cached: vocabularies repeat)."""
        atoms = self._token_cache.get(token)
        if atoms is not None:
            return atoms
        tids = list(self._by_exact.get(token, ()))
        by_word = self._by_word
        for base in base_candidates(token):
            found = by_word.get(base)
            if found and token in word_forms(base):
                tids.extend(found)
        for length in self._prefix_lengths:
            if length > len(token):
                break
            tids.extend(self._by_prefix.get(token[:length], ()))
        atoms = tuple(2 * t for t in tids) if tids else _NO_ATOMS
        if len(self._token_cache) >= _TOKEN_CACHE_MAX:
            self._token_cache.clear()
        self._token_cache[token] = atoms
        return atoms


def _by_subscription(match: Match) -> int:
    return match.subscription_id
