"""Parse and validate a query: the grammar, the limits, and errors that say where.

    query   := either ( ["AND"] either )*      terms side by side must all match
    either  := unary ( "OR" unary )*           OR binds tighter, as in web search boxes:
                                               `Russia OR Ukraine -Putin` excludes Putin
    unary   := ("NOT" | "-") unary | primary
    primary := ["title:"] ( "(" query ")" | '"' words '"' | word | topic )
    topic   := "topic:" ( name | '"' name '"' )    every name of a topic (bot.core.topics)
    word    := ["="] letters ["*"]

A written word such as `COVID-19` or `U.S.` holds several words for the matcher (text is
cut at punctuation, see bot.core.query.text); it becomes a phrase of them, so it matches
the story's `COVID-19` and `covid 19` alike. So does Chinese or Japanese text, which is
read in overlapping pairs of characters: `俄罗斯` is the phrase `俄罗 罗斯` and matches inside
`俄罗斯总统普京表示`. On such text `=` changes nothing (a pair has no forms) and `*` is
refused (the phrase already matches inside longer runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.query.ast import And, Field, Node, Not, Or, Term, Word, WordMode, terms_of
from bot.core.query.errors import QueryError
from bot.core.query.lexer import Token, lex
from bot.core.query.sources import NO_SOURCES, SourceFilter, split_sources
from bot.core.query.text import WORD_RE, has_cjk, normalise, word_spans

MAX_QUERY_LENGTH = 200
MAX_TERMS = 20
MIN_PREFIX = 3  # `a*` would match most of every story: refuse what cannot mean anything


@dataclass(frozen=True, slots=True)
class Query:
    text: str  # as the user wrote it, trimmed
    terms: tuple[str, ...]  # normal forms of the words it looks for (not those under NOT)
    words: tuple[str, ...]  # those terms as the user wrote them, for display
    node: Node  # the parsed structure the matcher evaluates
    sources: SourceFilter = NO_SOURCES  # `source:` terms, applied after the words match


def parse_query(text: str) -> Query:
    stripped = text.strip()
    if not stripped:
        raise QueryError("the query is empty", 0)
    if len(stripped) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"the query is longer than {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH
        )
    split = split_sources(stripped)  # `source:` terms are a filter, not words (sources.py)
    node = _Parser(lex(split.words)).parse()
    terms = terms_of(node)
    if len(terms) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms", terms[MAX_TERMS].position)
    _require_positive(node)
    positive = terms_of(node, positive_only=True)
    return Query(
        text=stripped,
        terms=tuple(w.norm for t in positive for w in t.words),
        words=tuple(t.display for t in positive),
        node=node,
        sources=split.sources,
    )


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("the query has no word to look for", 0)
        node = self.parse_and("any")
        extra = self.peek()
        if extra is not None:  # parse_and stops only at the end or at a `)`
            raise QueryError("this `)` has no matching `(`", extra.position)
        return node

    def parse_and(self, field: Field) -> Node:
        children: list[Node] = []
        while (token := self.peek()) is not None and token.kind != ")":
            if token.kind == "AND":
                self.take()
                after = self.peek()
                if not children or after is None or after.kind in (")", "OR", "AND"):
                    raise QueryError("`AND` needs a term on each side", token.position)
                continue
            children.append(self.parse_or(field))
        if not children:
            if token is None:
                raise QueryError("the query ends where a term should be", _end(self.tokens))
            if self.i > 0 and self.tokens[self.i - 1].kind == "(":
                raise QueryError("these parentheses are empty", self.tokens[self.i - 1].position)
            raise QueryError("this `)` has no matching `(`", token.position)
        return children[0] if len(children) == 1 else And(_flatten(And, children))

    def parse_or(self, field: Field) -> Node:
        first = self.peek()
        if first is not None and first.kind == "OR":
            raise QueryError("`OR` needs a term on each side", first.position)
        children = [self.parse_unary(field)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            if (after := self.peek()) is None or after.kind in (")", "OR", "AND"):
                raise QueryError("`OR` needs a term on each side", token.position)
            children.append(self.parse_unary(field))
        return children[0] if len(children) == 1 else Or(_flatten(Or, children))

    def parse_unary(self, field: Field) -> Node:
        token = self.take()
        if token.kind == "NOT":
            after = self.peek()
            if after is None or after.kind in (")", "OR", "AND"):
                raise QueryError(f"`{token.text}` must be followed by a term", token.position)
            child = self.parse_unary(field)
            # NOT NOT x is x; keeping it would make a plain word look like a pure exclusion.
            return child.child if isinstance(child, Not) else Not(child, token.position)
        return self.parse_primary(token, field)

    def parse_primary(self, token: Token, field: Field) -> Node:
        if token.kind == "title:":
            after = self.peek()
            if after is None or after.kind not in ("(", "phrase", "chunk", "topic:"):
                raise QueryError(
                    '`title:` must be followed by a word, a "quoted phrase" or (…)',
                    token.position,
                )
            return self.parse_primary(self.take(), "title")
        if token.kind == "topic:":
            after = self.peek()
            if after is None or after.kind not in ("phrase", "chunk"):
                raise QueryError(
                    '`topic:` must be followed by a topic\'s name or a "quoted name"',
                    token.position,
                )
            return _topic_term(self.take(), token.position, field)
        if token.kind == "(":
            after = self.peek()
            if after is not None and after.kind == ")":
                raise QueryError("these parentheses are empty", token.position)
            node = self.parse_and(field)
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError("this `(` is never closed", token.position)
            self.take()
            return node
        if token.kind == "phrase":
            return _phrase(token, field)
        if token.kind == "chunk":
            return _word_term(token.text, token.position, field)
        raise QueryError(f"`{token.text}` cannot start a term here", token.position)


def _flatten(kind: type[And] | type[Or], children: list[Node]) -> tuple[Node, ...]:
    out: list[Node] = []
    for child in children:
        out.extend(child.children if isinstance(child, kind) else (child,))
    return tuple(out)


def _end(tokens: list[Token]) -> int:
    last = tokens[-1]
    return last.position + len(last.text)


def _words(chunk: str, position: int) -> list[Word]:
    """The words of one written chunk, with its `=` and `*` applied."""
    exact = chunk.startswith("=")
    body = chunk[1:] if exact else chunk
    prefix = body.endswith("*")
    if prefix:
        body = body[:-1]
    offset = position + (1 if exact else 0)
    star = body.find("*")
    if star >= 0:
        raise QueryError("`*` can only end a word (`Russ*`)", offset + star)
    if exact and prefix:
        raise QueryError("a word takes `=` (exactly) or `*` (any ending), not both", position)
    # The words as a story's are cut (bot.core.query.text: Chinese and Japanese in pairs).
    # A word of combining marks alone normalises to nothing: there is nothing to look for.
    found = [(a, b) for a, b in word_spans(body) if normalise(body[a:b])]
    if not found:
        if exact:
            raise QueryError("`=` must be followed by a word", position)
        raise QueryError(f"`{chunk}` has no letter or digit to look for", position)
    if prefix and found[-1][1] != len(body):
        raise QueryError("`*` must come right after a letter or digit", offset + len(body))
    if prefix and has_cjk(body[found[-1][0] :]):
        raise QueryError(
            f"`{chunk}`: Chinese or Japanese text takes no `*`: without it, it is found "
            "inside longer runs already",
            offset + len(body),
        )
    mode: WordMode = "exact" if exact else "word"
    # A pair of Chinese or Japanese characters has no forms, so it is always "exact": `=`
    # changes nothing there, and `俄罗斯` and `=俄罗斯` are one query for the index.
    words = [Word(normalise(body[a:b]), "exact" if has_cjk(body[a:b]) else mode) for a, b in found]
    if prefix:
        last = words[-1].norm
        if len(last) < MIN_PREFIX:
            raise QueryError(
                f"`{chunk}`: a prefix needs at least {MIN_PREFIX} letters before `*`",
                position,
            )
        words[-1] = Word(last, "prefix")
    return words


def _word_term(chunk: str, position: int, field: Field) -> Term:
    display = chunk.removeprefix("=")  # alerts say `Matched: NATO`, not `=NATO`
    return Term(tuple(_words(chunk, position)), field, display=display, position=position)


def _phrase(token: Token, field: Field) -> Term:
    inside = token.text
    words: list[Word] = []
    start = 0
    for piece in inside.split():
        at = inside.index(piece, start)
        start = at + len(piece)
        if not WORD_RE.search(piece) and "=" not in piece and "*" not in piece:
            continue  # punctuation between words: the matcher skips it in stories too
        words.extend(_words(piece, token.position + 1 + at))
    if not words:
        raise QueryError("these quotes hold no word to look for", token.position)
    return Term(tuple(words), field, display=" ".join(inside.split()), position=token.position)


def _topic_term(token: Token, position: int, field: Field) -> Term:
    """`topic:Russia`: one term standing for every name of the topic (bot.core.topics)."""
    from bot.core.topics.pack import current  # the pack imports this package's modules

    pack = current()
    topic = pack.find(token.text)
    if topic is None:
        close = pack.suggestions(token.text)
        hint = (
            f"did you mean {' or '.join(close)}?" if close else "/news topics lists the known ones"
        )
        raise QueryError(f'unknown topic "{token.text}": {hint}', token.position)
    return Term((Word(topic.key, "topic"),), field, display=topic.display, position=position)


def _has_positive(node: Node) -> bool:
    """Whether every story the node matches must contain one of its positive terms."""
    if isinstance(node, Term):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_has_positive(c) for c in node.children)
    return all(_has_positive(c) for c in node.children)


def _position(node: Node) -> int:
    if isinstance(node, Term | Not):
        return node.position
    return _position(node.children[0])


def _require_positive(node: Node) -> None:
    if _has_positive(node):
        return
    culprit = node
    while isinstance(culprit, Or):
        culprit = next(c for c in culprit.children if not _has_positive(c))
    raise QueryError(
        "this part matches stories by what they lack only: give it a word to look for "
        "(`NATO -Russia`, not `-Russia`)",
        _position(culprit),
    )
