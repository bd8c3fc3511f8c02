"""Whether a story is *about* a topic, and which of its names said so.

The matcher files a topic under its trigger words (bot.core.topics.pack.Topic.triggers), so
it hands over only stories that name the topic somehow; this module then reads such a story
the way the rule below says, on the story's words (normal forms, as the matcher sees them)
and, for the names that need it, on the text as written.

Finding the names. A one-word form counts where the story has it; a phrase where its
words stand in order. A name limited to capitals (`US`, `UN`, `ВСУ`) counts only written in
capitals, one that is also a common word (`Turkey`, `Jersey`, `Peru`) only capitalised, and
a name with exclusion contexts (`Turkey`: recipe, roast, Thanksgiving...; `Georgia`: Atlanta,
governor...) not at all in a story holding one of those words. Chinese and Japanese names
are phrases of character pairs (bot.core.query.text), one mention each; one standing
inside another topic's name (`俄罗斯` in `白俄罗斯`, Belarus) does not count there
(pack.Topic.inside), and a place inside a name already found does not count again.

The rule ("about, not mentions"), chosen on the development set (tests/data/topics_dev,
benchmarks/bench_topics.py): a story is about the topic when

1. a strong name is in the title, or a weak one that the story names again; or
2. a strong name is in the summary's first LEAD_WORDS words (news leads with its subject);
   or
3. the summary names it at least MENTIONS times (weak names count too).

Weak names are those that also name something smaller than the topic (a capital: Moscow
is also the city's own news; a demonym: "a Russian-born skater"); alone, they count in the
title or by repetition only. A single mention deep in a long summary is a passing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.query.text import split_cjk, tokenize, word_spans
from bot.core.topics.pack import Topic

LEAD_WORDS = 40
MENTIONS = 2


@dataclass(frozen=True, slots=True)
class Hit:
    stream: int  # 0 title, 1 summary
    index: int  # word index in that stream
    size: int  # words
    name: int  # index into Topic.names


class StoryText:
    """A story's title and summary: words (normal forms) at once, offsets on demand."""

    __slots__ = (
        "_positions",
        "_spans",
        "about",
        "hits",
        "texts",
        "title_words",
        "tokens",
        "words",
    )

    def __init__(
        self, title: str, summary: str, words: tuple[list[str], list[str]] | None = None
    ) -> None:
        """`words`: the title's and summary's tokenize(), when the caller has them."""
        self.texts = (title, summary)
        self.tokens = words if words is not None else (tokenize(title), tokenize(summary))
        self.title_words = frozenset(self.tokens[0])
        self.words = self.title_words | frozenset(self.tokens[1])
        self._spans: list[list[tuple[int, int]] | None] = [None, None]
        self._positions: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
        # id(topic) -> (topic, its hits): each topic read once a story (the topic is kept,
        # so its id cannot be reused while the story lives)
        self.hits: dict[int, tuple[Topic, list[Hit]]] = {}
        self.about: dict[int, bool] = {}  # id(topic) -> about(), for topics in self.hits

    def places(self, stream: int, token: str) -> list[int]:
        """The indexes of `token` in the title (0) or summary (1). Found by list.index, a
        C-level scan, per word asked for: a story is asked about a few of its words only."""
        known = self._positions[stream]
        found = known.get(token)
        if found is None:
            found = known[token] = []
            if token in self.words:
                tokens, i = self.tokens[stream], -1
                try:
                    while True:
                        i = tokens.index(token, i + 1)
                        found.append(i)
                except ValueError:
                    pass
        return found

    def span(self, stream: int, index: int, size: int = 1) -> tuple[int, int]:
        spans = self._spans[stream]
        if spans is None:
            spans = self._spans[stream] = word_spans(self.texts[stream])
        return spans[index][0], spans[index + size - 1][1]

    def surface(self, hit: Hit) -> str:
        start, end = self.span(hit.stream, hit.index, hit.size)
        return self.texts[hit.stream][start:end]


