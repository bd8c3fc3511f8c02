"""A read-only sequence of spans worked out on first read, then kept.

Both kinds of match say where their terms stand (query matches: matching/spans.py;
topic verdicts: topics/verdict.py) and both leave the work to whoever reads the spans,
since most matches are only counted or queued. This is what they share: the sequence,
equality and hash over the spans once worked out. The slots stay on each subclass: the
compiled matcher core fills StorySpans' own slots in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from bot.core.models import Span


class LazySpans(Sequence[Span]):
    """Subclasses hold `_spans` (None until worked out) and say how to work them out."""

    __slots__ = ()
    _spans: tuple[Span, ...] | None

    def _work_out(self) -> tuple[Span, ...]:
        """The spans, and drop what was kept only to find them."""
        raise NotImplementedError

    def _same(self, other: object) -> bool | None:
        """Whether `other` holds the same spans; None: not ours to judge (Python asks
        `other`)."""
        raise NotImplementedError

    def _get(self) -> tuple[Span, ...]:
        if self._spans is None:
            self._spans = merged(self._work_out())
        return self._spans

    def __len__(self) -> int:
        return len(self._get())

    @overload
    def __getitem__(self, index: int) -> Span: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Span, ...]: ...

    def __getitem__(self, index: int | slice) -> Span | tuple[Span, ...]:
        return self._get()[index]

    def __eq__(self, other: object) -> bool:
        same = self._same(other)
        if same is None:
            return NotImplemented
        return same

    def __hash__(self) -> int:
        return hash(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


def merged(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    """Sorted spans (title first, by start) with those that overlap or touch made one, so
    a highlight is one run: a phrase and a word of it (`security guarantees`, `guarantees`)
    overlap, and Chinese and Japanese words, overlapping pairs of characters (bot.core.query.
    text), let two terms share a character (`俄罗斯`, `罗斯总统`) or meet (`俄罗斯普京`), which
    one span each would bold as `**俄罗斯****普京**`. Words elsewhere never touch."""
    out: list[Span] = []
    for span in spans:
        last = out[-1] if out else None
        if last is not None and last.field == span.field and span.start <= last.end:
            if span.end > last.end:
                out[-1] = Span(last.field, last.start, span.end)
            continue
        out.append(span)
    return tuple(out)
