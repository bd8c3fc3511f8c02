"""A parsed query compiled for the matcher: atoms, a boolean plan, and its cover.

Atoms: the matcher numbers each distinct word-test (`nato` with its forms, `=nato`, `russ*`)
as a term `t`; atom `2t` means "t occurs anywhere", `2t + 1` "t occurs in the title".

Cover: a set of atoms at least one of which every matching story must contain (a query
with only NOT terms has none, and the parser refuses it). The matcher files the query under
its cover atoms only, so a story's work is its words plus the queries one of whose cover
atoms it holds. For AND the cover is the cheapest child's, guessed from word length (long
words are rarer: Zipf's law of abbreviation); for OR it is the union of the children's.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.matching.story import StoryView
from bot.core.query.ast import And, Node, Not, Or, Term, Word, terms_of

TermId = Callable[[Word], int]


class Plan:
    __slots__ = ()

    def test(self, story: StoryView) -> bool:
        raise NotImplementedError


class AtomPlan(Plan):
    __slots__ = ("atom",)

    def __init__(self, atom: int) -> None:
        self.atom = atom

    def test(self, story: StoryView) -> bool:
        return self.atom in story.present


class PhrasePlan(Plan):
    __slots__ = ("atoms", "needed", "title_only")

    def __init__(self, atoms: tuple[int, ...], title_only: bool) -> None:
        self.atoms = atoms  # anywhere-atoms of the words, in order
        self.title_only = title_only
        self.needed = frozenset(a + 1 if title_only else a for a in atoms)

    def test(self, story: StoryView) -> bool:
        # Cheap set test first: the positional check only for stories holding every word.
        return self.needed <= story.present and story.has_phrase(self.atoms, self.title_only)


class AllPlan(Plan):
    __slots__ = ("forbidden", "required", "rest")

    def __init__(
        self, required: tuple[int, ...], forbidden: tuple[int, ...], rest: tuple[Plan, ...]
    ) -> None:
        # Tuples, not frozensets: a tuple of two atoms takes a quarter of the memory, and
        # set.issuperset / isdisjoint take any iterable at the same C-level speed.
        self.required = required
        self.forbidden = forbidden
        self.rest = rest

    def test(self, story: StoryView) -> bool:
        present = story.present
        if not (present.issuperset(self.required) and present.isdisjoint(self.forbidden)):
            return False
        return not self.rest or all(p.test(story) for p in self.rest)


class AnyPlan(Plan):
    __slots__ = ("children",)

    def __init__(self, children: tuple[Plan, ...]) -> None:
        self.children = children

    def test(self, story: StoryView) -> bool:
        return any(p.test(story) for p in self.children)


class NotPlan(Plan):
    __slots__ = ("child",)

    def __init__(self, child: Plan) -> None:
        self.child = child

    def test(self, story: StoryView) -> bool:
        return not self.child.test(story)


class Leaf:
    """A positive term, to report as matched (its display) and where (its spans)."""

    __slots__ = ("atoms", "display", "title_only", "words")

    def __init__(
        self, display: str, atoms: tuple[int, ...], words: tuple[Word, ...], title_only: bool
    ) -> None:
        self.display = display
        self.atoms = atoms  # anywhere-atoms of its words, in order
        self.words = words  # the same words, for finding them again (bot.core.matching.spans)
        self.title_only = title_only

    def found(self, story: StoryView) -> bool:
        present = story.present
        shift = 1 if self.title_only else 0
        if not all(a + shift in present for a in self.atoms):
            return False
        return len(self.atoms) == 1 or story.has_phrase(self.atoms, self.title_only)


class Compiled:
    __slots__ = ("cover", "leaves", "plan", "words")

    def __init__(
        self,
        plan: Plan | None,
        cover: tuple[int, ...],
        leaves: tuple[Leaf, ...],
        words: tuple[str, ...] | None,
    ) -> None:
        self.plan = plan  # None: a single word, so holding its cover atom is matching
        self.cover = cover
        self.leaves = leaves
        # When every positive term must be present for a match (no OR), what a match
        # reports is known in advance; None: check each term on the story.
        self.words = words


def compile_query(node: Node, term_id: TermId, weight: Callable[[int], float]) -> Compiled:
    compiler = _Compiler(term_id, weight)
    plan = compiler.plan(node)
    cover = compiler.cover(node)
    if cover is None:  # the parser refuses these; a cover-less query would never be tried
        raise ValueError("a query needs a positive term")
    leaves = tuple(compiler.leaf(t) for t in terms_of(node, positive_only=True))
    trivial = isinstance(node, Term) and len(node.words) == 1
    words = tuple(dict.fromkeys(leaf.display for leaf in leaves)) if _no_or(node) else None
    return Compiled(None if trivial else plan, tuple(sorted(cover)), leaves, words)


def _no_or(node: Node) -> bool:
    if isinstance(node, Term | Not):
        return True
    return isinstance(node, And) and all(_no_or(c) for c in node.children)


class _Compiler:
    def __init__(self, term_id: TermId, weight: Callable[[int], float]) -> None:
        self.term_id = term_id
        self.weight = weight

    def atoms(self, term: Term) -> tuple[int, ...]:
        return tuple(2 * self.term_id(w) for w in term.words)

    def leaf(self, term: Term) -> Leaf:
        return Leaf(term.display, self.atoms(term), term.words, term.field == "title")

    def plan(self, node: Node) -> Plan:
        if isinstance(node, Term):
            atoms = self.atoms(node)
            title = node.field == "title"
            if len(atoms) == 1:
                return AtomPlan(atoms[0] + 1 if title else atoms[0])
            return PhrasePlan(atoms, title)
        if isinstance(node, Not):
            return NotPlan(self.plan(node.child))
        if isinstance(node, Or):
            return AnyPlan(tuple(self.plan(c) for c in node.children))
        required: set[int] = set()
        forbidden: set[int] = set()
        rest: list[Plan] = []
        for child in node.children:
            compiled = self.plan(child)
            if isinstance(compiled, AtomPlan):
                required.add(compiled.atom)
            elif isinstance(compiled, NotPlan) and isinstance(compiled.child, AtomPlan):
                forbidden.add(compiled.child.atom)
            else:
                rest.append(compiled)
        # Phrases and groups are dearer than set tests: run them last, cheapest first.
        rest.sort(key=lambda p: not isinstance(p, PhrasePlan))
        return AllPlan(tuple(sorted(required)), tuple(sorted(forbidden)), tuple(rest))

    def cover(self, node: Node) -> set[int] | None:
        if isinstance(node, Term):
            atoms = self.atoms(node)
            best = min(atoms, key=self.weight)  # a phrase needs all its words: the rarest
            return {best + 1 if node.field == "title" else best}
        if isinstance(node, Not):
            return None
        covers = [self.cover(c) for c in node.children]
        if isinstance(node, Or):
            if any(c is None for c in covers):
                return None
            return {a for c in covers if c is not None for a in c}
        usable = [c for c in covers if c is not None]
        if not usable:
            return None
        return min(usable, key=lambda c: sum(self.weight(a) for a in c))
