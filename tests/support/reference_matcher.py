"""The query language evaluated the slow, obvious way: scan the words for every term.

The property test holds the indexed matcher to this. It shares only the tokenizer and the
inflection rules with the matcher (both tested on their own), not the index, the covers,
the plans or the caches. A `topic:` term is read as the README says: under NOT, "the story
holds one of the topic's trigger words"; otherwise "the story is about the topic", which
is the topic judge's call (bot.core.topics.judge, tested on its own in test_topics.py).
"""

from __future__ import annotations

from bot.core.query import And, Node, Not, Or, Query, Term, Word, tokenize
from bot.core.query.inflect import word_forms
from bot.core.topics import judge
from bot.core.topics.pack import current


def word_ok(word: Word, token: str) -> bool:
    if word.mode == "exact":
        return token == word.norm
    if word.mode == "prefix":
        return token.startswith(word.norm)
    if word.mode == "topic":
        return token in current().triggers(word.norm)
    return token in word_forms(word.norm)


def term_ok(term: Term, streams: list[list[str]]) -> bool:
    size = len(term.words)
    for words in streams[:1] if term.field == "title" else streams:
        for i in range(len(words) - size + 1):
            if all(word_ok(w, words[i + j]) for j, w in enumerate(term.words)):
                return True
    return False


def evaluate(
    node: Node, streams: list[list[str]], story: judge.StoryText, negated: bool = False
) -> bool:
    if isinstance(node, Term):
        if node.words[0].mode == "topic" and not negated:
            return topic_about(node, story)
        return term_ok(node, streams)
    if isinstance(node, Not):
        return not evaluate(node.child, streams, story, not negated)
    if isinstance(node, And):
        return all(evaluate(c, streams, story, negated) for c in node.children)
    assert isinstance(node, Or)
    return any(evaluate(c, streams, story, negated) for c in node.children)


def topic_about(term: Term, story: judge.StoryText) -> bool:
    topic = current().topics[term.words[0].norm]
    found = judge.hits(topic, story)
    if term.field == "title":
        return any(h.stream == 0 for h in found)
    return bool(found) and judge.about(topic, found)


def reference_matches(query: Query, title: str, summary: str) -> bool:
    story = judge.StoryText(title, summary)
    return evaluate(query.node, [tokenize(title), tokenize(summary)], story)
