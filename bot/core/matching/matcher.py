"""Match stories against every active subscription at once, through one index.

Cost per story: tokenize it once; look each word up once in an index of every indexed word
form; gather the queries filed under an atom the story holds (see the cover in
bot.core.matching.plan); evaluate only those. Nothing is done per subscription that the story
gives no reason to look at, so the cost follows the story's length and the matches, not the
number of subscriptions. Adding or removing a subscription updates the index in place; equal
queries (`NATO`, `nato`) share one compiled entry.

This module owns what happens once per subscription (parsing, sharing, term and entry ids,
compiling). The per-story work is a backend's: `native_backend`, in C, where `_matchcore.c`
was built at install (a C compiler was there), else `python_backend`, the same in pure
Python. Both answer alike; the tests hold each to a plain reference evaluator.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from itertools import chain
from typing import Any, cast

from bot.core.matching.backend import Backend
from bot.core.matching.native_backend import AVAILABLE as NATIVE_AVAILABLE
from bot.core.matching.native_backend import NativeBackend
from bot.core.matching.plan import compile_query
from bot.core.matching.python_backend import PyBackend
from bot.core.matching.shapes import Shape, Shapes
from bot.core.models import Match
from bot.core.query import Query, parse_query
from bot.core.query.ast import Node, Word, canonical
from bot.core.query.text import tokenize
from bot.core.topics.judge import StoryText
from bot.core.topics.pack import current as current_pack
from bot.core.topics.verdict import Verdict, has_topic, verdict

__all__ = ["NATIVE_AVAILABLE", "Backend", "Matcher"]


class _Entry:
    """One distinct query (by meaning) and who subscribed to it."""

    __slots__ = ("eid", "key", "subscribers", "terms")

    def __init__(self, key: str, eid: int, terms: tuple[int, ...]) -> None:
        self.key = key
        self.eid = eid
        # Subscription id, query as written, id, query...: one flat tuple, as most queries
        # have one subscriber (a dict or a tuple of pairs each would double the memory).
        self.subscribers: tuple[int | str, ...] = ()
        self.terms = terms  # distinct term ids it holds a reference to

    def pairs(self) -> zip[tuple[int, str]]:
        """(subscription id, query as written) for each subscriber."""
        flat = self.subscribers
        return zip(cast(tuple[int, ...], flat[::2]), cast(tuple[str, ...], flat[1::2]), strict=True)


class _Ids:
    """Small ints, reused once released: the compiled core keeps arrays indexed by them."""

    __slots__ = ("_free", "_next")

    def __init__(self) -> None:
        self._free: list[int] = []
        self._next = 0

    def take(self) -> int:
        if self._free:
            return self._free.pop()
        self._next += 1
        return self._next - 1

    def give_back(self, n: int) -> None:
        self._free.append(n)


class _Staged:
    """What add_many has read and not yet handed to the backend."""

    __slots__ = ("entries", "ids", "terms")

    def __init__(self) -> None:
        self.terms: list[int] = []  # new term ids, their words in Matcher._terms
        # by key: [shape, term ids, words as written, subscribers (id, text, id, text...)]
        self.entries: dict[str, list[Any]] = {}
        self.ids: set[int] = set()  # the subscriptions staged


class Matcher:
    """`native`: None picks the compiled core when it was built; False forces pure Python."""

    def __init__(self, *, native: bool | None = None) -> None:
        use_native = NATIVE_AVAILABLE if native is None else native
        self._backend: Backend = NativeBackend() if use_native else PyBackend()
        self._entries: dict[str, _Entry] = {}  # by canonical(query.node)
        self._by_subscription: dict[int, _Entry] = {}
        self._entry_ids = _Ids()
        # Terms: one id per distinct word-test, shared by every query using it.
        self._term_ids: dict[tuple[str, str], int] = {}  # (norm, mode): C-level hashing
        self._terms: dict[int, Word] = {}
        self._term_refs: dict[int, int] = {}
        self._term_id_pool = _Ids()
        self._shapes = Shapes()
        # Queries with `topic:` terms, by text: their matches are judged (bot.core.topics),
        # once a story per distinct query (its canonical key)
        self._topical: dict[str, tuple[str, Node]] = {}

    @property
    def native(self) -> bool:
        """Whether stories are matched by the compiled core (else by pure Python)."""
        return self._backend.native

    def __len__(self) -> int:
        return len(self._by_subscription)

    @property
    def distinct_queries(self) -> int:
        return len(self._entries)

    def add(self, subscription_id: int, query: str | Query) -> None:
        """Index `query` for `subscription_id` (replacing what it had); a bad query raises
        QueryError. Given as text, a query of a shape met before skips parsing and compiling
        (see bot.core.matching.shapes): that is what keeps building 100,000 quick."""
        if isinstance(query, str):
            text = query.strip()
            shaped = self._shapes.of(text)
            if shaped is not None:
                self.remove(subscription_id)
                self._add_shaped(subscription_id, text, *shaped)
                return
            query = parse_query(text)
        parsed = query
        if has_topic(parsed.node):
            self._topical[parsed.text] = (canonical(parsed.node), parsed.node)
        self.remove(subscription_id)
        key = canonical(parsed.node)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._new_entry(key, parsed.node, (subscription_id, parsed.text))
        else:
            entry.subscribers += (subscription_id, parsed.text)
            self._backend.set_subscribers(entry.eid, entry.subscribers)
        self._by_subscription[subscription_id] = entry

    def add_many(self, queries: Iterable[tuple[int, str]]) -> None:
        """`add` each (subscription id, query text) in one pass: a start-up's or `newsbot
        match`'s whole list. A bad query raises QueryError; those before it stay added.

        Queries of a known shape are staged, then their new words go to the backend in
        one call (the word forms made rule by rule over all of them), then their entries;
        anything else is added on its own, after what was staged before it.

        The cyclic garbage collector waits until the end: each add leaves a few tracked
        objects (an entry, words, tuples), and the collector's passes over a heap growing
        by 100,000 of them cost a third of the build; the index holds no reference cycles.
        """
        collecting = gc.isenabled()
        gc.disable()
        staged = _Staged()
        try:
            shape_of = self._shapes.of
            by_subscription = self._by_subscription
            for subscription_id, query in queries:
                text = query.strip()
                shaped = shape_of(text)
                if (
                    shaped is None
                    or subscription_id in by_subscription
                    or (subscription_id in staged.ids)
                ):
                    self._flush(staged)
                    self.add(subscription_id, text)
                else:
                    self._stage(staged, subscription_id, text, *shaped)
        finally:
            try:
                self._flush(staged)
            finally:
                if collecting:
                    gc.enable()

    def remove(self, subscription_id: int) -> None:
        entry = self._by_subscription.pop(subscription_id, None)
        if entry is None:
            return
        entry.subscribers = tuple(
            chain.from_iterable(pair for pair in entry.pairs() if pair[0] != subscription_id)
        )
        if entry.subscribers:
            self._backend.set_subscribers(entry.eid, entry.subscribers)
        else:
            self._drop_entry(entry)

    def match(self, title: str, summary: str) -> list[Match]:
        """The subscriptions `title` and `summary` match, by subscription id."""
        if not self._topical:
            return self._backend.match(title, summary)
        # Topic queries read the story's words again: tokenize it once for both.
        words = (tokenize(title), tokenize(summary))
        matches = self._backend.match_words(title, summary, words)
        return self._judged(title, summary, words, matches) if matches else matches

    def _judged(
        self, title: str, summary: str, words: tuple[list[str], list[str]], matches: list[Match]
    ) -> list[Match]:
        """Matches of queries with `topic:` terms kept only when the story is about the
        topic, saying which names fired (bot.core.topics.verdict); once per query text."""
        story: StoryText | None = None
        verdicts: dict[str, Verdict | None] = {}
        out: list[Match] = []
        topical_of = self._topical.get
        for match in matches:
            topical = topical_of(match.query)
            if topical is None:
                out.append(match)
                continue
            key, node = topical
            if key not in verdicts:
                if story is None:
                    story = StoryText(title, summary, words)
                verdicts[key] = verdict(node, story, current_pack())
            judged = verdicts[key]
            if judged is not None:
                out.append(Match(match.subscription_id, match.query, judged.matched, judged.spans))
        return out

    # -- the index ---------------------------------------------------------------------

    def _add_shaped(
        self, subscription_id: int, text: str, shape: Shape, written: list[str]
    ) -> None:
        staged = _Staged()
        self._stage(staged, subscription_id, text, shape, written)
        self._flush(staged)

    def _stage(
        self, staged: _Staged, subscription_id: int, text: str, shape: Shape, written: list[str]
    ) -> None:
        """_add_shaped, but new words and entries wait in `staged` for _flush."""
        norms = " ".join(written).lower().split()
        key = shape.key(norms)
        staged.ids.add(subscription_id)
        entry = self._entries.get(key)
        if entry is not None:
            entry.subscribers += (subscription_id, text)
            self._backend.set_subscribers(entry.eid, entry.subscribers)
            self._by_subscription[subscription_id] = entry
            return
        waiting = staged.entries.get(key)
        if waiting is not None:
            waiting[3] += (subscription_id, text)
            return
        known = self._term_ids
        tids: list[int] = []
        for slot, literal, mode in shape.occurrences:
            word = (norms[slot] if slot >= 0 else literal, mode)
            tid = known.get(word)
            if tid is None:  # a new term, known to the backend at _flush
                tid = known[word] = self._term_id_pool.take()
                self._terms[tid] = Word(*word)
                self._term_refs[tid] = 0
                staged.terms.append(tid)
            tids.append(tid)
        staged.entries[key] = [shape, tids, written, (subscription_id, text)]

    def _flush(self, staged: _Staged) -> None:
        """Hand what `staged` holds to the backend: the new terms at once, then each entry."""
        new_terms, staged.terms = staged.terms, []
        waiting, staged.entries = staged.entries, {}
        staged.ids.clear()
        if new_terms:
            self._backend.add_terms([(tid, self._terms[tid]) for tid in new_terms])
        refs, entries, by_subscription = self._term_refs, self._entries, self._by_subscription
        add, weight, word_of = self._backend.add_shaped, self._weight, self._terms.__getitem__
        try:
            for key, (shape, tids, written, subscribers) in waiting.items():
                terms = (tids[0],) if len(tids) == 1 else tuple(set(tids))
                for tid in terms:
                    refs[tid] += 1
                entry = _Entry(key, self._entry_ids.take(), terms)
                entry.subscribers = subscribers
                cover = shape.cover(tids, weight)
                try:
                    add(
                        entry.eid, shape, tids, cover, shape.displays(written), subscribers, word_of
                    )
                except BaseException:
                    self._forget(entry)
                    raise
                entries[key] = entry
                if len(subscribers) == 2:  # most queries: one subscriber
                    by_subscription[subscribers[0]] = entry
                else:
                    for subscription_id in subscribers[::2]:
                        by_subscription[subscription_id] = entry
        except BaseException:
            # Every new term belongs to a staged entry: those of the entries not added go.
            self._release_unused(tuple(new_terms))
            raise

    def _new_entry(self, key: str, node: Node, subscriber: tuple[int, str]) -> _Entry:
        used: list[int] = []

        def term_id(word: Word) -> int:
            tid = self._acquire(word)
            used.append(tid)
            return tid

        try:
            compiled = compile_query(node, term_id, self._weight)
        except BaseException:
            for tid in used:  # nothing of a refused query stays in the index
                self._term_refs[tid] -= 1
            self._release_unused(tuple(set(used)))
            raise
        # _acquire counted every use; keep one reference per distinct term per entry.
        terms = tuple(set(used))
        for tid in used:
            self._term_refs[tid] -= 1
        for tid in terms:
            self._term_refs[tid] += 1
        entry = _Entry(key, self._entry_ids.take(), terms)
        entry.subscribers = subscriber
        try:
            self._backend.add_entry(entry.eid, compiled, entry.subscribers)
        except BaseException:
            self._forget(entry)
            raise
        self._entries[key] = entry
        return entry

    def _drop_entry(self, entry: _Entry) -> None:
        del self._entries[entry.key]
        self._backend.remove_entry(entry.eid)
        self._forget(entry)

    def _forget(self, entry: _Entry) -> None:
        """Give back an entry's id and its references to terms."""
        self._entry_ids.give_back(entry.eid)
        for tid in entry.terms:
            self._term_refs[tid] -= 1
        self._release_unused(entry.terms)

    def _acquire(self, word: Word) -> int:
        tid = self._term_ids.get((word.norm, word.mode))
        if tid is None:
            tid = self._term_id_pool.take()
            self._term_ids[word.norm, word.mode] = tid
            self._terms[tid] = word
            self._term_refs[tid] = 0
            self._backend.add_term(tid, word)
        self._term_refs[tid] += 1
        return tid

    def _release_unused(self, tids: tuple[int, ...]) -> None:
        for tid in tids:
            if self._term_refs[tid] > 0:
                continue
            word = self._terms.pop(tid)
            del self._term_refs[tid]
            del self._term_ids[word.norm, word.mode]
            self._backend.remove_term(tid, word)
            self._term_id_pool.give_back(tid)

    def _weight(self, atom: int) -> float:
        """Guessed share of stories holding `atom` (lower is rarer): shorter is commoner."""
        word = self._terms[atom // 2]
        length = len(word.norm) - (2 if word.mode == "prefix" else 0)
        return 0.5 ** min(max(length, 1), 16) * (0.2 if atom % 2 else 1.0)
