"""Personal subscriptions: alerts by direct message, a channel of their own for the outbox.

The platform-neutral half (commands, pausing, resuming); the Discord and Slack halves are
in test_personal_alerts_discord.py and test_personal_alerts_slack.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.commands import Invocation, handle_command
from bot.core.models import Alert, Channel
from bot.core.personal import dm_user, personal_channel, split_dm_flag
from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer, rss
from tests.support.process import query_db
from tests.support.rss import Item, rss_doc
from tests.support.stories import LAVROV, SNOW
from tests.support.watch import NEWSROOM, Bot, running_bot
from tests.test_console_conversation import bot_env, gated_feed

ANA_DMS = personal_channel("console", "local", "ana")


def ana(channel: Channel = NEWSROOM, *, manage: bool = False) -> Invocation:
    return Invocation(channel=channel, user="ana", can_manage=manage, personal=ANA_DMS)


async def say(bot: Bot, text: str, inv: Invocation) -> str:
    return (await handle_command(text, inv, bot.deps)).text


def test_the_dm_flag_is_the_last_word_outside_quotes() -> None:
    assert split_dm_flag("NATO, Russia dm") == ("NATO, Russia", True)
    assert split_dm_flag("NATO DM") == ("NATO", True)
    assert split_dm_flag("NATO") == ("NATO", False)
    assert split_dm_flag("dm") == ("dm", False)  # the word itself, alone, is a query
    assert split_dm_flag('"NATO dm"') == ('"NATO dm"', False)
    assert dm_user(ANA_DMS) == "ana"
    assert dm_user(NEWSROOM) is None


async def test_a_personal_subscription_goes_to_the_persons_dms_only(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        old = Item("Rain in Spain", "https://a.example/rain", "rain")
        url = feed_server.serve("/w.rss", rss_doc(old))
        await bot.operator_feed(url)
        await bot.poll()
        reply = await handle_command("/news subscribe NATO dm", ana(), bot.deps)
        assert reply.text == "Subscribed #1: NATO (to you, by direct message)"
        assert reply.ephemeral  # nobody else's business
        assert "No subscriptions in this channel" in await say(bot, "/news list", ana())
        assert "Yours, by direct message (1):\n#1  NATO" in await say(bot, "/news list", ana())
        # In the DM itself, the list is the person's own.
        assert (await say(bot, "/news list", ana(ANA_DMS))).startswith(
            "Your personal subscriptions (1):\n#1  NATO"
        )
        # Someone else in the channel sees none of it.
        bo = Invocation(
            channel=NEWSROOM, user="bo", personal=personal_channel("console", "local", "bo")
        )
        listing = (await handle_command("/news list", bo, bot.deps)).text
        assert listing == "No subscriptions in this channel yet. Try /news subscribe NATO"

        feed_server.serve(
            "/w.rss", rss_doc(Item("NATO summit opens", "https://a.example/n", "n"), old)
        )
        await bot.next_cycle()
        [alert] = await bot.delivered()
        assert alert.channel == ANA_DMS
        assert alert.mentions == ()

        # Unsubscribing works from the channel it was made in, or from the DM.
        assert (await say(bot, "/news unsubscribe 1", ana())).startswith("Unsubscribed #1: NATO")
        assert await bot.store.list_subscriptions(ANA_DMS) == []


async def test_quiet_hours_and_snooze_in_a_dm_are_the_persons_own(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        # In the DM, the person manages their own settings, whatever their server role.
        dm = Invocation(channel=ANA_DMS, user="ana", can_manage=True, personal=ANA_DMS)
        assert "Snoozed until" in await say(bot, "/news snooze 2h", dm)
        assert (await bot.store.channel_settings(ANA_DMS)).snoozed(bot.clock.now())
        assert not (await bot.store.channel_settings(NEWSROOM)).snoozed(bot.clock.now())
        assert "Quiet hours 22:00-07:00 UTC" in await say(bot, "/news quiet 22:00-07:00 UTC", dm)
        assert (await bot.store.channel_settings(NEWSROOM)).quiet is None


async def test_a_platform_without_dms_refuses_a_personal_subscription(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        reply = await bot.say("/news subscribe NATO dm")  # an Invocation with no `personal`
        assert reply == "Personal alerts by direct message are not available here."
        assert await bot.store.list_subscriptions(NEWSROOM) == []


async def test_refused_dms_pause_and_the_persons_next_command_resumes(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await handle_command("/news subscribe NATO dm", ana(), bot.deps)
        reason = "Discord refused a direct message: Cannot send messages to this user"
        kept = Alert(ANA_DMS, 1, "s1", "NATO summit", "https://a.example/n", "Wire",
                     bot.clock.now(), "", ("NATO",), ("NATO",))  # fmt: skip
        await bot.store.queue_alerts([kept], bot.clock.now())
        await bot.store.pause_channel(ANA_DMS, reason)
        assert await bot.store.park_channel(ANA_DMS, reason) == 1
        assert await bot.pending() == []
        # Whatever the command, and wherever: the person is reachable again.
        reply = await say(bot, "/news help", ana())
        assert reply.startswith(
            "Your direct messages were paused after the platform refused one; 1 personal "
            "subscription resumed, 1 kept alert on the way."
        )
        assert [a.title for a in await bot.pending()] == ["NATO summit"]
        [sub] = await bot.store.list_subscriptions(ANA_DMS)
        assert sub.paused_reason is None
        assert bot.index.by_id[sub.id].paused_reason is None
        # Nothing to resume the next time: the reply is the command's alone.
        assert (await say(bot, "/news help", ana())).startswith("newsbot commands:")


async def test_a_console_personal_subscription_end_to_end(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    subscribed = asyncio.Event()
    url = gated_feed(feed_server, "/world.rss", subscribed, rss(SNOW), rss(LAVROV, SNOW))
    bot = await ConsoleBot.start(bot_env(tmp_path, [url]), tmp_path)
    try:
        reply = await bot.say("/news subscribe NATO dm")
        assert reply == "Subscribed #1: NATO (to you, by direct message)"
        subscribed.set()
        alert = await bot.read_block()
        assert alert.startswith("── direct message to console ──")
        assert LAVROV[1] in alert
        assert "Yours, by direct message (1):" in await bot.say("/news list")
    finally:
        subscribed.set()
        code, rest, log = await bot.stop_and_read_rest()
    assert code == 0, log
    assert rest == []
    assert query_db(tmp_path / "bot.db", "SELECT channel, status FROM outbox") == [
        ("dm:console", "sent")
    ]
