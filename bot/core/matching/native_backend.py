"""The matcher's per-story work in C (`_matchcore.c` beside this file), when it was built.

Same contract as `python_backend` (see `matcher.Backend`). Python keeps what happens once
per subscription: parsing, term and entry ids, covers and plans (compiled by `plan`, then
flattened here into int programs). The C index keeps what
happens once per story word: every form of every indexed word in one hash table (keyed per
process, key bytes compared), prefixes in another (a story word is looked up by its own
prefixes), the entries filed under each cover atom, and the programs, and builds the Match
objects itself. A story costs `tokenize()` plus one call. The core accepts arguments of the
exact types passed here only (tuple, list, int, str), and refuses calls made while one of
its methods runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import repeat

from bot.core.matching.plan import (
    AllPlan,
    AnyPlan,
    AtomPlan,
    Compiled,
    Leaf,
    NotPlan,
    PhrasePlan,
    Plan,
)
from bot.core.matching.shapes import ATOM_BASE, NativeShape, Shape
from bot.core.matching.spans import StorySpans
from bot.core.models import Match
from bot.core.query.ast import Word
from bot.core.query.inflect import inflects, plain_forms, plain_forms_of
from bot.core.query.text import tokenize
from bot.core.topics.triggers import topic_triggers

try:
    from bot.core.matching import _matchcore
except ImportError:  # not built: no C compiler where it was installed
    _matchcore = None  # type: ignore[assignment]

AVAILABLE = _matchcore is not None

# Opcodes of the programs, as bot/core/matching/_matchcore.c reads them: one node = [op, size, ...].
OP_ATOM, OP_PHRASE, OP_AND, OP_OR, OP_NOT = range(5)
MAX_LEAVES = 62  # the C side reports found leaves as bits of one 64-bit mask


def encode_plan(plan: Plan, out: list[int]) -> None:
    """Append `plan` as one program node (see the opcodes above) to `out`."""
    if isinstance(plan, AtomPlan):
        out += (OP_ATOM, 3, plan.atom)
    elif isinstance(plan, PhrasePlan):
        out += (OP_PHRASE, 4 + len(plan.atoms), int(plan.title_only), len(plan.atoms), *plan.atoms)
    elif isinstance(plan, NotPlan):
        start = len(out)
        out += (OP_NOT, 0)
        encode_plan(plan.child, out)
        out[start + 1] = len(out) - start
    else:
        start = len(out)
        if isinstance(plan, AllPlan):
            out += (OP_AND, 0)
            for atom in plan.required:  # set tests first: cheapest, and most often false
                out += (OP_ATOM, 3, atom)
            for atom in plan.forbidden:
                out += (OP_NOT, 5, OP_ATOM, 3, atom)
            children: tuple[Plan, ...] = plan.rest
        else:
            assert isinstance(plan, AnyPlan)
            out += (OP_OR, 0)
            children = plan.children
        for child in children:
            encode_plan(child, out)
        out[start + 1] = len(out) - start


def encode_leaf(leaf: Leaf, out: list[int]) -> None:
    if len(leaf.atoms) == 1:
        out += (OP_ATOM, 3, leaf.atoms[0] + 1 if leaf.title_only else leaf.atoms[0])
    else:
        encode_plan(PhrasePlan(leaf.atoms, leaf.title_only), out)


class NativeBackend:
    native = True

    def __init__(self) -> None:
        if _matchcore is None:
            raise RuntimeError(
                "bot.core.matching._matchcore was not built (no C compiler at install)"
            )
        self._index = _matchcore.Index(Match, StorySpans)

    def add_term(self, tid: int, word: Word) -> None:
        if word.mode == "topic":  # every trigger word of the topic is this one term
            add = self._index.add_word
            for form in sorted(topic_triggers(word.norm)):
                add(tid, form, False)
        elif word.mode == "prefix":
            self._index.add_prefix(tid, word.norm)
        elif word.mode == "word" and word.norm.isascii() and word.norm.isalpha():
            # _keys, inlined (inflect.inflects too): this runs for every new word.
            add = self._index.add_word
            for form in plain_forms(word.norm):
                add(tid, form, True)
        else:
            self._index.add_word(tid, word.norm, False)

    def add_terms(self, terms: list[tuple[int, Word]]) -> None:
        tids: list[int] = []
        norms: list[str] = []
        for tid, word in terms:
            if word.mode == "word" and word.norm.isascii() and word.norm.isalpha():
                tids.append(tid)
                norms.append(word.norm)
            else:
                self.add_term(tid, word)
        which, forms = plain_forms_of(norms)
        # One C call per form, but no Python bytecode between them (a map drained by a
        # deque): this is most of what a new word costs.
        deque(map(self._index.add_word, [tids[i] for i in which], forms, repeat(True)), 0)

    def remove_term(self, tid: int, word: Word) -> None:
        if word.mode == "prefix":
            self._index.remove_prefix(tid)
        else:
            for form, possessive in _keys(word):
                self._index.remove_word(tid, form, possessive)

    def add_entry(self, eid: int, compiled: Compiled, subscribers: tuple[int | str, ...]) -> None:
        program: list[int] | None = None
        if compiled.plan is not None:
            program = []
            encode_plan(compiled.plan, program)
        leaves: list[int] | None = None
        if compiled.words is None:  # OR inside: the core reports which terms it found
            if len(compiled.leaves) > MAX_LEAVES:
                raise ValueError(f"a query with OR has at most {MAX_LEAVES} terms here")
            leaves = []
            for leaf in compiled.leaves:
                encode_leaf(leaf, leaves)
        # Which terms' displays a match reports: only queries with OR need them at match time.
        displays = tuple(leaf.display for leaf in compiled.leaves) if leaves is not None else ()
        self._index.add_entry(
            eid, compiled.cover, program, leaves, subscribers, compiled.words, displays
        )

    def add_shaped(
        self,
        eid: int,
        shape: Shape,
        tids: list[int],
        cover: tuple[int, ...],
        displays: tuple[str, ...],
        subscribers: tuple[int | str, ...],
        word_of: Callable[[int], Word],
    ) -> None:
        """`add_entry` for a query of a known shape: the shape's programs, atoms renamed."""
        if shape.native is None:
            shape.native = _encode_shape(shape)
        program, program_atoms, leaves, leaf_atoms = shape.native
        words = None
        if program is not None:
            program = _renamed(program, program_atoms, tids)
        if leaves is not None:
            leaves = _renamed(leaves, leaf_atoms, tids)
        else:
            words = displays if len(displays) == 1 else tuple(dict.fromkeys(displays))
            displays = ()
        self._index.add_entry(eid, cover, program, leaves, subscribers, words, displays)

    def set_subscribers(self, eid: int, subscribers: tuple[int | str, ...]) -> None:
        self._index.set_subscribers(eid, subscribers)

    def remove_entry(self, eid: int) -> None:
        self._index.remove_entry(eid)

    def match(self, title: str, summary: str) -> list[Match]:
        return self._index.match(tokenize(title), tokenize(summary), (title, summary))

    def match_words(
        self, title: str, summary: str, words: tuple[list[str], list[str]]
    ) -> list[Match]:
        """`match`, the story already tokenized (`words`: title's, summary's)."""
        return self._index.match(words[0], words[1], (title, summary))


