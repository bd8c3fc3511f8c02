"""Queries that differ only in their plain words share one parse and one compile: a shape.

Most subscriptions are a few plain words put together the same way (`Ukraine`, `NATO
summit`, `Biden OR Trump`, `Russ*`, `"grain deal" -Turkey`). Parsing and compiling each of
them cost tens of microseconds of Python, which across 100,000 subscriptions was a large
install's start-up time. Here one regular expression cuts a query's plain words out and
leaves its shape (`Biden OR Trump` -> `qqq OR qqq`); the shape is parsed and compiled once,
with a numbered slot for each word, and every query of that shape only fills its words in.

What may be cut out: a run of ASCII letters and digits that is not `OR`, `AND`, `NOT`,
`title` or `topic` (those keep their meaning in the shape; `topic:qqq` names no topic, so
topic queries always take the full parser). A query qualifies when it is ASCII letters,
digits, spaces and `( ) " * = : -` only; a run of letters and digits then lexes and parses
exactly as the slot word does, so the query and its shape have the same structure. Anything
else (non-ASCII text, apostrophes, other punctuation, a prefix shorter than allowed, a shape
the parser refuses) takes the full parser, which also words the error with its position.

What a query of a shape still works out for itself: its key (the shape's canonical form with
its normal forms filled in), its term ids, and its cover, which depends on the words (the
rarest one is guessed from its length; see bot.core.matching.plan). The plan does not: it
is the shape's, with the shape's atoms renamed to the query's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Final

from bot.core.matching.plan import (
    AllPlan,
    AnyPlan,
    AtomPlan,
    Compiled,
    Leaf,
    NotPlan,
    PhrasePlan,
    Plan,
    compile_query,
)
from bot.core.query import MAX_QUERY_LENGTH, MIN_PREFIX, QueryError, parse_query
from bot.core.query.ast import And, Node, Not, Or, Term, Word, WordMode, canonical, terms_of

SLOT: Final = "qqq"  # what stands for a cut-out word in a shape (no mode or field letter)
# The shape compiles with term ids from ATOM_BASE up, so its atoms stand out from the
# opcodes and sizes of an encoded program: atom a means occurrence (a - 2 * ATOM_BASE) // 2.
ATOM_BASE: Final = 1 << 40
MAX_SHAPES: Final = 4096  # a crude bound: real installs use a few dozen shapes

_QUALIFIES: Final = re.compile(r'[A-Za-z0-9 ()"*=:\-]+')
_PLAIN: Final = re.compile(  # one group: split() returns the words between the rest
    r"(?<![A-Za-z0-9])(?!(?:OR|AND|NOT|[Tt][Ii][Tt][Ll][Ee]|[Tt][Oo][Pp][Ii][Cc]"
    r"|[Ss][Oo][Uu][Rr][Cc][Ee])(?![A-Za-z0-9]))"
    r"([A-Za-z0-9]+)"
)

# The cover of a shape, as a tree to evaluate with the query's words (see Shape.cover):
# (0, occurrences, title) a term; (1,) a NOT; (2, children) an OR; (3, children) an AND.
CoverTree = tuple[object, ...]
CoverTermList = tuple[tuple[tuple[int, ...], int], ...]  # (occurrences, title) of each term
CoverTerms = tuple[bool, CoverTermList]  # (an OR?, its terms)
# The compiled core's form of a shape (bot.core.matching.native_backend): its program and
# its leaves as ints, each with the indices of the atoms in it; filled on first use.
NativeShape = tuple[list[int] | None, tuple[int, ...], list[int] | None, tuple[int, ...]]


class Shape:
    """One parsed and compiled shape; `occurrences` lists its words in the order the
    compiler numbers them: (slot of the cut-out word or -1, literal normal form, mode)."""

    __slots__ = (
        "compiled",
        "cover_terms",
        "cover_tree",
        "display_formats",
        "key_format",
        "native",
        "occurrences",
        "positive",
        "prefix_slots",
        "single",
        "slots",
    )

    def __init__(self, node: Node) -> None:
        words = [w for t in terms_of(node) for w in t.words]
        number = {id(w): i for i, w in enumerate(words)}
        occurrences: list[tuple[int, str, WordMode]] = []
        slots = 0
        for w in words:
            if w.norm == SLOT:
                occurrences.append((slots, "", w.mode))
                slots += 1
            else:
                occurrences.append((-1, w.norm, w.mode))
        self.occurrences = tuple(occurrences)
        # The occurrences in positive terms: a story that matches holds one of them.
        self.positive = tuple(
            number[id(w)] for t in terms_of(node, positive_only=True) for w in t.words
        )
        self.slots = slots
        self.prefix_slots = tuple(s for s, _, mode in occurrences if s >= 0 and mode == "prefix")
        self.key_format = _format(canonical(node))
        # Display of each positive term (as written, for alerts): its own cut-out words.
        formats: list[tuple[str, tuple[int, ...]]] = []
        for term in terms_of(node, positive_only=True):
            mine = tuple(occurrences[number[id(w)]][0] for w in term.words)
            formats.append((_format(term.display), tuple(s for s in mine if s >= 0)))
        # itemgetter of one slot gives the word itself, which `%` takes as its one argument.
        self.display_formats = tuple(
            (fmt, itemgetter(*slots) if slots else _nothing) for fmt, slots in formats
        )
        self.compiled = compile_query(node, lambda w: ATOM_BASE + number[id(w)], _no_weight)
        self.cover_tree = _cover_tree(node, number)
        self.cover_terms = _cover_terms(node, number)
        # (title, displayed as written): one word (most queries) needs no weighing.
        self.single: tuple[int, bool] | None = None
        if len(words) == 1 and isinstance(node, Term):
            self.single = (int(node.field == "title"), formats == [("%s", (0,))])
        self.native: NativeShape | None = None

    def key(self, norms: list[str]) -> str:
        return self.key_format % tuple(norms)

    def displays(self, written: list[str]) -> tuple[str, ...]:
        if self.single is not None and self.single[1]:
            return (written[0],)
        return tuple([fmt % words(written) for fmt, words in self.display_formats])

    def cover(self, tids: list[int], weight: Callable[[int], float]) -> tuple[int, ...]:
        """The query's cover: `tids[i]` is the term id of occurrence i."""
        if self.single is not None:
            return (2 * tids[0] + self.single[0],)
        if self.cover_terms is not None:
            union, terms = self.cover_terms
            return _cover_of_terms(union, terms, tids, weight)
        found = _cover(self.cover_tree, [2 * t for t in tids], weight)
        assert found is not None  # the parser refuses a query without one
        return tuple(sorted(found))


