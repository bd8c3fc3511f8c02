"""Where a match's terms sit in the story, worked out only when someone reads them.

Matching only decides whether a story matches; offsets cost a second pass over the words, so
each Match carries a `StorySpans` that does that pass on first use. Most matches are only
counted or queued and never need it. Both backends (`python_backend` and the compiled
`_matchcore`) hand out this one type; the compiled core fills its four slots directly
instead of calling __init__.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.lazy_spans import LazySpans
from bot.core.matching.plan import Leaf
from bot.core.models import Span
from bot.core.query import parse_query
from bot.core.query.ast import Word, terms_of
from bot.core.query.inflect import word_forms
from bot.core.query.text import tokenize, word_spans
from bot.core.topics.triggers import topic_triggers


def holds(word: Word, token: str) -> bool:
    """Whether one story word (a normal form) satisfies one query word."""
    if word.mode == "exact":
        return token == word.norm
    if word.mode == "prefix":
        return token.startswith(word.norm)
    if word.mode == "topic":
        return token in topic_triggers(word.norm)
    return token in word_forms(word.norm)


def spans_of(title: str, summary: str, leaves: Iterable[Leaf]) -> tuple[Span, ...]:
    """Every place a leaf's words stand next to each other: title first, in text order."""
    found: set[Span] = set()
    leaves = tuple(leaves)
    for field, text in (("title", title), ("summary", summary)):
        words = tokenize(text)
        offsets: list[tuple[int, int]] | None = None
        for leaf in leaves:
            if leaf.title_only and field == "summary":
                continue
            size = len(leaf.words)
            for i in range(len(words) - size + 1):
                if all(holds(w, words[i + j]) for j, w in enumerate(leaf.words)):
                    if offsets is None:
                        offsets = word_spans(text)
                    start, end = offsets[i][0], offsets[i + size - 1][1]
                    found.add(
                        Span("title", start, end)
                        if field == "title"
                        else Span("summary", start, end)
                    )
    return tuple(sorted(found, key=lambda s: (s.field != "title", s.start, s.end)))


def positive_leaves(query: str) -> tuple[Leaf, ...]:
    """A query's positive terms as leaves, in the order compile_query numbers them."""
    return tuple(
        Leaf(term.display, (), term.words, term.field == "title")
        for term in terms_of(parse_query(query).node, positive_only=True)
    )


class StorySpans(LazySpans):
    """The spans of `leaves` (those whose bit is set in `mask`; None: all) in `story`.

    `leaves` may be the query text instead: the compiled core keeps no Leaf objects (they
    would cost ~20 MB at 100,000 subscriptions), so the text is parsed again when read.
    """

    __slots__ = ("_leaves", "_mask", "_spans", "_story")

    def __init__(
        self, story: tuple[str, str], leaves: tuple[Leaf, ...] | str, mask: int | None
    ) -> None:
        self._story: tuple[str, str] | None = story
        self._leaves = leaves
        self._mask = mask
        self._spans: tuple[Span, ...] | None = None

    def _work_out(self) -> tuple[Span, ...]:
        assert self._story is not None
        mask = self._mask
        every = self._leaves
        if isinstance(every, str):
            every = positive_leaves(every)
        leaves = every if mask is None else (x for i, x in enumerate(every) if mask >> i & 1)
        spans = spans_of(*self._story, leaves)
        self._story = None  # the texts are no longer needed
        return spans

    def _same(self, other: object) -> bool:
        if isinstance(other, StorySpans):
            return self._get() == other._get()
        return isinstance(other, tuple) and self._get() == other
