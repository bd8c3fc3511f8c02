"""The matcher's per-story work in pure Python: where the compiled core was not built.

Same contract as `native_backend` (see `matcher.Backend`). Per story: tokenize
once; look each word up (one dictionary hit, cached per word); gather the entries filed under
an atom the story holds; evaluate only those. A story word reaches a "word" term through its
possible bases (inflect.base_candidates), so each term is filed once, not once per form.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import cast

from bot.core.matching.plan import Compiled
from bot.core.matching.shapes import Shape, instance
from bot.core.matching.spans import StorySpans
from bot.core.matching.story import StoryView
from bot.core.models import Match
from bot.core.query.ast import Word
from bot.core.query.inflect import base_candidates, word_forms
from bot.core.topics.triggers import topic_triggers

_TOKEN_CACHE_MAX = 500_000
_NO_ATOMS: tuple[int, ...] = ()


class _PyEntry:
    __slots__ = ("compiled", "subscribers")

    def __init__(self, compiled: Compiled, subscribers: tuple[int | str, ...]) -> None:
        self.compiled = compiled
        self.subscribers = subscribers  # id, query as written, id, query...


class PyBackend:
    native = False

    def __init__(self) -> None:
        self._entries: dict[int, _PyEntry] = {}
        self._by_cover: dict[int, tuple[_PyEntry, ...]] = {}  # tuples: most atoms cover one
        self._by_word: dict[str, list[int]] = {}
        self._by_exact: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._prefix_lengths: list[int] = []  # distinct prefix lengths, ascending
        self._prefix_length_uses: dict[int, int] = {}
        self._token_cache: dict[str, tuple[int, ...]] = {}

    # -- the index ---------------------------------------------------------------------

    def add_term(self, tid: int, word: Word) -> None:
        if word.mode == "topic":  # every trigger word of the topic is this one term
            for form in topic_triggers(word.norm):
                self._by_exact.setdefault(form, []).append(tid)
            self._token_cache.clear()
            return
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

    def add_terms(self, terms: list[tuple[int, Word]]) -> None:
        for tid, word in terms:
            self.add_term(tid, word)

    def remove_term(self, tid: int, word: Word) -> None:
        if word.mode == "topic":
            for form in topic_triggers(word.norm):
                bucket = self._by_exact[form]
                bucket.remove(tid)
                if not bucket:
                    del self._by_exact[form]
            self._token_cache.clear()
            return
        index = {"prefix": self._by_prefix, "word": self._by_word}.get(word.mode, self._by_exact)
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

    def add_entry(self, eid: int, compiled: Compiled, subscribers: tuple[int | str, ...]) -> None:
        entry = self._entries[eid] = _PyEntry(compiled, subscribers)
        for atom in compiled.cover:
            self._by_cover[atom] = (*self._by_cover.get(atom, ()), entry)

    def add_shaped(
        self,
        eid: int,
        shape: Shape,
        tids: list[int],
        cover: tuple[int, ...],
        displays: tuple[str, ...],
        subscribers: tuple[int | str, ...],
        word_of: Callable[[int], Word],
    ) -> None:
        self.add_entry(eid, instance(shape, tids, cover, displays, word_of), subscribers)

    def set_subscribers(self, eid: int, subscribers: tuple[int | str, ...]) -> None:
        self._entries[eid].subscribers = subscribers

    def remove_entry(self, eid: int) -> None:
        entry = self._entries.pop(eid)
        for atom in entry.compiled.cover:
            bucket = tuple(e for e in self._by_cover.get(atom, ()) if e is not entry)
            if bucket:
                self._by_cover[atom] = bucket
            else:
                self._by_cover.pop(atom, None)

    # -- one story ---------------------------------------------------------------------

    def match_words(
        self, title: str, summary: str, words: tuple[list[str], list[str]]
    ) -> list[Match]:
        """`match` (the story view tokenizes on its own: `words` saves nothing here)."""
        return self.match(title, summary)

    def match(self, title: str, summary: str) -> list[Match]:
        story = StoryView(title, summary, self._lookup, self._token_cache)
        by_cover = self._by_cover
        candidates: set[_PyEntry] = set().union(
            *map(by_cover.__getitem__, story.present & by_cover.keys())
        )
        texts = (title, summary)
        results: list[Match] = []
        for entry in candidates:
            compiled = entry.compiled
            plan = compiled.plan
            if plan is not None and not plan.test(story):
                continue
            words = compiled.words
            leaves = compiled.leaves
            mask: int | None = None
            if words is None:  # OR inside: report the terms this story has
                found = [leaf.found(story) for leaf in leaves]
                mask = sum(1 << i for i, hit in enumerate(found) if hit)
                words = tuple(
                    dict.fromkeys(
                        leaf.display for leaf, hit in zip(leaves, found, strict=True) if hit
                    )
                )
            where = StorySpans(texts, leaves, mask)  # shared by the entry's subscribers
            flat = entry.subscribers
            for i in range(0, len(flat), 2):
                sub_id, text = cast(tuple[int, str], flat[i : i + 2])
                results.append(Match(sub_id, text, words, where))
        if len(results) > 1:
            results.sort(key=_by_subscription)
        return results

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
