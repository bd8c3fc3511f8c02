"""One story as the matcher reads it: its words, which indexed terms occur, and where."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.models import Span
from bot.core.query.text import tokenize, word_spans

TermLookup = Callable[[str], tuple[int, ...]]
Place = tuple[int, int]  # (stream: 0 title / 1 summary, index of the first word)


class StoryView:
    """Tokenized once; word positions and character offsets only when a match needs them.

    Atom ids: an indexed term `t` found anywhere is atom `2t`, found in the title `2t + 1`
    (see bot.core.matcher_plan), so one set answers both "anywhere" and "title:" questions.
    """

    __slots__ = ("_offsets", "_phrases", "_positions", "lookup", "present", "texts", "tokens")

    def __init__(self, title: str, summary: str, lookup: TermLookup) -> None:
        self.texts = (title, summary)
        self.tokens = (tokenize(title), tokenize(summary))
        self.lookup = lookup
        present: set[int] = set()
        for token in set(self.tokens[0]):
            for atom in lookup(token):
                present.add(atom)
                present.add(atom + 1)
        for token in set(self.tokens[1]):
            atoms = lookup(token)
            if atoms:
                present.update(atoms)
        self.present = present
        self._positions: list[dict[int, list[int]] | None] = [None, None]
        self._offsets: list[list[tuple[int, int]] | None] = [None, None]
        self._phrases: dict[tuple[tuple[int, ...], bool], list[Place]] = {}

    def positions(self, stream: int) -> dict[int, list[int]]:
        """For the title (0) or summary (1): anywhere-atom -> indexes of the words having it."""
        index = self._positions[stream]
        if index is None:
            index = {}
            lookup = self.lookup
            for i, token in enumerate(self.tokens[stream]):
                for atom in lookup(token):
                    index.setdefault(atom, []).append(i)
            self._positions[stream] = index
        return index

    def places(self, atoms: tuple[int, ...], title_only: bool) -> list[Place]:
        """Where words having `atoms` (anywhere-atoms) stand next to each other, in order."""
        key = (atoms, title_only)
        found = self._phrases.get(key)
        if found is None:
            found = []
            for stream in (0,) if title_only else (0, 1):
                index = self.positions(stream)
                later = [set(index.get(a, ())) for a in atoms[1:]]
                for i in index.get(atoms[0], ()):
                    if all(i + 1 + j in at for j, at in enumerate(later)):
                        found.append((stream, i))
            self._phrases[key] = found
        return found

    def span(self, stream: int, first: int, words: int) -> Span:
        offsets = self._offsets[stream]
        if offsets is None:
            offsets = self._offsets[stream] = word_spans(self.texts[stream])
        start, end = offsets[first][0], offsets[first + words - 1][1]
        return Span("title", start, end) if stream == 0 else Span("summary", start, end)
