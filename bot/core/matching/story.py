"""One story as the matcher reads it: its words, which indexed terms occur, and where."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, compress

from bot.core.query.text import tokenize

TermLookup = Callable[[str], tuple[int, ...]]
Place = tuple[int, int]  # (stream: 0 title / 1 summary, index of the first word)


class StoryView:
    """Tokenized once; word positions only when a phrase needs them.

    Atom ids: an indexed term `t` found anywhere is atom `2t`, found in the title `2t + 1`
    (see bot.core.matching.plan), so one set answers both "anywhere" and "title:" questions.
    The per-word work is C-level (a map over the lookup's cache); Python code runs only for
    the words that hold an indexed term.
    """

    __slots__ = ("_pairs", "_phrases", "_positions", "at", "present")

    def __init__(
        self,
        title: str,
        summary: str,
        lookup: TermLookup,
        cached: dict[str, tuple[int, ...]],
    ) -> None:
        """`cached` is the lookup's cache, read directly: most words are in it already."""
        # For each word of the title (0) and summary (1): the anywhere-atoms it satisfies.
        self.at = (
            _atoms_at(tokenize(title), lookup, cached),
            _atoms_at(tokenize(summary), lookup, cached),
        )
        in_title = set(chain.from_iterable(self.at[0]))
        present = set(chain.from_iterable(self.at[1]))
        present.update(in_title)
        present.update([atom + 1 for atom in in_title])
        self.present = present
        self._positions: list[dict[int, list[int]] | None] = [None, None]
        self._phrases: dict[tuple[tuple[int, ...], bool], list[Place]] = {}
        self._pairs: list[set[tuple[int, int]] | None] = [None, None]

    def positions(self, stream: int) -> dict[int, list[int]]:
        """For the title (0) or summary (1): anywhere-atom -> indexes of the words having it."""
        index = self._positions[stream]
        if index is None:
            index = {}
            at = self.at[stream]
            for i in compress(range(len(at)), at):
                for atom in at[i]:
                    index.setdefault(atom, []).append(i)
            self._positions[stream] = index
        return index

    def pairs(self, stream: int) -> set[tuple[int, int]]:
        """(a, b) for each two neighbouring words of the stream, a of the first, b the next.

        A phrase's neighbouring words must be such pairs: one set test per pair rules out
        most phrase candidates before any walk over positions.
        """
        found = self._pairs[stream]
        if found is None:
            at = self.at[stream]
            found = self._pairs[stream] = {
                (a, b) for i in compress(range(len(at) - 1), at) for a in at[i] for b in at[i + 1]
            }
        return found

    def has_phrase(self, atoms: tuple[int, ...], title_only: bool) -> bool:
        if len(atoms) == 2:  # the common case: the phrase is its one pair
            return atoms in self.pairs(0) or (not title_only and atoms in self.pairs(1))
        pairs = [(atoms[j], atoms[j + 1]) for j in range(len(atoms) - 1)]
        title = self.pairs(0)
        if all(p in title for p in pairs):
            if len(atoms) == 2:
                return True
        elif title_only or not all(p in self.pairs(1) for p in pairs):
            return False
        elif len(atoms) == 2:
            return True
        return bool(self.places(atoms, title_only))  # 3+ words: the pairs may be apart

    def places(self, atoms: tuple[int, ...], title_only: bool) -> list[Place]:
        """Where words having `atoms` (anywhere-atoms) stand next to each other, in order."""
        key = (atoms, title_only)
        found = self._phrases.get(key)
        if found is None:
            found = []
            size = len(atoms)
            for stream in (0,) if title_only else (0, 1):
                index, at = self.positions(stream), self.at[stream]
                # Walk the occurrences of the rarest word of the phrase, check its neighbours.
                hits = [index.get(a, ()) for a in atoms]
                anchor = min(range(size), key=lambda j: len(hits[j]))
                last = len(at) - size
                for p in hits[anchor]:
                    i = p - anchor
                    if 0 <= i <= last and all(atoms[j] in at[i + j] for j in range(size)):
                        found.append((stream, i))
            found.sort()
            self._phrases[key] = found
        return found


def _atoms_at(
    tokens: list[str], lookup: TermLookup, cached: dict[str, tuple[int, ...]]
) -> list[tuple[int, ...]]:
    found = list(map(cached.get, tokens))
    if None in found:  # words not seen since the index last changed
        found = [lookup(t) if a is None else a for t, a in zip(tokens, found, strict=True)]
    return found  # type: ignore[return-value]  # no None left
