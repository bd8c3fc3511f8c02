"""The last word on a match of a query holding `topic:` terms, and what its alert says.

The matcher (either backend) files a topic term under its trigger words, so it reports
every story that *mentions* a topic. For those matches only, this module evaluates the
query again on the story with each positive topic term meaning "the story is about the
topic" (bot.core.topics.judge) and reports it as `Russia (via Kremlin, Лаврова)`. Under NOT
a topic term keeps the matcher's meaning, "mentions one of its trigger words": evaluating
it more strictly here could not bring back a story the matcher already left out, and both
backends agree on that meaning by construction.

Plain terms are evaluated as the matcher does (bot.core.matching.spans.holds on the same
words), so a query without topic terms never comes here and keeps its exact meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.lazy_spans import LazySpans
from bot.core.models import Span
from bot.core.query.ast import And, Node, Not, Or, Term, Word
from bot.core.query.inflect import word_forms
from bot.core.topics.display import format_matched
from bot.core.topics.judge import Hit, StoryText, about_story, hits, via
from bot.core.topics.pack import Pack


@dataclass(frozen=True, slots=True)
class Verdict:
    matched: tuple[str, ...]  # displays of the positive terms found, topics with their via
    spans: Sequence[Span]  # worked out when first read (most matches are only queued)


def has_topic(node: Node) -> bool:
    if isinstance(node, Term):
        return any(w.mode == "topic" for w in node.words)
    if isinstance(node, Not):
        return has_topic(node.child)
    return any(has_topic(c) for c in node.children)


def verdict(node: Node, story: StoryText, pack: Pack) -> Verdict | None:
    """None when the story is not a match once topics mean "about"."""
    state = _State(story, pack)
    if not state.test(node, negated=False):
        return None
    matched: list[str] = []
    found: list[Term] = []
    for term in [node] if isinstance(node, Term) else _positive_terms(node):
        if not state.test(term, negated=False):
            continue
        found.append(term)
        word = term.words[0]
        if word.mode == "topic":
            topic_hits = state.topic_hits(word.norm, term.field == "title")
            names = via(pack.topics[word.norm], story, topic_hits)
            matched.append(format_matched(term.display, names))
        else:
            matched.append(term.display)
    return Verdict(tuple(dict.fromkeys(matched)), _Spans(state, tuple(found)))


class _Spans(LazySpans):
    """Where the found terms stand: worked out on first read, like StorySpans."""

    __slots__ = ("_spans", "_state", "_terms")

    def __init__(self, state: _State, terms: tuple[Term, ...]) -> None:
        self._state: _State | None = state
        self._terms = terms
        self._spans: tuple[Span, ...] | None = None

    def _work_out(self) -> tuple[Span, ...]:
        assert self._state is not None
        found = {s for term in self._terms for s in self._state.found(term)}
        self._state = None  # the story is no longer needed
        return tuple(sorted(found, key=lambda s: (s.field != "title", s.start, s.end)))

    def _same(self, other: object) -> bool | None:
        if isinstance(other, Sequence):
            return self._get() == tuple(other)
        return None


def _positive_terms(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return []
    return [t for c in node.children for t in _positive_terms(c)]


class _State:
    def __init__(self, story: StoryText, pack: Pack) -> None:
        self.story = story
        self.pack = pack

    def topic_hits(self, key: str, title_only: bool) -> list[Hit]:
        topic = self.pack.topics.get(key)
        found = hits(topic, self.story) if topic is not None else []  # cached on the story
        return [h for h in found if h.stream == 0] if title_only else found

    def test(self, node: Node, *, negated: bool) -> bool:
        if isinstance(node, Term):
            word = node.words[0]
            title_only = node.field == "title"
            if word.mode == "topic":
                if negated:  # the matcher's meaning: any trigger word (module docstring)
                    triggers = (
                        self.pack.triggers(word.norm) if word.norm in self.pack.topics else ()
                    )
                    streams = self.story.tokens[:1] if title_only else self.story.tokens
                    return any(t in triggers for tokens in streams for t in tokens)
                found = self.topic_hits(word.norm, title_only)
                if title_only:
                    return bool(found)
                topic = self.pack.topics.get(word.norm)
                return topic is not None and about_story(topic, self.story)
            if len(node.words) == 1 and word.mode != "prefix":  # most terms: set tests
                forms = (word.norm,) if word.mode == "exact" else word_forms(word.norm)
                words = self.story.title_words if title_only else self.story.words
                return not words.isdisjoint(forms)
            return bool(self._places(node))
        if isinstance(node, Not):
            return not self.test(node.child, negated=not negated)
        if isinstance(node, And):
            return all(self.test(c, negated=negated) for c in node.children)
        assert isinstance(node, Or)
        return any(self.test(c, negated=negated) for c in node.children)

    def found(self, term: Term) -> list[Span]:
        """Where a positive term that holds is in the story (empty: it does not hold)."""
        word = term.words[0]
        if word.mode == "topic":
            if not self.test(term, negated=False):
                return []
            title_only = term.field == "title"
            found = self.topic_hits(word.norm, title_only)
            return [self._span(h.stream, h.index, h.size) for h in found]
        return [self._span(stream, i, len(term.words)) for stream, i in self._places(term)]

    def _places(self, term: Term) -> list[tuple[int, int]]:
        """(stream, index) of each place the term's words stand in order. The first word's
        places come from the story's word index (one lookup per form), not a scan."""
        first, rest = term.words[0], term.words[1:]
        out: list[tuple[int, int]] = []
        for stream, tokens in enumerate(self.story.tokens):
            if stream == 1 and term.field == "title":
                break
            if first.mode == "prefix":
                starts = [i for i, t in enumerate(tokens) if t.startswith(first.norm)]
            else:
                forms = (first.norm,) if first.mode == "exact" else word_forms(first.norm)
                starts = sorted(i for f in forms for i in self.story.places(stream, f))
            for i in starts:
                if i + len(rest) < len(tokens) and all(
                    _holds(w, tokens[i + 1 + j]) for j, w in enumerate(rest)
                ):
                    out.append((stream, i))
        return out

    def _span(self, stream: int, index: int, size: int) -> Span:
        start, end = self.story.span(stream, index, size)
        return Span("title" if stream == 0 else "summary", start, end)


def _holds(word: Word, token: str) -> bool:
    if word.mode == "exact":
        return token == word.norm
    if word.mode == "prefix":
        return token.startswith(word.norm)
    return token in word_forms(word.norm)
