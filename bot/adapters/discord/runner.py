"""One interaction -> one core use-case -> one reply, within Discord's 3-second rule.

Every handler (slash subcommands and buttons) comes through `CommandRunner.run`: it
builds the neutral Invocation (who, where, may they manage the channel), checks what
Discord does not check for us, runs the use-case, and answers. When the use-case is still
working after DEFER_AFTER seconds, the interaction is deferred (Discord drops any
interaction not answered within 3 s) and the reply follows as an edit of that response.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import discord

from bot.core.alerts import set_channel_paused
from bot.core.commands import CommandDeps, Invocation, Reply, handle_command
from bot.core.models import Channel
from bot.core.personal import DISCORD_DM_WORKSPACE, personal_channel

log = logging.getLogger(__name__)

DEFER_AFTER = 2.0  # seconds; Discord's limit for the first response is 3
REPLY_CONTENT_LIMIT = 2000
REPLY_EMBED_LIMIT = 4096
NO_PINGS = discord.AllowedMentions.none()  # replies echo user text and name people: no pings
# Subscriptions paused because the bot could not post; resumed once it can again.
PERMISSION_PAUSE_MARK = "lacks permission"
POST_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)


def discord_channel(guild_id: int, channel_id: int) -> Channel:
    return Channel("discord", str(guild_id), str(channel_id))


class CommandRunner:
    def __init__(self, deps: CommandDeps, *, defer_after: float | None = None) -> None:
        self.deps = deps
        self.defer_after = DEFER_AFTER if defer_after is None else defer_after
        self._tasks: set[asyncio.Task[Any]] = set()

    def invocation(
        self, interaction: discord.Interaction[Any], *, mention: bool | str = False
    ) -> Invocation | None:
        """`mention`: True mentions the person in the subscription's alerts; a string is
        what to mention instead (a role, bot.core.mentions)."""
        if interaction.channel_id is None:
            return None
        user = str(interaction.user.id)
        personal = personal_channel("discord", DISCORD_DM_WORKSPACE, user)
        if interaction.guild_id is None:
            # The person's DM with the bot: their personal subscriptions and settings,
            # which they alone manage.
            return Invocation(
                channel=personal,
                user=user,
                can_manage=True,
                show_user=user_mention,
                personal=personal,
            )
        return Invocation(
            channel=discord_channel(interaction.guild_id, interaction.channel_id),
            user=user,
            can_manage=interaction.permissions.manage_channels,
            mention=user if mention is True else (mention or None),
            show_user=user_mention,
            personal=personal,
        )

    async def run(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        *,
        public: bool = False,
        mention: bool | str = False,
    ) -> None:
        """Run `/news <text>` for this interaction and reply; `public`: defer visibly."""
        inv = self.invocation(interaction, mention=mention)
        if inv is None:
            await self.answer(
                interaction, Reply("newsbot works in server channels and DMs only.", ok=False)
            )
            return
        if inv.channel != inv.personal:
            await self._resume_if_postable(interaction, inv.channel)
        task = asyncio.create_task(handle_command(text, inv, self.deps))
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(ephemeral=not public, thinking=True)
        try:
            reply = await task
        except Exception:  # one failed command never stops the bot
            log.exception("command failed", extra={"channel": str(inv.channel), "command": text})
            reply = Reply("Sorry, that command failed; the error is in the bot's log.", ok=False)
        await self.answer(interaction, reply)

    async def answer(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        content, embed = _body(reply.text)
        try:
            if reply.attachment is not None:
                await _answer_with_file(interaction, reply, content, embed)
            elif interaction.response.is_done():
                await interaction.edit_original_response(
                    content=content, embed=embed, allowed_mentions=NO_PINGS
                )
            elif embed is not None:
                await interaction.response.send_message(
                    embed=embed, ephemeral=reply.ephemeral, allowed_mentions=NO_PINGS
                )
            else:
                await interaction.response.send_message(
                    content or "", ephemeral=reply.ephemeral, allowed_mentions=NO_PINGS
                )
        except discord.HTTPException as exc:
            # Expired (over 3 s) or already answered: the log is the only place left to say it.
            log.warning(
                "could not answer an interaction: %s",
                exc,
                extra={"channel": str(interaction.channel_id)},
            )

    async def _resume_if_postable(self, interaction: discord.Interaction[Any], ch: Channel) -> None:
        """Subscriptions paused for a missing permission resume once the bot has it again.

        Every interaction tells us the bot's own permissions in its channel.
        """
        if not interaction.app_permissions.is_superset(POST_PERMISSIONS):
            return
        subs = await self.deps.store.list_subscriptions(ch)
        if not any(s.paused_reason and PERMISSION_PAUSE_MARK in s.paused_reason for s in subs):
            return
        await self.deps.store.resume_channel(ch)
        # The alerts delivery kept unsent while the channel was paused go out now.
        await self.deps.store.unpark_channel(ch, self.deps.clock.now())
        set_channel_paused(self.deps.index.by_id, ch, None)
        log.info("permission restored: subscriptions resumed", extra={"channel": str(ch)})


async def _answer_with_file(
    interaction: discord.Interaction[Any],
    reply: Reply,
    content: str | None,
    embed: discord.Embed | None,
) -> None:
    """The reply with its file attached (multipart, as Discord takes attachments)."""
    attachment = reply.attachment
    assert attachment is not None
    file = discord.File(io.BytesIO(attachment.content), filename=attachment.filename)
    if interaction.response.is_done():
        await interaction.edit_original_response(
            content=content, embed=embed, attachments=[file], allowed_mentions=NO_PINGS
        )
        return
    await interaction.response.send_message(
        content or "",
        embeds=[embed] if embed is not None else [],
        file=file,
        ephemeral=reply.ephemeral,
        allowed_mentions=NO_PINGS,
    )


def user_mention(user_id: str) -> str:
    """`<@id>`, which Discord shows as the person's name; every reply is sent with NO_PINGS,
    so naming someone never notifies them."""
    return f"<@{user_id}>" if user_id.isdigit() else user_id


def _body(text: str) -> tuple[str | None, discord.Embed | None]:
    """Short replies as plain content; long ones (a long list) as an embed description."""
    text = text.strip() or "Done."
    if len(text) <= REPLY_CONTENT_LIMIT:
        return text, None
    if len(text) > REPLY_EMBED_LIMIT:
        text = text[: REPLY_EMBED_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"
    return None, discord.Embed(description=text)


def runner_of(client: discord.Client) -> CommandRunner:
    runner = getattr(client, "newsbot_runner", None)
    if not isinstance(runner, CommandRunner):
        raise RuntimeError("the Discord client has no newsbot command runner")
    return runner
