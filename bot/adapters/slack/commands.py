"""`/news` and the alert buttons: thin translations to the core use-cases.

The command text goes to the core unchanged (after undoing Slack's escaping), so a
command added to bot/core/commands works here with no Slack code. Every handler acks
first (Slack wants an answer within 3 s) and does the slow work after, answering
through the response_url: ephemeral unless the core says the reply announces a change
to the channel. People a reply names are shown as mentions (reply_users.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import mrkdwn
from bot.adapters.slack.blocks import UNSUBSCRIBE_ACTION
from bot.adapters.slack.dms import DirectMessages
from bot.adapters.slack.errors import CHANNEL_REASONS, TOKEN_ERRORS, error_code
from bot.adapters.slack.groups import UserGroups
from bot.adapters.slack.permissions import AdminCheck
from bot.adapters.slack.reply_users import ReplyUsers
from bot.core.commands import (
    REGISTRY,
    CommandDeps,
    Invocation,
    Reply,
    handle_command,
    split_command,
)
from bot.core.mentions import group_mention
from bot.core.models import Channel
from bot.core.personal import DM_FLAG, dm_user, personal_channel, split_dm_flag

log = logging.getLogger(__name__)

FAILED = "Sorry, that command failed; the error is in the bot's log."
# Commands after which alerts will be posted in the channel: check the bot can post there.
POSTING_COMMANDS = frozenset({"subscribe"})


# Commands with nothing only an admin may do (the core's REGISTRY marks the others).
PUBLIC_COMMANDS = frozenset(
    {"subscribe", "unsubscribe", "list", "help", "preview", "status", "topics"}
)
# `/news subscribe NATO @me`: also mention me in its alerts (Discord's `mention:` option).
MENTION_ME = "@me"


@dataclass
class CommandContext:
    deps: CommandDeps
    client: AsyncWebClient
    admins: AdminCheck
    bot_name: str = "newsbot"
    on_token_error: Callable[[str], None] = lambda code: None
    dms: DirectMessages | None = None  # None: no personal alerts (no conversations.open)
    groups: UserGroups | None = None  # None: no user group mentions (no usergroups.list)


def channel_of(team_id: str, channel_id: str) -> Channel:
    return Channel("slack", team_id, channel_id)


def register_commands(app: AsyncApp, ctx: CommandContext) -> None:
    @app.command("/news")
    async def news(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        text = mrkdwn.unescape(str(command.get("text") or ""))
        user = str(command.get("user_id"))
        channel = channel_of(str(command.get("team_id")), str(command.get("channel_id")))
        extra = {"channel": str(channel)}
        users = ReplyUsers()
        typed_in = channel  # a file goes there: a person's DM is a real conversation
        try:
            channel = await in_own_dm(ctx, channel, user)
            reply = await run_command(ctx, text, channel, user, users)
            if reply.attachment is not None:
                reply = await share_attachment(ctx, typed_in, reply)
        except Exception as exc:  # one bad command never stops the bot
            reply = _failed(ctx, exc, extra)
        await _respond(respond, reply, users)
        name, args = split_command(text)
        personal = dm_user(channel) is not None or split_dm_flag(args)[1]
        if reply.ok and name in POSTING_COMMANDS and not personal:
            hint = await invite_hint(ctx, channel)
            if hint:
                await _respond(respond, Reply(hint))

    @app.action(re.compile(rf"^{UNSUBSCRIBE_ACTION}(:\d+)?$"))
    async def unsubscribe_button(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        actions = body.get("actions") or [{}]
        topic = str(actions[0].get("value") or "")
        channel = channel_of(
            str((body.get("team") or {}).get("id")), str((body.get("channel") or {}).get("id"))
        )
        user = str((body.get("user") or {}).get("id"))
        try:
            channel = await in_own_dm(ctx, channel, user)
            reply = await unsubscribe_topic(ctx, channel, user, topic)
        except Exception as exc:
            reply = _failed(ctx, exc, {"channel": str(channel)})
        await _respond(respond, reply)


async def run_command(
    ctx: CommandContext, text: str, channel: Channel, user: str, users: ReplyUsers
) -> Reply:
    """Run one command; `users` must be the ReplyUsers that later renders the reply, as the
    people it names are markers only that object can turn into mentions."""
    name, args = split_command(text)
    command = REGISTRY.get(name or "help")
    # users.info costs a Web API call: skip it for commands that are everyone's. Any other
    # command (`feed`, whose add/remove are for admins, or one added later) gets the
    # person's role; the core decides what it allows.
    needs_role = command is not None and (command.needs_manage or name not in PUBLIC_COMMANDS)
    can_manage = needs_role and await ctx.admins.can_manage(user)
    mention = None
    words = args.split()
    if name == "subscribe" and [w.casefold() for w in words[-2:]] == [MENTION_ME, DM_FLAG]:
        # `@me dm`: to me, by direct message (where nobody needs mentioning).
        text = f"{name} {args[: args.rfind(words[-2])].rstrip()} {DM_FLAG}"
    elif name == "subscribe" and words and words[-1].casefold() == MENTION_ME:
        mention = user
        text = f"{name} {args[: args.rfind(words[-1])].rstrip()}"
    elif name == "subscribe" and words and ctx.groups is not None and _group_like(words[-1]):
        group = await ctx.groups.find(words[-1])
        if group is not None:  # else it stays a word of the query
            mention = group_mention(group)
            # The core refuses a group mention to anyone who may not manage the channel.
            can_manage = can_manage or await ctx.admins.can_manage(user)
            text = f"{name} {args[: args.rfind(words[-1])].rstrip()}"
    personal = None
    if ctx.dms is not None:
        personal = personal_channel("slack", channel.workspace, user)
    if channel == personal:
        can_manage = True  # in their own DM, a person manages their own settings
    inv = Invocation(
        channel, user, can_manage, mention=mention, show_user=users.show, personal=personal
    )
    return await handle_command(text, inv, ctx.deps)


def _group_like(word: str) -> bool:
    """`@analysts` or `<!subteam^S123|@analysts>`: maybe a user group (never `@me`)."""
    return word.startswith("<!subteam^") or (word.startswith("@") and word.casefold() != MENTION_ME)


async def in_own_dm(ctx: CommandContext, channel: Channel, user: str) -> Channel:
    """The person's personal channel when `channel` is their DM with the bot; else itself.

    A command typed in a DM between two people arrives with that IM's id too: only the
    IM conversations.open gives for this person is theirs with the bot.
    """
    if ctx.dms is None or not channel.channel.startswith("D"):
        return channel
    if await ctx.dms.channel_of(user) == channel.channel:
        return personal_channel("slack", channel.workspace, user)
    return channel


def _failed(ctx: CommandContext, exc: Exception, extra: Mapping[str, object]) -> Reply:
    if isinstance(exc, SlackApiError) and error_code(exc) in TOKEN_ERRORS:
        ctx.on_token_error(error_code(exc))
        return Reply("Slack refused the bot's token; the bot's operator has to replace it.")
    log.exception("command failed", extra=extra)
    return Reply(FAILED, ok=False)


async def share_attachment(ctx: CommandContext, channel: Channel, reply: Reply) -> Reply:
    """Upload the reply's file into the channel, as slack_sdk's files_upload_v2 does
    (files.getUploadURLExternal, the bytes, files.completeUploadExternal). Slack has no
    ephemeral files: everyone in the channel sees it. A refusal is said in the reply."""
    attachment = reply.attachment
    assert attachment is not None
    try:
        await ctx.client.files_upload_v2(
            channel=channel.channel,
            file=attachment.content,
            filename=attachment.filename,
            title=attachment.filename,
        )
    except SlackApiError as exc:
        code = error_code(exc)
        if code in TOKEN_ERRORS:
            raise
        why = CHANNEL_REASONS.get(code, code)
        return Reply(f"{reply.text}\nThe file could not be shared here: {why}", ok=False)
    return reply


async def unsubscribe_topic(ctx: CommandContext, channel: Channel, user: str, topic: str) -> Reply:
    """The button names a topic, not an id: the subscription may have been re-made since."""
    subs = await ctx.deps.store.list_subscriptions(channel)
    found = next((s for s in subs if s.query.casefold() == topic.casefold()), None)
    if found is None:
        return Reply(f"This channel has no subscription to `{topic}` any more; see /news list")
    return await handle_command(f"unsubscribe {found.id}", Invocation(channel, user), ctx.deps)


async def invite_hint(ctx: CommandContext, channel: Channel) -> str | None:
    """A line telling the person to /invite the bot when it cannot post in the channel."""
    try:
        info = await ctx.client.conversations_info(channel=channel.channel)
    except SlackApiError as exc:
        code = error_code(exc)
        if code in {"channel_not_found", "not_in_channel"}:
            return _invite_text(ctx)
        log.warning("could not check channel membership: %s", code, extra={"channel": str(channel)})
        return None
    details = info.get("channel") or {}
    if details.get("is_im") or details.get("is_member"):
        return None
    return _invite_text(ctx)


def _invite_text(ctx: CommandContext) -> str:
    return (
        f"I am not in this channel, so alerts cannot arrive here yet: "
        f"type `/invite @{ctx.bot_name}` in this channel."
    )


async def _respond(respond: AsyncRespond, reply: Reply, users: ReplyUsers | None = None) -> None:
    await respond(
        text=(users or ReplyUsers()).render(reply.text, ephemeral=reply.ephemeral),
        response_type="ephemeral" if reply.ephemeral else "in_channel",
        replace_original=False,
    )
