"""Personal alerts: a person's direct messages are a channel of their own.

A personal subscription belongs to the channel `dm:<user id>` of the person's platform
and workspace (a Slack team; on Discord, where a DM belongs to no server, "@me", as
Discord itself names it). The outbox, pacing, holds (quiet hours, digests, snooze per
person) and pausing then work for it as for any channel; only the notifier needs to know,
to open the DM (Discord POST /users/@me/channels, Slack conversations.open) before posting.
"""

from __future__ import annotations

from bot.core.models import Channel

DM_PREFIX = "dm:"
DISCORD_DM_WORKSPACE = "@me"
DM_FLAG = "dm"  # `/news subscribe NATO dm`: the last word asks for a personal subscription


def personal_channel(platform: str, workspace: str, user: str) -> Channel:
    return Channel(platform, workspace, DM_PREFIX + user)


def dm_user(channel: Channel) -> str | None:
    """The person whose direct messages `channel` is; None for an ordinary channel."""
    if channel.channel.startswith(DM_PREFIX):
        return channel.channel[len(DM_PREFIX) :]
    return None


def split_dm_flag(args: str) -> tuple[str, bool]:
    """`NATO, Russia dm` -> ("NATO, Russia", True): a trailing `dm` outside quotes."""
    head, _, last = args.rstrip().rpartition(" ")
    if last.casefold() == DM_FLAG and head.count('"') % 2 == 0 and head.strip():
        return head.rstrip(), True
    return args, False
