"""`newsbot feeds import FILE` and `newsbot feeds export`: the feed list in and out as OPML.

Import reads OPML (or one URL per line) and stores each entry whole or not at all: a URL
is first checked as `/news feed add` checks one (fetched as untrusted, public addresses
only, must parse as a feed), unless `--trusted` says the file is the operator's own; an
entry that fails is reported on its line and skipped, the others go in. Export writes
every feed with its title, whether it is an operator feed and which channels use it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.cli.progress import progress
from bot.config import ConfigError, Settings
from bot.core.opml import OpmlFeed, write_opml
from bot.core.ports import FeedRejected, Store
from bot.feeds.fetch import Fetcher
from bot.feeds.opml import BadEntry, FeedFileError, ImportEntry, read_feed_file
from bot.feeds.probe import HttpFeedProbe
from bot.store import StoreUnavailable, UnsupportedDatabaseUrl, open_store

IMPORTED_BY = "newsbot feeds import"
# Entries checked at once: each is a fetch of someone else's server.
PROBE_CONCURRENCY = 8


class FeedsCommandError(Exception):
    """The command cannot run at all (unreadable file, no database); exit 1 with it."""


@dataclass(frozen=True, slots=True)
class _Checked:
    entry: ImportEntry | BadEntry
    problem: str | None = None


async def _open(settings: Settings) -> Store:
    try:
        return await open_store(settings.database_url)
    except UnsupportedDatabaseUrl as exc:
        raise ConfigError(f"invalid setting DATABASE_URL: {exc}") from None
    except StoreUnavailable as exc:
        raise FeedsCommandError(str(exc)) from None


async def run_export(settings: Settings, out: BinaryIO) -> int:
    store = await _open(settings)
    try:
        users = await store.channels_by_feed()
        feeds = [
            OpmlFeed(f.url, f.title, operator=f.trusted, channels=tuple(users.get(f.id, [])))
            for f in await store.list_feeds()
        ]
    finally:
        await store.close()
    out.write(write_opml(feeds))
    out.flush()
    return 0


async def run_import(
    settings: Settings,
    path: Path,
    out: TextIO,
    *,
    trusted: bool,
    err: TextIO | None = None,
    fetcher: Fetcher | None = None,
) -> int:
    """0 when every entry went in (or was there already), 1 when any was skipped.

    `fetcher`: the one untrusted URLs are checked with (a test's, with its own address
    policy); by default one made from the settings, as the bot's."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise FeedsCommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        entries = read_feed_file(data)
    except FeedFileError as exc:
        raise FeedsCommandError(f"{path}: {exc}") from None
    checked = await _check_all(settings, entries, trusted=trusted, err=err, fetcher=fetcher)
    store = await _open(settings)
    added = present = skipped = 0
    try:
        for item in checked:
            entry = item.entry
            if isinstance(entry, BadEntry) or item.problem is not None:
                reason = entry.reason if isinstance(entry, BadEntry) else item.problem
                out.write(f"skipped  {_text(entry)}: {reason}\n")
                skipped += 1
                continue
            feed, created = await store.import_feed(
                entry.url,
                title=entry.title,
                operator=entry.operator,
                channels=entry.channels,
                added_by=IMPORTED_BY,
            )
            word = "added" if created else "present"
            if created:
                added += 1
            else:
                present += 1
            out.write(f"{word:<8} #{feed.id} {feed.url}  {_describe(entry)}\n")
    finally:
        await store.close()
    out.write(f"{added} added, {present} already there, {skipped} skipped\n")
    out.flush()
    return 1 if skipped else 0


def _text(entry: ImportEntry | BadEntry) -> str:
    return entry.text if isinstance(entry, BadEntry) else entry.url


def _describe(entry: ImportEntry) -> str:
    where = ["operator feed"] if entry.operator else []
    where += [str(c) for c in entry.channels]
    title = f'"{entry.title}" ' if entry.title else ""
    return f"{title}({', '.join(where)})"


async def _check_all(
    settings: Settings,
    entries: Sequence[ImportEntry | BadEntry],
    *,
    trusted: bool,
    err: TextIO | None,
    fetcher: Fetcher | None,
) -> list[_Checked]:
    """Each entry with the reason it is refused, if any. Untrusted entries are probed as
    `/news feed add` probes a URL; a feed that moved for good is stored at its new URL."""
    if trusted:
        return [_Checked(e) for e in entries]
    own = fetcher is None
    if fetcher is None:
        fetcher = Fetcher(
            timeout=settings.newsbot_fetch_timeout, max_bytes=settings.newsbot_max_feed_bytes
        )
    probe = HttpFeedProbe(fetcher)
    limit = asyncio.Semaphore(PROBE_CONCURRENCY)
    wanted = sum(isinstance(e, ImportEntry) for e in entries)
    try:
        with progress("checking feeds", total=wanted, unit="feed", stream=err) as bar:

            async def check(entry: ImportEntry | BadEntry) -> _Checked:
                if isinstance(entry, BadEntry):
                    return _Checked(entry)
                async with limit:
                    bar.note(entry.url)
                    try:
                        probed = await probe.probe(entry.url)
                    except FeedRejected as exc:
                        return _Checked(entry, str(exc))
                    finally:
                        bar.advance()
                return _Checked(
                    ImportEntry(
                        probed.url, entry.title or probed.title, entry.operator, entry.channels
                    )
                )

            return list(await asyncio.gather(*(check(e) for e in entries)))
    finally:
        if own:
            await fetcher.close()
