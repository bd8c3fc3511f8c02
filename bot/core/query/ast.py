"""The parsed shape of a query: terms combined by AND, OR and NOT.

Nodes compare and hash by meaning only (normal forms, structure), not by how the user
spelled them or where, so equal queries share one entry in the matcher's index.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

# "topic": `topic:Russia`, norm is the topic's key (bot.core.topics): any of its names
WordMode = Literal["word", "exact", "prefix", "topic"]
Field = Literal["any", "title"]


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a term: `NATO` (with its English forms), `=NATO` (exactly), `NAT*`."""

    norm: str  # normal form (bot.core.query.text.normalise); the prefix itself for "prefix"
    mode: WordMode = "word"


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must appear next to each other, in order: one word or a phrase."""

    words: tuple[Word, ...]
    field: Field = "any"
    display: str = dataclasses.field(default="", compare=False)  # as the user wrote it, for alerts
    position: int = dataclasses.field(default=0, compare=False)  # 0-based index in the query text


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    position: int = dataclasses.field(default=0, compare=False)


Node = Term | And | Or | Not


def terms_of(node: Node, *, positive_only: bool = False) -> list[Term]:
    """The terms of `node` left to right; with positive_only, not those under a NOT."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return [] if positive_only else terms_of(node.child, positive_only=positive_only)
    return [t for child in node.children for t in terms_of(child, positive_only=positive_only)]


def canonical(node: Node) -> str:
    """A string equal for equal queries (`NATO` and `nato`): the matcher's key for sharing."""
    if isinstance(node, Term):
        words = " ".join(f"{w.mode[0]}:{w.norm}" for w in node.words)
        return f"{node.field[0]}[{words}]"
    if isinstance(node, Not):
        return f"!({canonical(node.child)})"
    sign = "&" if isinstance(node, And) else "|"
    return sign + "(" + ",".join(canonical(c) for c in node.children) + ")"
