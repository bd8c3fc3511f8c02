"""The query language evaluated the slow, obvious way: scan the words for every term.

The property test holds the indexed matcher to this. It shares only the tokenizer and the
inflection rules with the matcher (both tested on their own), not the index, the covers,
the plans or the caches.
"""

from __future__ import annotations

from bot.core.query import And, Node, Not, Or, Query, Term, Word, tokenize
from bot.core.query.inflect import word_forms


def word_ok(word: Word, token: str) -> bool:
    if word.mode == "exact":
        return token == word.norm
    if word.mode == "prefix":
        return token.startswith(word.norm)
    return token in word_forms(word.norm)


def term_ok(term: Term, streams: list[list[str]]) -> bool:
    size = len(term.words)
    for words in streams[:1] if term.field == "title" else streams:
        for i in range(len(words) - size + 1):
            if all(word_ok(w, words[i + j]) for j, w in enumerate(term.words)):
                return True
    return False


def evaluate(node: Node, streams: list[list[str]]) -> bool:
    if isinstance(node, Term):
        return term_ok(node, streams)
    if isinstance(node, Not):
        return not evaluate(node.child, streams)
    if isinstance(node, And):
        return all(evaluate(c, streams) for c in node.children)
    assert isinstance(node, Or)
    return any(evaluate(c, streams) for c in node.children)


def reference_matches(query: Query, title: str, summary: str) -> bool:
    return evaluate(query.node, [tokenize(title), tokenize(summary)])