def hits(topic: Topic, story: StoryText) -> list[Hit]:
    """Every place the story names `topic`, in story order (title first); cached on the
    story, as every query of a topic asks again."""
    cached = story.hits.get(id(topic))
    if cached is None:
        cached = story.hits[id(topic)] = (topic, _hits(topic, story))
    return cached[1]


def _hits(topic: Topic, story: StoryText) -> list[Hit]:
    # Only the story words that begin a name are visited: a set intersection finds them
    # (the matcher sends a story here for one trigger word, often the only one it has).
    present = topic.heads() & story.words
    if not present:
        return []
    found: list[Hit] = []
    excluded: dict[int, bool] = {}
    words, phrases, names, inside = topic.words, topic.phrases, topic.names, topic.inside
    for stream, tokens in enumerate(story.tokens):
        places = sorted(i for token in present for i in story.places(stream, token))
        covered = 0  # the end of the last name found: overlapping pairs are one mention
        for i in places:
            if i < covered:
                continue
            token = tokens[i]
            candidates: list[tuple[int, int]] = [(n, 1) for n in words.get(token, ())]
            for rest, n in phrases.get(token, ()):
                size = len(rest) + 1
                if tuple(tokens[i + 1 : i + size]) == rest:
                    candidates.append((n, size))
            for n, size in candidates:
                name = names[n]
                if name.unless:
                    if n not in excluded:
                        excluded[n] = _in_story(name.unless, story)
                    if excluded[n]:
                        continue
                if ("A" in name.flags or "C" in name.flags) and not _written_right(
                    name.flags, story.surface(Hit(stream, i, size, n))
                ):
                    continue
                if n in inside and _within(inside[n], tokens, i):
                    continue
                found.append(Hit(stream, i, size, n))
                covered = i + size
                break  # one name per place is enough
    return found


def about_story(topic: Topic, story: StoryText) -> bool:
    """Whether `story` is about `topic` (the rule below), cached on the story."""
    said = story.about.get(id(topic))
    if said is None:
        found = hits(topic, story)  # caches the topic, so its id stays its own
        said = story.about[id(topic)] = bool(found) and about(topic, found)
    return said


def about(topic: Topic, found: Sequence[Hit]) -> bool:
    """The rule of the module docstring."""
    names = topic.names
    if any(h.stream == 0 and not names[h.name].weak for h in found):
        return True
    if len(found) >= MENTIONS and any(h.stream == 0 for h in found):
        return True  # a weak name in the title, named again
    summary = [h for h in found if h.stream == 1]
    if len(summary) >= MENTIONS:
        return True
    return any(h.index < LEAD_WORDS and not names[h.name].weak for h in summary)


def via(topic: Topic, story: StoryText, found: Sequence[Hit]) -> list[str]:
    """What fired, for `Matched: Russia (via Kremlin, Лаврова)`: the story's own words,
    one per name, in story order."""
    out: list[str] = []
    seen: set[int] = set()
    for hit in found:
        if hit.name in seen:
            continue
        seen.add(hit.name)
        surface = story.surface(hit)
        if surface not in out:
            out.append(surface)
    return out


def _within(longer: list[tuple[tuple[str, ...], int]], tokens: list[str], i: int) -> bool:
    """Whether the name found at `i` is part of one of the `longer` names there."""
    for words, start in longer:
        at = i - start
        if at >= 0 and tuple(tokens[at : at + len(words)]) == words:
            return True
    return False


def _in_story(contexts: frozenset[str], story: StoryText) -> bool:
    for context in contexts:
        parts = [piece for part in context.split() for piece in split_cjk(part)]
        if len(parts) == 1:
            if parts[0] in story.words:
                return True
        elif all(p in story.words for p in parts):
            return True
    return False


def _written_right(flags: str, surface: str) -> bool:
    letters = [ch for ch in surface if ch.isalpha()]
    if not letters:
        return False
    if "A" in flags:
        return all(ch.isupper() for ch in letters)
    return letters[0].isupper()
