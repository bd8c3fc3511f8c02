"""feed add, remove, list and resume: the feeds the bot watches, and their health."""

from __future__ import annotations

from datetime import datetime

from bot.core.commands.base import Attachment, CommandDeps, Invocation, Reply, command
from bot.core.models import Feed
from bot.core.opml import OPML_MIME, OpmlFeed, write_opml
from bot.core.ports import FeedRejected

USAGE = "feed add <url> | feed remove <feed> | feed list | feed resume <feed> | feed export"
NEEDS_MANAGE = (
    "/news feed {sub} needs the Manage Channels permission (Discord) or a workspace admin "
    "(Slack); ask someone who has it."
)


@command("feed", USAGE)
async def feed(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Add, remove, list or resume the feeds the bot watches (list shows their health)."""
    sub, _, rest = args.strip().partition(" ")
    sub = sub.casefold()
    rest = rest.strip()
    if sub == "list":
        return await _list(inv, deps)
    if sub == "export":
        return await _export(inv, deps)
    handler = {"add": _add, "remove": _remove, "resume": _resume}.get(sub)
    if handler is None:
        return Reply(f"Usage: /news {USAGE}", ok=False)
    if not inv.can_manage:
        return Reply(NEEDS_MANAGE.format(sub=sub), ok=False)
    if not rest:
        what = "<url>" if sub == "add" else "<feed> (an id from /news feed list, or its URL)"
        return Reply(f"Usage: /news feed {sub} {what}", ok=False)
    return await handler(rest, inv, deps)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "?"


def health(feed: Feed) -> str:
    """ok, failing since when (with the last error), or paused."""
    if feed.paused:
        return (
            f"paused since {_when(feed.paused_at)} after {feed.failures} failures "
            f"(failing since {_when(feed.failing_since)}): {feed.last_error}; "
            f"/news feed resume {feed.id}"
        )
    if feed.failures:
        return (
            f"failing since {_when(feed.failing_since)} ({feed.failures} in a row): "
            f"{feed.last_error}"
        )
    if feed.last_checked_at is None:
        return "ok, not checked yet"
    return f"ok, checked {_when(feed.last_checked_at)}"


def _name(feed: Feed) -> str:
    return f"#{feed.id} {feed.title}" if feed.title else f"#{feed.id}"


async def _list(inv: Invocation, deps: CommandDeps) -> Reply:
    feeds = await deps.store.list_feeds()
    if not feeds:
        return Reply("No feeds yet. Add one with /news feed add <url>")
    users = await deps.store.channels_by_feed()
    lines = [f"Feeds ({len(feeds)}):"]
    for f in feeds:
        channels = users.get(f.id, [])
        origin = "operator" if f.trusted else f"added by {len(channels)} channel(s)"
        if inv.channel in channels:
            origin += ", this one included"
        lines.append(f"{_name(f)}  {f.url}  [{origin}]  {health(f)}")
    return Reply("\n".join(lines))


async def _export(inv: Invocation, deps: CommandDeps) -> Reply:
    """The feeds this channel gets stories from (the operator's and its own) as OPML."""
    users = await deps.store.channels_by_feed()
    mine = []
    for f in await deps.store.list_feeds():
        added = inv.channel in users.get(f.id, [])
        if f.trusted or added:
            channels = (inv.channel,) if added else ()
            mine.append(OpmlFeed(f.url, f.title, operator=f.trusted, channels=channels))
    if not mine:
        return Reply("This channel has no feeds to export. Add one with /news feed add <url>")
    # Other channels are none of this channel's business: the file names only this one.
    document = write_opml(mine, title=f"newsbot feeds of {inv.channel}")
    return Reply(
        f"{len(mine)} feed(s) this channel gets stories from, as OPML (newsbot-feeds.opml).",
        attachment=Attachment("newsbot-feeds.opml", document, OPML_MIME),
    )


async def _add(url: str, inv: Invocation, deps: CommandDeps) -> Reply:
    if deps.probe is None:
        return Reply("Not added: this bot cannot check new feeds (no feed probe).", ok=False)
    existing = await deps.store.find_feed(url)
    if existing is None:
        try:
            probed = await deps.probe.probe(url)
        except FeedRejected as exc:
            # Nothing is stored: a refused URL leaves no trace but the reply.
            return Reply(f"Not added: {exc}", ok=False)
        url, title = probed.url, probed.title
    else:
        url, title = existing.url, existing.title
    feed, attached = await deps.store.attach_feed(url, inv.channel, added_by=inv.user, title=title)
    if not attached:
        return Reply(f"This channel already has feed {_name(feed)} ({feed.url}).")
    return Reply(
        f"Added feed {_name(feed)} ({feed.url}). The stories it holds now are marked as seen; "
        "new ones are matched against this channel's subscriptions.",
        ephemeral=False,
    )


async def _remove(ref: str, inv: Invocation, deps: CommandDeps) -> Reply:
    feed = await deps.store.find_feed(ref)
    if feed is None:
        return Reply(f"No feed {ref}; see /news feed list", ok=False)
    users = await deps.store.feed_channels(feed.id)
    if inv.channel not in users:
        if feed.trusted:
            return Reply(
                f"Feed {_name(feed)} is an operator feed (NEWSBOT_FEEDS_FILE); "
                "it cannot be removed from chat.",
                ok=False,
            )
        return Reply(f"This channel did not add feed {_name(feed)}; nothing to remove.", ok=False)
    left = await deps.store.detach_feed(feed.id, inv.channel)
    if feed.trusted:
        return Reply(
            f"Feed {_name(feed)} removed from this channel; it stays as an operator feed.",
            ephemeral=False,
        )
    if left:
        return Reply(
            f"Feed {_name(feed)} removed from this channel; {left} other channel(s) still use it.",
            ephemeral=False,
        )
    return Reply(f"Feed {_name(feed)} removed ({feed.url}).", ephemeral=False)


async def _resume(ref: str, inv: Invocation, deps: CommandDeps) -> Reply:
    feed = await deps.store.find_feed(ref)
    if feed is None:
        return Reply(f"No feed {ref}; see /news feed list", ok=False)
    if not feed.paused and not feed.failures:
        return Reply(f"Feed {_name(feed)} is not paused; it is ok.")
    resumed = await deps.store.resume_feed(feed.id, deps.clock.now())
    assert resumed is not None
    return Reply(f"Feed {_name(resumed)} resumed; checking it now.", ephemeral=False)
