"""`newsbot doctor`: a checklist of what is wrong with this install, changing nothing.

One line per check, `[ok]`, `[FAIL]`, `[warn]` or `[info]`, and after `->` what to do
about a failure; exit 1 if any check failed. In order: the settings; the database
(reachable, migrations current; read without migrating or creating anything); every
operator feed fetched once, as the watcher fetches it, with what the database last
recorded about it; then Discord and Slack when their tokens are set
(bot/adapters/*/doctor.py). A part that cannot be checked says so and the rest go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TextIO

from bot.cli.progress import progress
from bot.config import Settings
from bot.core.checks import Check, fail, info, ok, warn
from bot.core.models import Channel, Feed
from bot.core.personal import dm_user
from bot.feeds.feed_list import FeedListError, read_feed_list
from bot.feeds.fetch import Fetcher, FetchError
from bot.feeds.parse import FeedParseError, parse_feed
from bot.store import StoreUnavailable, UnsupportedDatabaseUrl, open_store, schema_status

FEED_CONCURRENCY = 8


def report_bad_settings(message: str, out: TextIO) -> int:
    """Settings that do not load: the one check that can be made, failed."""
    out.write(fail("settings", message, "fix that variable in the environment or .env").line())
    out.write("\n1 check(s) failed\n")
    return 1


async def run_doctor(settings: Settings, out: TextIO, err: TextIO | None = None) -> int:
    checks: list[Check] = []

    def emit(found: Sequence[Check]) -> None:
        for check in found:
            checks.append(check)
            out.write(check.line() + "\n")
        out.flush()

    emit([_settings_check(settings)])
    feed_urls, listed = _feed_list(settings)
    emit(listed)
    db_checks, known, channels = await _database(settings)
    emit(db_checks)
    emit(await _feed_checks(settings, feed_urls, known, err))
    if settings.discord_token is not None:
        from bot.adapters.discord.doctor import discord_checks

        emit(await discord_checks(settings, _in_channels(channels, "discord")))
        emit(_personal(channels, "discord", "Discord"))
    if settings.slack_bot_token is not None:
        from bot.adapters.slack.doctor import slack_checks

        emit(await slack_checks(settings, _in_channels(channels, "slack")))
        emit(_personal(channels, "slack", "Slack"))
    failed = sum(c.failed for c in checks)
    out.write(f"{failed} check(s) failed\n" if failed else "all checks passed\n")
    out.flush()
    return 1 if failed else 0


def _in_channels(channels: Sequence[Channel], platform: str) -> list[Channel]:
    """The platform's channels holding subscriptions, not people's direct messages."""
    return [c for c in channels if c.platform == platform and dm_user(c) is None]


def _personal(channels: Sequence[Channel], platform: str, name: str) -> list[Check]:
    """People with personal subscriptions: their DMs are opened when an alert is sent
    (and a refusal pauses only theirs), so there is nothing to check ahead."""
    people = [c for c in channels if c.platform == platform and dm_user(c) is not None]
    if not people:
        return []
    return [
        info(
            f"{name} personal subscriptions",
            f"{len(people)} people get alerts by direct message (not checked ahead)",
        )
    ]


def _settings_check(settings: Settings) -> Check:
    chats = [
        name
        for name, token in (
            ("Discord", settings.discord_token),
            ("Slack", settings.slack_bot_token),
        )
        if token is not None
    ]
    where = f"chat: {', '.join(chats)}" if chats else "no chat token set: the console only"
    return ok("settings", f"valid; {where}")


def _feed_list(settings: Settings) -> tuple[list[str], list[Check]]:
    path = settings.newsbot_feeds_file
    if path is None:
        return [], [info("feed list", "NEWSBOT_FEEDS_FILE not set: feeds come from chat only")]
    try:
        urls = read_feed_list(path)
    except FeedListError as exc:
        return [], [fail("feed list", str(exc), "fix NEWSBOT_FEEDS_FILE or the file it names")]
    if not urls:
        return [], [warn("feed list", f"{path} lists no feed", "add one URL per line")]
    return urls, [ok("feed list", f"{path}: {len(urls)} feed(s)")]


async def _database(settings: Settings) -> tuple[list[Check], dict[str, Feed], list[Channel]]:
    """The database checks, and (when it is current) its feeds and subscribed channels."""
    url = settings.database_url
    try:
        status = await schema_status(url)
    except UnsupportedDatabaseUrl as exc:
        return [fail("database", f"DATABASE_URL: {exc}", "fix DATABASE_URL")], {}, []
    except StoreUnavailable as exc:
        fix = "start the database server, or fix DATABASE_URL (host, password, database)"
        return [fail("database", str(exc), fix)], {}, []
    if not status.exists:
        detail = f"no SQLite database at {url.removeprefix('sqlite:///')} yet"
        return (
            [fail("database", detail, "run newsbot migrate (or newsbot run) to create it")],
            {},
            [],
        )
    if status.unknown:
        detail = f"migrated by a newer newsbot (versions {status.unknown} are unknown here)"
        return [fail("database", detail, "run the newsbot version that migrated it")], {}, []
    if status.pending:
        detail = f"{status.backend}, reachable; {len(status.pending)} migration(s) not applied"
        fix = "run newsbot migrate (newsbot run also applies them at start)"
        return [fail("database", detail, fix)], {}, []
    found = [
        ok("database", f"{status.backend}, reachable, all {len(status.applied)} migrations applied")
    ]
    # Current: opening it changes nothing (no migration to apply).
    store = await open_store(url)
    try:
        feeds = {f.url: f for f in await store.list_feeds()}
        subscriptions = await store.all_subscriptions()
    finally:
        await store.close()
    channels = sorted({s.channel for s in subscriptions}, key=str)
    paused = sorted({str(s.channel) for s in subscriptions if s.paused_reason})
    detail = f"{len(subscriptions)} subscription(s) in {len(channels)} channel(s)"
    if paused:
        found.append(
            warn(
                "subscriptions",
                f"{detail}; paused in {', '.join(paused)}",
                "/news list there says why; /news resume once it is fixed",
            )
        )
    else:
        found.append(ok("subscriptions", detail))
    chat_feeds = [f for f in feeds.values() if not f.trusted]
    unwell = [f for f in chat_feeds if f.paused or f.failures]
    if unwell:
        names = ", ".join(f"#{f.id} ({'paused' if f.paused else 'failing'})" for f in unwell)
        found.append(
            warn("feeds added from chat", f"{len(chat_feeds)}; {names}", "/news feed list")
        )
    elif chat_feeds:
        found.append(ok("feeds added from chat", f"{len(chat_feeds)}, all well"))
    return found, feeds, channels


async def _feed_checks(
    settings: Settings, urls: Sequence[str], known: dict[str, Feed], err: TextIO | None
) -> list[Check]:
    if not urls:
        return []
    fetcher = Fetcher(
        timeout=settings.newsbot_fetch_timeout, max_bytes=settings.newsbot_max_feed_bytes
    )
    limit = asyncio.Semaphore(FEED_CONCURRENCY)
    try:
        with progress("fetching feeds", total=len(urls), unit="feed", stream=err) as bar:

            async def one(url: str) -> Check:
                async with limit:
                    bar.note(url)
                    try:
                        return await _feed_check(fetcher, url, known.get(url))
                    finally:
                        bar.advance()

            return list(await asyncio.gather(*(one(u) for u in urls)))
    finally:
        await fetcher.close()


async def _feed_check(fetcher: Fetcher, url: str, stored: Feed | None) -> Check:
    name = f"feed {url}"
    history = ""
    if stored is not None and stored.paused:
        since = f"{stored.paused_at:%Y-%m-%d %H:%M} UTC" if stored.paused_at else "?"
        history = f"; paused since {since}: {stored.last_error}"
    elif stored is not None and stored.failures:
        history = f"; {stored.failures} failure(s) in a row, last: {stored.last_error}"
    try:
        # As the watcher fetches an operator feed: trusted, with its size and time limits.
        result = await fetcher.fetch(url)
        parsed = await asyncio.to_thread(
            parse_feed, result.body, result.headers, base_url=result.url
        )
    except FetchError as exc:
        return fail(name, f"{exc}{history}", "check the URL in a browser; fix or remove it")
    except FeedParseError as exc:
        return fail(name, f"not a feed: {exc.detail}{history}", "point it at the RSS/Atom URL")
    title = f' "{parsed.title}"' if parsed.title else ""
    detail = f"{result.status},{title} {len(parsed.entries)} item(s)"
    if stored is not None and stored.paused:
        return warn(name, detail + history, f"/news feed resume {stored.id}")
    return ok(name, detail + history)
