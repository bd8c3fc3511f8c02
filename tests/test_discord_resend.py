"""A resend after Discord forgot the nonce: the alert is found in the channel, not posted twice.

Discord remembers a message nonce for a few minutes. The bot down for longer, then
resending an alert that may have gone out (maybe_sent), must look in the channel first.
These drive the real notifier and discord.py against the fake Discord's REST wire; the
fake forgets nonces after its `nonce_memory`, read on a clock these tests move by hand.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bot.adapters.discord import DiscordNotifier, message_nonce
from bot.adapters.discord.adapter import configure_endpoints, make_client
from bot.core.models import Alert, Channel
from bot.store import SqliteStore, open_sqlite
from tests.support.discord_bot import CHANNEL, GUILD, eventually, running_bot
from tests.support.fake_discord import FakeDiscord, ManualClock
from tests.support.feed_server import FeedServer, rss
from tests.support.stories import LAVROV

WHERE = Channel("discord", GUILD, CHANNEL)
MESSAGES = rf"/channels/{CHANNEL}/messages$"


def nato_alert(**changes: object) -> Alert:
    base: dict[str, object] = {
        "channel": WHERE,
        "feed_id": 1,
        "story_id": "lavrov-1",
        "title": LAVROV[1],
        "link": "https://news.example/lavrov-1",
        "source": "Press TV",
        "published": datetime(2021, 12, 27, 14, 10, tzinfo=UTC),
        "summary": LAVROV[2],
        "topics": ("NATO",),
        "matched": ("NATO",),
        "id": 7,
    }
    base.update(changes)
    return Alert(**base)  # type: ignore[arg-type]


def paused_notice(summary: str, alert_id: int) -> Alert:
    return nato_alert(
        kind="notice",
        feed_id=3,
        story_id=f"notice:paused:{alert_id}",
        title="Feed paused: World news",
        summary=summary,
        topics=(),
        matched=(),
        id=alert_id,
    )


async def nato_subscription(channel: Channel) -> Mapping[str, int]:
    return {"NATO": 1}


@pytest.fixture
def clock(fake_discord: FakeDiscord) -> ManualClock:
    """The fake's clock, moved by the test: Discord's minutes pass at once."""
    clock = ManualClock()
    fake_discord.clock = clock
    return clock


def outlast_nonce_memory(fake: FakeDiscord, clock: ManualClock) -> None:
    """The bot was down for longer than Discord remembers a nonce."""
    clock.advance(fake.nonce_memory + 1)


@pytest.fixture
async def client(fake_discord: FakeDiscord, clock: ManualClock) -> AsyncIterator[discord.Client]:
    configure_endpoints(fake_discord.api_base, fake_discord.gateway_url)
    bot = make_client(1)
    await bot.login("fake-token")
    try:
        yield bot
    finally:
        await bot.close()
        configure_endpoints(None, None)


@pytest.fixture
def notifier(client: discord.Client) -> DiscordNotifier:
    return DiscordNotifier(client, lookup=nato_subscription)


async def test_the_nonce_dedupes_only_while_discord_remembers_it(
    fake_discord: FakeDiscord, notifier: DiscordNotifier, clock: ManualClock
) -> None:
    # What every resend did before it looked at the channel: the fake forgets like Discord.
    first = await notifier.send(nato_alert())
    clock.advance(fake_discord.nonce_memory - 1)
    again = await notifier.send(nato_alert())
    assert again.remote_id == first.remote_id
    assert len(fake_discord.posted(CHANNEL)) == 1

    clock.advance(2)  # now past the memory: the nonce alone posts it twice
    await notifier.send(nato_alert())
    assert len(fake_discord.posted(CHANNEL)) == 2


async def test_a_resend_after_discord_forgot_the_nonce_finds_the_first_post(
    fake_discord: FakeDiscord, notifier: DiscordNotifier, clock: ManualClock
) -> None:
    first = await notifier.send(nato_alert())
    outlast_nonce_memory(fake_discord, clock)
    again = await notifier.send(nato_alert(), maybe_sent=True)

    [message] = fake_discord.posted(CHANNEL)
    assert again.remote_id == first.remote_id == message["id"]
    assert len(fake_discord.calls("POST", MESSAGES)) == 1  # nothing was even sent again
    assert len(fake_discord.calls("GET", MESSAGES)) == 1


async def test_a_resend_of_an_alert_that_never_arrived_posts_it_once(
    fake_discord: FakeDiscord, notifier: DiscordNotifier
) -> None:
    # Another alert of the bot is in the channel; it is not this one.
    await notifier.send(nato_alert(id=6, story_id="snow-1", title="Heavy snow in Japan"))
    result = await notifier.send(nato_alert(), maybe_sent=True)

    snow, message = fake_discord.posted(CHANNEL)
    assert snow["embeds"][0]["title"] == "Heavy snow in Japan"
    assert message["embeds"][0]["title"] == LAVROV[1]
    assert result.remote_id == message["id"]
    assert message["nonce"] == message_nonce(nato_alert())
    assert len(fake_discord.calls("GET", MESSAGES)) == 1


async def test_the_alert_is_recognised_by_its_button_not_by_its_text(
    fake_discord: FakeDiscord, notifier: DiscordNotifier, clock: ManualClock
) -> None:
    # The same story from a fresh database (row ids reused): same text, another alert.
    await notifier.send(nato_alert(story_id="lavrov-old"))
    outlast_nonce_memory(fake_discord, clock)
    await notifier.send(nato_alert(), maybe_sent=True)
    assert len(fake_discord.posted(CHANNEL)) == 2


async def test_a_notice_without_buttons_is_found_by_its_embed(
    fake_discord: FakeDiscord, notifier: DiscordNotifier, clock: ManualClock
) -> None:
    failing = paused_notice("Feed #3 has failed 10 times in a row.", alert_id=20)
    await notifier.send(failing)
    outlast_nonce_memory(fake_discord, clock)
    await notifier.send(failing, maybe_sent=True)
    assert len(fake_discord.posted(CHANNEL)) == 1

    other = paused_notice("Feed #3 has failed 10 times in a row again.", alert_id=21)
    await notifier.send(other, maybe_sent=True)
    assert len(fake_discord.posted(CHANNEL)) == 2


@pytest.mark.parametrize("status", [403, 503])
async def test_history_refused_falls_back_to_the_nonce_and_says_so(
    fake_discord: FakeDiscord,
    notifier: DiscordNotifier,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    fake_discord.fail("GET", MESSAGES, status)  # 403: no Read Message History
    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord.notifier"):
        result = await notifier.send(nato_alert(), maybe_sent=True)

    [message] = fake_discord.posted(CHANNEL)
    assert result.remote_id == message["id"]
    assert message["nonce"] == message_nonce(nato_alert())
    [line] = [r for r in caplog.records if "recent messages" in r.getMessage()]
    assert line.channel == str(WHERE)  # type: ignore[attr-defined]
    assert line.alert_id == 7  # type: ignore[attr-defined]
    assert str(status) in line.getMessage()


async def test_history_too_slow_to_answer_falls_back_to_the_nonce(
    fake_discord: FakeDiscord, client: discord.Client, caplog: pytest.LogCaptureFixture
) -> None:
    # discord.py waits and retries a 502 by itself; the notifier does not wait that long.
    fake_discord.fail("GET", MESSAGES, 502, times=5)
    notifier = DiscordNotifier(client, lookup=nato_subscription, history_timeout=0.2)
    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord.notifier"):
        await notifier.send(nato_alert(), maybe_sent=True)
    assert len(fake_discord.posted(CHANNEL)) == 1
    [line] = [r for r in caplog.records if "recent messages" in r.getMessage()]
    assert "timed out" in line.getMessage()


async def test_history_refused_soon_after_the_post_still_dedupes_by_nonce(
    fake_discord: FakeDiscord, notifier: DiscordNotifier
) -> None:
    first = await notifier.send(nato_alert())
    fake_discord.fail("GET", MESSAGES, 403)
    again = await notifier.send(nato_alert(), maybe_sent=True)
    assert len(fake_discord.posted(CHANNEL)) == 1
    assert again.remote_id == first.remote_id


async def test_a_lost_response_then_a_late_resend_by_the_running_bot_posts_once(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/world.rss", rss(("snow-1", "Snow in Japan", "Flights cancelled.")))
    fast = {"newsbot_retry_base": 0.05, "newsbot_retry_max": 0.2}
    async with running_bot(fake_discord, tmp_path, [url], **fast):
        await fake_discord.slash("/news subscribe query=NATO", guild_id=GUILD, channel_id=CHANNEL)
        await eventually(lambda: feed_server.hits("/world.rss"))
        # Discord creates the message, the answer is lost, and by the resend the nonce is
        # forgotten (as after an outage of more than a few minutes).
        fake_discord.nonce_memory = 0.0
        fake_discord.fail("POST", MESSAGES, 503, lost_response=True)
        feed_server.serve("/world.rss", rss(LAVROV))

        store = await open_sqlite(str(tmp_path / "bot.db"))
        try:
            await eventually(lambda: sent(store))
        finally:
            await store.close()
        [message] = fake_discord.posted(CHANNEL)
    assert message["embeds"][0]["title"] == LAVROV[1]
    assert len(fake_discord.calls("POST", MESSAGES)) == 1
    assert len(fake_discord.calls("GET", MESSAGES)) == 1


async def sent(store: SqliteStore) -> bool:
    status = await store.delivery_status(WHERE)
    return bool(status.pending == 0 and status.last_sent_at is not None)
