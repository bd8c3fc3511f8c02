"""Progress on stderr for one-shot commands that can take a while, and only on a terminal.

    with progress("feeds", total=len(urls), unit="feed") as bar:
        for url in urls:
            ...
            bar.advance()

    for source in track(sources, "reading feeds", unit="feed"):
        ...

When the stream (stderr unless given) is not a terminal, every call here does nothing
and prints nothing, and rich is not even imported: pipes, files, cron jobs and tests see
exactly the output the command printed before progress existed. The bar is transient:
it is erased when the work is done, so a terminal ends with the command's own output.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO, TypeVar, cast

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")


class Progress(Protocol):
    """What a command reports while it works."""

    def advance(self, amount: int = 1) -> None:
        """`amount` more units are done."""

    def set_total(self, total: int | None) -> None:
        """The total became known (or changed): a running count becomes a bar."""

    def note(self, text: str) -> None:
        """What is being worked on now (a feed's URL, a table's name); shown beside the bar."""

    def output(self, stream: TextIO) -> TextIO:
        """Where to write the command's own output meant for `stream` while the bar shows:
        `stream` itself, unless it is a terminal too (stdout beside a stderr bar), then a
        stream that prints each line above the bar instead of through it."""


class _Silent:
    """Not a terminal: nothing is shown, nothing is printed."""

    def advance(self, amount: int = 1) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def output(self, stream: TextIO) -> TextIO:
        return stream


def is_terminal(stream: TextIO) -> bool:
    """True when `stream` is an open terminal. A closed or replaced stream is not one."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress(
    description: str,
    *,
    total: int | None = None,
    unit: str = "item",
    stream: TextIO | None = None,
) -> Iterator[Progress]:
    """A progress bar for `total` units of work (a running count when None) on `stream`,
    stderr by default; a silent stand-in when that stream is not a terminal."""
    out = sys.stderr if stream is None else stream
    if not is_terminal(out):
        yield _Silent()
        return
    with _RichProgress(description, total, unit, out) as bar:
        yield bar


def track(
    items: Iterable[T],
    description: str,
    *,
    total: int | None = None,
    unit: str = "item",
    stream: TextIO | None = None,
) -> Iterator[T]:
    """Yield `items`, advancing a bar by one after each (its total: `total`, else the
    length of `items` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]  # Sized, checked just above
    with progress(description, total=total, unit=unit, stream=stream) as bar:
        for item in items:
            yield item
            bar.advance()


class _RichProgress:
    """rich's Progress on its own Console writing to `stream`, one task, transient."""

    def __init__(self, description: str, total: int | None, unit: str, stream: TextIO) -> None:
        # Imported only for a terminal: a pipe never pays for rich's import.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit + "s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}", style="dim"),
            console=Console(file=stream, stderr=stream is sys.stderr),
            transient=True,
            # A few redraws a second are plenty, and keep a fast loop from paying for them.
            refresh_per_second=4,
        )
        self._task = self._progress.add_task(description, total=total, note="")

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._task, amount)

    def set_total(self, total: int | None) -> None:
        self._progress.update(self._task, total=total)

    def note(self, text: str) -> None:
        # Feed titles and URLs are shown as text, never read as rich markup.
        self._progress.update(self._task, note=_plain(text))

    def output(self, stream: TextIO) -> TextIO:
        if not is_terminal(stream):
            return stream
        # A TextIOBase is what a TextIO stands for here: callers only write and flush.
        return cast(TextIO, _AboveBar(self._progress.console))


class _AboveBar(io.TextIOBase):
    """A terminal's lines printed through the bar's console, so they scroll up above the
    bar: written straight to the terminal, the bar's next redraw would overwrite them.
    Each line as it is: no markup, highlighting or wrapping added."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        from rich.text import Text

        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._console.print(Text(line), soft_wrap=True, highlight=False, emoji=False)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self.write("\n")


def _plain(text: str, limit: int = 60) -> str:
    from rich.markup import escape

    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)
