"""`/news` as Discord application commands: thin handlers over the core use-cases.

Each handler only turns its options back into the command line every platform shares
(`/news subscribe NATO`) and hands it to bot.core.commands.handle_command, so the same
words do the same thing on Discord, Slack and the console. Core commands registered
without a handler here still appear, as `/news <name> [args]`, so a new use-case needs no
adapter work to be usable.

Discord checks option lengths and ranges only in its own client, and server admins can
override `default_permissions`; both are checked here again.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.runner import CommandRunner, runner_of
from bot.core.commands import REGISTRY, Reply
from bot.core.commands.base import Command
from bot.core.mentions import role_mention

log = logging.getLogger(__name__)

QUERY_LIMIT = 200
URL_LIMIT = 2048
ARGS_LIMIT = 200
CHOICES_LIMIT = 25  # Discord refuses more than 25 autocomplete choices
_COMMAND_NAME = re.compile(r"[-_a-z0-9]{1,32}")
DESCRIPTION_LIMIT = 100  # Discord refuses longer command and option descriptions

# Sub-actions that change the channel for everyone: Manage Channels, checked by the bot.
MANAGE_NEEDED = frozenset({"feed add", "feed remove", "digest", "quiet"})
# Asked of the server only when a channel turns threads on (not in the invite).
THREADS_REFUSAL = (
    "Threads need the bot to have Create Public Threads and Send Messages in Threads in "
    "this channel; grant them, then /news threads on again."
)
MANAGE_REFUSAL = (
    "/news {what} needs the Manage Channels permission in this channel; ask someone who has it."
)


def _too_long(name: str, value: str, limit: int) -> Reply | None:
    if len(value) > limit:
        return Reply(f"`{name}` is {len(value)} characters; the limit is {limit}.", ok=False)
    if not value.strip():
        return Reply(f"`{name}` is empty; see /news help.", ok=False)
    return None


async def _run(
    interaction: discord.Interaction[Any],
    text: str,
    *,
    checks: tuple[tuple[str, str, int], ...] = (),
    public: bool = False,
    mention: bool | str = False,
) -> None:
    runner = runner_of(interaction.client)
    for name, value, limit in checks:
        problem = _too_long(name, value, limit)
        if problem is not None:
            await runner.answer(interaction, problem)
            return
    what = " ".join(text.split()[:2]) if text.startswith("feed ") else text.split(" ", 1)[0]
    # In a DM the person manages their own settings (the core checks the rest).
    in_dm = interaction.guild_id is None
    if text.split()[:2] == ["threads", "on"] and not in_dm:
        perms = interaction.app_permissions
        if not (perms.create_public_threads and perms.send_messages_in_threads):
            await runner.answer(interaction, Reply(THREADS_REFUSAL, ok=False))
            return
    if what in MANAGE_NEEDED and not in_dm and not interaction.permissions.manage_channels:
        await runner.answer(interaction, Reply(MANAGE_REFUSAL.format(what=what), ok=False))
        return
    await runner.run(interaction, text, public=public, mention=mention)


class FeedGroup(app_commands.Group, name="feed", description="The feeds this server reads"):
    @app_commands.command(name="add", description="Add a feed (RSS, Atom, RDF) by its URL")
    @app_commands.describe(url="The feed's http(s) URL")
    async def add(
        self, interaction: discord.Interaction[Any], url: app_commands.Range[str, 1, URL_LIMIT]
    ) -> None:
        await _run(interaction, f"feed add {url}", checks=(("url", url, URL_LIMIT),), public=True)

    @app_commands.command(name="remove", description="Remove a feed added from chat")
    @app_commands.describe(feed="The feed's id or URL, as /news feed list shows it")
    async def remove(
        self, interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, URL_LIMIT]
    ) -> None:
        await _run(
            interaction, f"feed remove {feed}", checks=(("feed", feed, URL_LIMIT),), public=True
        )

    @app_commands.command(name="resume", description="Resume polling a paused feed")
    @app_commands.describe(feed="The feed's id or URL, as /news feed list shows it")
    async def resume(
        self, interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, URL_LIMIT]
    ) -> None:
        await _run(interaction, f"feed resume {feed}", checks=(("feed", feed, URL_LIMIT),))

    @remove.autocomplete("feed")
    @resume.autocomplete("feed")
    async def _feeds(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        runner = runner_of(interaction.client)
        needle = current.strip().casefold()
        choices = []
        for feed in await runner.deps.store.list_feeds():
            label = f"{feed.id}: {feed.title or feed.url}"
            if needle in label.casefold() or needle in feed.url.casefold():
                choices.append(app_commands.Choice(name=label[:100], value=str(feed.id)))
        return choices[:CHOICES_LIMIT]

    @app_commands.command(name="list", description="Every feed and its health")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        await _run(interaction, "feed list")

    @app_commands.command(name="export", description="This channel's feeds as an OPML file")
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        await _run(interaction, "feed export")


class NewsGroup(app_commands.Group, name="news", description="Keyword news alerts"):
    """The `/news` command group; its handlers are listed in HANDLED."""

    HANDLED = frozenset(
        {
            "subscribe",
            "unsubscribe",
            "list",
            "feed",
            "preview",
            "digest",
            "quiet",
            "status",
            "help",
        }
    )

    def __init__(self) -> None:
        super().__init__()
        self.add_command(FeedGroup())
        for cmd in REGISTRY.values():
            if cmd.name in self.HANDLED:
                continue
            if _valid_name(cmd.name):
                self.add_command(_passthrough(cmd))
            else:
                log.warning(
                    "core command %r left out of /news: not a name Discord accepts", cmd.name
                )

    @app_commands.command(name="subscribe", description="Alert this channel about a query")
    @app_commands.describe(
        query="Words to watch for, e.g. NATO; commas make several subscriptions",
        mention="Mention you when an alert for it arrives",
        dm="Send its alerts to you alone, by direct message",
        role="Mention this role in its alerts (needs Manage Channels)",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction[Any],
        query: app_commands.Range[str, 1, QUERY_LIMIT],
        mention: bool = False,
        dm: bool = False,
        role: discord.Role | None = None,
    ) -> None:
        await _run(
            interaction,
            f"subscribe {query}{' dm' if dm else ''}",
            checks=(("query", query, QUERY_LIMIT),),
            mention=role_mention(str(role.id)) if role is not None else mention,
        )

    @app_commands.command(name="unsubscribe", description="Stop one subscription of this channel")
    @app_commands.describe(subscription="The subscription (start typing to pick one)")
    async def unsubscribe(self, interaction: discord.Interaction[Any], subscription: str) -> None:
        await _run(
            interaction,
            f"unsubscribe {subscription}",
            checks=(("subscription", subscription, ARGS_LIMIT),),
        )

    @unsubscribe.autocomplete("subscription")
    async def _subscriptions(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        runner = runner_of(interaction.client)
        inv = runner.invocation(interaction)
        if inv is None:
            return []
        needle = current.strip().lstrip("#").casefold()
        choices = []
        for sub in await runner.deps.store.list_subscriptions(inv.channel):
            label = f"#{sub.id} {sub.query}"
            if needle in label.casefold():
                choices.append(app_commands.Choice(name=label[:100], value=str(sub.id)))
        return choices[:CHOICES_LIMIT]

    @app_commands.command(name="list", description="This channel's subscriptions")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        await _run(interaction, "list")

    @app_commands.command(name="preview", description="Stories of the last day a query catches")
    @app_commands.describe(query="The query to try, e.g. NATO")
    async def preview(
        self, interaction: discord.Interaction[Any], query: app_commands.Range[str, 1, QUERY_LIMIT]
    ) -> None:
        await _run(interaction, f"preview {query}", checks=(("query", query, QUERY_LIMIT),))

    @app_commands.command(name="digest", description="Alerts as one digest: hourly, daily or off")
    @app_commands.describe(schedule="hourly, daily HH:MM, or off")
    async def digest(
        self, interaction: discord.Interaction[Any], schedule: app_commands.Range[str, 1, 40]
    ) -> None:
        await _run(
            interaction, f"digest {schedule}", checks=(("schedule", schedule, 40),), public=True
        )

    @app_commands.command(name="quiet", description="Hold alerts during quiet hours, or off")
    @app_commands.describe(period="HH:MM-HH:MM Area/City (an IANA time zone), or off")
    async def quiet(
        self, interaction: discord.Interaction[Any], period: app_commands.Range[str, 1, 80]
    ) -> None:
        await _run(interaction, f"quiet {period}", checks=(("period", period, 80),), public=True)

    @app_commands.command(name="status", description="Pending alerts, last delivery, settings")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        await _run(interaction, "status")

    @app_commands.command(name="help", description="The commands and the query syntax")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        await _run(interaction, "help")


def _valid_name(name: str) -> bool:
    """Discord refuses the whole command sync (400) over one name that is not lower-case
    letters, digits, `-` or `_` (1 to 32): such a core command is left out, not the rest."""
    return bool(_COMMAND_NAME.fullmatch(name))


def _passthrough(cmd: Command) -> app_commands.Command[Any, ..., None]:
    """`/news <name> [args]` for a core command this adapter has no dedicated handler for."""
    description = (cmd.summary or cmd.usage or cmd.name)[:DESCRIPTION_LIMIT]
    if cmd.usage.strip() == cmd.name:  # takes no arguments

        async def bare(interaction: discord.Interaction[Any]) -> None:
            await _run(interaction, cmd.name)

        return app_commands.Command(name=cmd.name, description=description, callback=bare)

    async def with_args(interaction: discord.Interaction[Any], args: str = "") -> None:
        checks = (("args", args, ARGS_LIMIT),) if args else ()
        await _run(interaction, f"{cmd.name} {args}".strip(), checks=checks)

    app_commands.describe(args=f"/news {cmd.usage}"[:DESCRIPTION_LIMIT])(with_args)
    return app_commands.Command(name=cmd.name, description=description, callback=with_args)


def build_tree(client: discord.Client, runner: CommandRunner) -> app_commands.CommandTree[Any]:
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    tree.add_command(NewsGroup())

    @tree.error
    async def on_error(
        interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error(
            "command error: %s",
            error,
            exc_info=error,
            extra={"channel": str(interaction.channel_id)},
        )
        await runner.answer(
            interaction, Reply("Sorry, that command failed; the error is in the bot's log.")
        )

    return tree
