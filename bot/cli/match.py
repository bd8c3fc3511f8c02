"""`newsbot match`: run queries over feeds once and print what they would catch."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.cli.progress import progress
from bot.core.matching.matcher import Matcher
from bot.core.matching.waiting import WaitingQueries
from bot.core.models import Story
from bot.core.query import QueryError, tokenize
from bot.core.query.sources import SourceFilter, split_sources
from bot.feeds.fetch import Fetcher, FetchError
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import FeedParseError, parse_feed

CHECKED_FEEDS = 3  # feeds whose stories choose the queries to index; then all are

# One encoder for every line: json.dumps with an option builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


class MatchUsageError(Exception):
    """A bad query or an unreadable source: exit 2 with this message."""


def _queries_of(path: Path) -> list[tuple[int, str]]:
    """(line number, query) for each non-blank line; the query is the line, trimmed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MatchUsageError(f"cannot read subscriptions {path}: {exc}") from None
    return [(n, query) for n, line in enumerate(lines, 1) if (query := line.strip())]


def _words_of(stories: Iterable[Story]) -> Iterator[str]:
    for story in stories:
        yield from tokenize(story.title)
        yield from tokenize(story.summary)


def _where(i: int, given: Sequence[str], files: list[tuple[Path, list[int]]]) -> str:
    """Where query i came from: the --query options first, then each file's lines."""
    if i < len(given):
        return f"--query {given[i]!r}"
    i -= len(given)
    for path, numbers in files:
        if i < len(numbers):
            return f"{path}:{numbers[i]}"
        i -= len(numbers)
    raise IndexError("no such query")


async def run_match(
    queries: Sequence[str],
    sources: Sequence[str],
    out: TextIO,
    stdin: BinaryIO | None = None,
    *,
    subscription_files: Sequence[Path] = (),
) -> int:
    """Print one JSON line per (story, matching query); every query is checked first."""
    # Where each query came from, worked out only for the error that names it: a file of
    # 100,000 lines should cost its queries, not 100,000 labels.
    texts = list(queries)
    files: list[tuple[Path, list[int]]] = []  # each file's line numbers, in texts' order
    for path in subscription_files:
        lines = _queries_of(path)
        texts.extend(query for _, query in lines)
        files.append((path, [n for n, _ in lines]))
    if not texts:
        raise MatchUsageError("give at least one --query or a --subscriptions file")
    # Every query is checked now; each is indexed once a feed has a story that could match
    # it (bot.core.matching.waiting), and after a few feeds all the rest are, as a
    # per-feed check of 100,000 waiting queries would soon cost more than indexing them.
    waiting = WaitingQueries()
    # The `source:` terms of each query, checked on its matches (the words find them).
    outlets = {i: f for i, text in enumerate(texts) if (f := _sources_of(text))}
    with progress("checking queries", total=len(texts), unit="query") as bar:
        for i, text in enumerate(texts):
            try:
                waiting.add(i, text)
            except QueryError as exc:
                where = _where(i, queries, files)
                raise MatchUsageError(f"bad query {text!r} ({where}): {exc}") from None
            if i % 1024 == 1023:  # a bar moved per query would cost more than the check
                bar.advance(1024)
    # One index over all of them: a file of 100,000 lines costs what a few do per story.
    matcher = Matcher()
    now = datetime.now(UTC)
    async with Fetcher() as fetcher:
        # The bar (stderr, on a terminal only) counts feeds; results still go to `out`,
        # above the bar when `out` is the same terminal.
        with progress("matching feeds", total=len(sources), unit="feed") as bar:
            results = bar.output(out)
            for n, source in enumerate(sources):
                bar.note(source)
                try:
                    if source == "-":
                        parsed = parse_feed((stdin or sys.stdin.buffer).read())
                    else:
                        # The response headers carry the charset; the URL resolves relative links.
                        result = await fetcher.fetch(source)
                        parsed = parse_feed(result.body, result.headers, base_url=result.url)
                except (FetchError, FeedParseError) as exc:
                    raise MatchUsageError(f"cannot read {source}: {exc}") from None
                name = parsed.title or source
                stories = [
                    normalise_entry(entry, feed_id=0, source=name, now=now)
                    for entry in parsed.entries
                ]
                if waiting:
                    matcher.add_many(
                        waiting.take_all()
                        if n + 1 >= CHECKED_FEEDS
                        else waiting.ready_for(_words_of(s for s in stories if s is not None))
                    )
                    # The index lives as long as this process: out of the collector's sight, its
                    # objects are not walked by every full collection while feeds are parsed.
                    gc.freeze()
                for story in stories:
                    if story is None:
                        continue
                    matches = matcher.match(story.title, story.summary)
                    if not matches:
                        continue
                    # The story's fields once, whatever the number of queries it matches: a
                    # story can match thousands. Same text as json.dumps of the whole record.
                    about = _encode(
                        {
                            "title": story.title,
                            "link": story.link,
                            "published": story.published.isoformat(),
                            "source": story.source,
                        }
                    )[1:-1]
                    for m in matches:
                        wanted = outlets.get(m.subscription_id)
                        if wanted is not None and not wanted.accepts(
                            story.source, None if source == "-" else source, story.link
                        ):
                            continue  # `source:` terms: not from an outlet the query wants
                        results.write(
                            f'{{"query": {_encode(m.query)}, {about}, '
                            f'"matched": {_encode(list(m.matched))}}}\n'
                        )
                bar.advance()
            results.flush()
    out.flush()
    return 0


def _sources_of(text: str) -> SourceFilter | None:
    try:
        found = split_sources(text.strip()).sources
    except QueryError:
        return None  # the check below words the error
    return found or None