class Shapes:
    """The shapes met so far, and the one of a query text."""

    def __init__(self) -> None:
        self._by_text: dict[str, Shape | None] = {}  # None: this shape takes the full parser

    def of(self, text: str) -> tuple[Shape, list[str]] | None:
        """(shape, the cut-out words as written), or None: parse `text` in full."""
        if len(text) > MAX_QUERY_LENGTH:
            return None
        pieces = _PLAIN.split(text)  # what stays, a word, what stays, a word... what stays
        written = pieces[1::2]
        shape_text = SLOT.join(pieces[::2])
        try:
            shape = self._by_text[shape_text]
        except KeyError:
            shape = _shape(shape_text)
            if len(self._by_text) >= MAX_SHAPES:
                self._by_text.clear()
            self._by_text[shape_text] = shape
        if shape is None or shape.slots != len(written):
            return None
        for slot in shape.prefix_slots:
            if len(written[slot]) < MIN_PREFIX:
                return None
        return shape, written


def _shape(shape_text: str) -> Shape | None:
    # The cut-out words are ASCII letters and digits, which the test allows: a shape
    # qualifies exactly when its queries do, so the test runs once per shape.
    if not _QUALIFIES.fullmatch(shape_text):
        return None
    try:
        node = parse_query(shape_text).node
    except QueryError:
        return None
    shape = Shape(node)
    return shape if shape.slots == shape_text.count(SLOT) else None


def _format(text: str) -> str:
    """`text` as a %-format whose %s are its cut-out words, in order."""
    return "%s".join(piece.replace("%", "%%") for piece in text.split(SLOT))


def _nothing(written: list[str]) -> tuple[()]:
    return ()


def _no_weight(atom: int) -> float:
    return 1.0  # the shape's own cover is never used: each query works out its own


def _cover_tree(node: Node, number: dict[int, int]) -> CoverTree:
    if isinstance(node, Term):
        return (0, tuple(number[id(w)] for w in node.words), int(node.field == "title"))
    if isinstance(node, Not):
        return (1,)
    kind = 2 if isinstance(node, Or) else 3
    assert isinstance(node, Or | And)
    return (kind, tuple(_cover_tree(c, number) for c in node.children))


