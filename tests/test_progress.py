"""Progress bars on stderr: shown on a terminal, never anywhere else (bot/cli/progress.py)."""

from __future__ import annotations

import errno
import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.cli.demo import sample_feeds
from bot.cli.progress import is_terminal, progress, track
from bot.store import open_store
from tests.store_contract.backends import pg_schema


@contextmanager
def terminal() -> Iterator[tuple[io.TextIOWrapper, list[bytes]]]:
    """A pseudo-terminal 120 columns wide: (its writable end as a text stream, the bytes
    read from the other end, complete once the block has ended)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    received: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, received), daemon=True)
    reader.start()
    stream = open(slave, "w", encoding="utf-8", closefd=True)  # noqa: SIM115 closed below
    try:
        yield stream, received
    finally:
        stream.close()
        reader.join(10)
        os.close(master)


def _drain(master: int, into: list[bytes]) -> None:
    # Read until every copy of the other end is closed (Linux then says EIO).
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:
            if exc.errno == errno.EIO:
                return
            raise
        if not chunk:
            return
        into.append(chunk)


def test_not_a_terminal_prints_nothing_and_passes_output_through() -> None:
    err, out = io.StringIO(), io.StringIO()
    with progress("feeds", total=3, unit="feed", stream=err) as bar:
        assert bar.output(out) is out
        for _ in range(3):
            bar.note("https://example.org/feed")
            bar.advance()
        bar.set_total(5)
    assert list(track([1, 2, 3], "numbers", stream=err)) == [1, 2, 3]
    assert err.getvalue() == ""
    assert not is_terminal(err)


def test_a_closed_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    stream.close()
    assert not is_terminal(stream)


def test_a_terminal_shows_the_bar_and_keeps_output_lines_whole() -> None:
    with terminal() as (tty, received):
        assert is_terminal(tty)
        with progress("copying tables", total=2, unit="table", stream=tty) as bar:
            lines = bar.output(tty)
            assert lines is not tty  # the same terminal: lines go above the bar
            bar.note("[bold]feeds[/bold]")  # text, never markup
            lines.write('{"query": "NATO", "title": "[red]x[/red]"}\n{"query": "Ru')
            bar.advance()
            lines.write('ssia"}\n')
            bar.advance()
    shown = b"".join(received).decode()
    assert "copying tables" in shown
    assert "[bold]feeds[/bold]" in shown
    assert '{"query": "NATO", "title": "[red]x[/red]"}' in shown
    assert '{"query": "Russia"}' in shown


def _newsbot(args: list[str], stderr: int, **env: str) -> subprocess.CompletedProcess[bytes]:
    """`newsbot ARGS` to its end, its stderr on `stderr` (a pipe or a terminal) and `env`
    laid over this process's, with a TERM that would show colour and progress."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=60,
        check=False,
        env={**os.environ, "TERM": "xterm-256color", **env},
    )


def test_match_shows_progress_only_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    subs = tmp_path / "subs.txt"
    subs.write_text("NATO\nRussia\nUkraine\n" * 700, encoding="utf-8")
    args = ["--subscriptions", str(subs), *sample_feeds()]
    piped = _newsbot(["match", *args], subprocess.PIPE)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == b""  # not a terminal: not one byte more than before
    assert piped.stdout.count(b"\n") > 0
    with terminal() as (tty, received):
        shown = _newsbot(["match", *args], tty.fileno())
    assert shown.returncode == 0
    # The same results, byte for byte; the bar went to the terminal only.
    assert shown.stdout == piped.stdout
    assert b"matching feeds" in b"".join(received)


async def test_migrate_from_shows_its_steps_only_on_a_terminal(tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'newsbot.db'}"
    source = await open_store(source_url)
    await source.add_feed("https://wire.example/rss", trusted=True, added_by=None)
    await source.close()
    async with pg_schema() as pg:
        piped = _newsbot(["migrate", "--from", source_url], subprocess.PIPE, DATABASE_URL=pg.url)
        assert (piped.returncode, piped.stderr) == (0, b"")
        with terminal() as (tty, received):
            shown = _newsbot(
                ["migrate", "--from", source_url, "--force"], tty.fileno(), DATABASE_URL=pg.url
            )
    assert shown.returncode == 0
    assert shown.stdout == piped.stdout
    assert b"copying into PostgreSQL" in b"".join(received)
