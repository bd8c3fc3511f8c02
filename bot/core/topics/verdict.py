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

from dataclasses import dataclass

from bot.core.models import Span
from bot.core.query.ast import And, Node, Not, Or, Term, Word
from bot.core.query.inflect import word_forms
from bot.core.topics.display import format_matched
from bot.core.topics.judge import Hit, StoryText, about, hits, via
from bot.core.topics.pack import Pack


@dataclass(frozen=True, slots=True)
class Verdict:
    matched: tuple[str, ...]  # displays of the positive terms found, topics with their via
    spans: tuple[Span, ...]


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
    spans: set[Span] = set()
    for term in _positive_terms(node):
        found = state.found(term)
        if not found:
            continue
        word = term.words[0]
        if word.mode == "topic":
            topic_hits = state.topic_hits(word.norm, term.field == "title")
            names = via(pack.topics[word.norm], story, topic_hits)
            matched.append(format_matched(term.display, names))
        else:
            matched.append(term.display)
        spans.update(found)
    ordered = sorted(spans, key=lambda s: (s.field != "title", s.start, s.end))
    return Verdict(tuple(dict.fromkeys(matched)), tuple(ordered))


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
        self._hits: dict[str, list[Hit]] = {}

    def topic_hits(self, key: str, title_only: bool) -> list[Hit]:
        found = self._hits.get(key)
        if found is None:
            topic = self.pack.topics.get(key)
            found = self._hits[key] = hits(topic, self.story) if topic is not None else []
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
                return topic is not None and bool(found) and about(topic, found)
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
        size = len(term.words)
        out: list[tuple[int, int]] = []
        for stream, tokens in enumerate(self.story.tokens):
            if stream == 1 and term.field == "title":
                break
            for i in range(len(tokens) - size + 1):
                if all(_holds(w, tokens[i + j]) for j, w in enumerate(term.words)):
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