def _cover_terms(node: Node, number: dict[int, int]) -> CoverTerms | None:
    """The common trees in short: a term, an AND of terms and NOTs, an OR of terms."""
    if isinstance(node, Term):
        children: tuple[Node, ...] = (node,)
    elif isinstance(node, And | Or):
        children = node.children
    else:
        return None
    if not all(
        isinstance(c, Term) or (isinstance(c, Not) and isinstance(node, And)) for c in children
    ):
        return None
    terms = tuple(
        (tuple(number[id(w)] for w in c.words), int(c.field == "title"))
        for c in children
        if isinstance(c, Term)
    )
    return (isinstance(node, Or), terms) if terms else None


def _cover_of_terms(
    union: bool, terms: CoverTermList, tids: list[int], weight: Callable[[int], float]
) -> tuple[int, ...]:
    """_cover on a tree _cover_terms shortened: an AND keeps its rarest term's atom (the
    first of equals, as min does), an OR all of them."""
    chosen: set[int] = set()
    best, best_weight = -1, 0.0
    for occurrences, title in terms:
        if len(occurrences) == 1:
            atom = 2 * tids[occurrences[0]] + title
        else:
            atom = min((2 * tids[i] for i in occurrences), key=weight) + title
        if union:
            chosen.add(atom)
            continue
        atom_weight = weight(atom)
        if best < 0 or atom_weight < best_weight:
            best, best_weight = atom, atom_weight
    return tuple(sorted(chosen)) if union else (best,)


def _cover(tree: CoverTree, anywhere: list[int], weight: Callable[[int], float]) -> set[int] | None:
    """bot.core.matching.plan's cover, on the tree: the same choices, ties alike."""
    kind = tree[0]
    if kind == 0:
        occurrences = tree[1]
        assert isinstance(occurrences, tuple)
        best = min((anywhere[i] for i in occurrences), key=weight)
        return {best + 1 if tree[2] else best}
    if kind == 1:
        return None
    children = tree[1]
    assert isinstance(children, tuple)
    covers = [_cover(c, anywhere, weight) for c in children]
    if kind == 2:
        if any(c is None for c in covers):
            return None
        return {a for c in covers if c is not None for a in c}
    usable = [c for c in covers if c is not None]
    if not usable:
        return None
    return min(usable, key=lambda c: sum(weight(a) for a in c))


def real_atom(atom: int, tids: list[int]) -> int:
    """The query's atom for the shape's `atom` (see ATOM_BASE)."""
    offset = atom - 2 * ATOM_BASE
    return 2 * tids[offset >> 1] + (offset & 1)


def instance(
    shape: Shape,
    tids: list[int],
    cover: tuple[int, ...],
    displays: tuple[str, ...],
    word_of: Callable[[int], Word],
) -> Compiled:
    """The shape's compiled form with the query's atoms, words and displays in it."""
    template = shape.compiled

    def atom(a: int) -> int:
        return real_atom(a, tids)

    leaves = tuple(
        Leaf(
            display,
            tuple(atom(a) for a in leaf.atoms),
            tuple(word_of(atom(a) >> 1) for a in leaf.atoms),
            leaf.title_only,
        )
        for display, leaf in zip(displays, template.leaves, strict=True)
    )
    words = tuple(dict.fromkeys(displays)) if template.words is not None else None
    plan = None if template.plan is None else _remap(template.plan, atom)
    return Compiled(plan, cover, leaves, words)


def _remap(plan: Plan, atom: Callable[[int], int]) -> Plan:
    if isinstance(plan, AtomPlan):
        return AtomPlan(atom(plan.atom))
    if isinstance(plan, PhrasePlan):
        return PhrasePlan(tuple(atom(a) for a in plan.atoms), plan.title_only)
    if isinstance(plan, NotPlan):
        return NotPlan(_remap(plan.child, atom))
    if isinstance(plan, AnyPlan):
        return AnyPlan(tuple(_remap(c, atom) for c in plan.children))
    assert isinstance(plan, AllPlan)
    return AllPlan(
        tuple(sorted({atom(a) for a in plan.required})),
        tuple(sorted({atom(a) for a in plan.forbidden})),
        tuple(_remap(c, atom) for c in plan.rest),
    )