def _encode_shape(shape: Shape) -> NativeShape:
    """A shape's program and leaves as ints, with where its atoms stand in each."""
    compiled = shape.compiled
    program: list[int] | None = None
    if compiled.plan is not None:
        program = []
        encode_plan(compiled.plan, program)
    leaves: list[int] | None = None
    if compiled.words is None:
        if len(compiled.leaves) > MAX_LEAVES:
            raise ValueError(f"a query with OR has at most {MAX_LEAVES} terms here")
        leaves = []
        for leaf in compiled.leaves:
            encode_leaf(leaf, leaves)
    return program, _atoms_in(program), leaves, _atoms_in(leaves)


def _atoms_in(ints: list[int] | None) -> tuple[int, ...]:
    first = 2 * ATOM_BASE  # shape atoms are the only ints this large (see shapes.ATOM_BASE)
    return tuple(i for i, n in enumerate(ints or ()) if n >= first)


def _renamed(template: list[int], at: tuple[int, ...], tids: list[int]) -> list[int]:
    out = template.copy()
    for i in at:
        offset = out[i] - 2 * ATOM_BASE
        out[i] = 2 * tids[offset >> 1] + (offset & 1)
    return out


def _keys(word: Word) -> list[tuple[str, bool]]:
    """The forms a story word may take to hold `word`: (form, `form's` too), the
    possessive folded into a flag where it is one of the forms, which halves the keys."""
    if word.mode == "topic":
        return [(form, False) for form in sorted(topic_triggers(word.norm))]
    if word.mode != "word" or not inflects(word.norm):
        return [(word.norm, False)]
    # Each plain form's possessive is a form too (inflect.word_forms): all flagged.
    return [(form, True) for form in sorted(plain_forms(word.norm))]
