"""NEWSBOT_ROLES: which of poll, deliver and chat a process does.

A poller queues alerts and sends none; a deliverer sends them and fetches no feed; a chat
process answers commands. Checked on real `newsbot run` processes sharing one database,
one after the other, each finishing before the next starts: what one did is in the
database and what it printed is all it ever will print.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.runtime import build_app, role_loops, select_adapters
from tests.support.console import ConsoleBot
from tests.support.feed_server import FeedServer, rss
from tests.support.process import query_db, start_newsbot

NATO = ("nato-1", "NATO ministers meet in Brussels", "Talks on Ukraine.")


def test_roles_default_to_all_three() -> None:
    assert load_settings(_env_file=None).roles == {"poll", "deliver", "chat"}


def test_roles_are_read_in_any_order_case_and_spacing() -> None:
    settings = load_settings(_env_file=None, newsbot_roles=" Chat ,poll")
    assert settings.roles == {"poll", "chat"}
    assert settings.newsbot_roles == "poll,chat"


@pytest.mark.parametrize("value", ["poll,cook", "", " , "])
def test_an_unknown_or_missing_role_is_one_line_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, newsbot_roles=value)
    message = str(caught.value)
    assert message.startswith("invalid setting NEWSBOT_ROLES: expected one or more of")
    assert "\n" not in message
    if "cook" in value:
        assert "unknown role 'cook'" in message


@pytest.mark.parametrize(
    ("roles", "loops"),
    [
        ("poll,deliver,chat", {"watcher", "subscriptions", "dispatcher", "console adapter"}),
        ("poll", {"watcher", "subscriptions"}),
        ("deliver", {"dispatcher", "console adapter"}),
        ("chat", {"console adapter"}),
        ("poll,chat", {"watcher", "subscriptions", "console adapter"}),
    ],
)
async def test_the_loops_a_process_runs_follow_its_roles(
    tmp_path: Path, roles: str, loops: set[str]
) -> None:
    settings = load_settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}", newsbot_roles=roles
    )
    app = await build_app(settings, select_adapters(settings, io.StringIO(), io.StringIO()))
    try:
        assert set(role_loops(app, settings.roles)) == loops
    finally:
        await app.close()


async def test_an_unknown_role_stops_newsbot_run_with_exit_2(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "NEWSBOT_ROLES": "poll,cook"}
    proc = await start_newsbot(env, tmp_path)
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("newsbot: invalid setting NEWSBOT_ROLES:")
    assert "unknown role 'cook'" in lines[0]


async def test_a_poller_queues_a_deliverer_sends_a_chat_process_answers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    db = tmp_path / "bot.db"
    url = feed_server.serve("/world.rss", rss(NATO))
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(url + "\n")
    base = {
        "DATABASE_URL": f"sqlite:///{db}",
        "NEWSBOT_FEEDS_FILE": str(feeds),
        "NEWSBOT_BACKFILL": "5",  # the story already in the feed alerts
        "NEWSBOT_POLL_INTERVAL": "1",
    }

    chat = await ConsoleBot.start({**base, "NEWSBOT_ROLES": "chat"}, tmp_path)
    try:
        assert await chat.say("/news subscribe NATO") == "Subscribed #1: NATO"
    finally:
        code, _, log = await chat.stop_and_read_rest()
    assert code == 0, log
    assert feed_server.hits("/world.rss") == []  # chat alone polls nothing

    poller = await ConsoleBot.start({**base, "NEWSBOT_ROLES": "poll"}, tmp_path)
    try:
        await feed_server.wait_for_hits("/world.rss", 2)  # the first answer is recorded
    finally:
        code, printed, log = await poller.stop_and_read_rest()
    assert code == 0, log
    assert printed == []  # queued, never sent
    assert query_db(db, "SELECT story_id, status FROM outbox") == [("nato-1", "pending")]

    polled = len(feed_server.hits("/world.rss"))
    deliverer = await ConsoleBot.start({**base, "NEWSBOT_ROLES": "deliver"}, tmp_path)
    try:
        alert = await deliverer.read_block()
    finally:
        code, rest, log = await deliverer.stop_and_read_rest()
    assert code == 0, log
    assert NATO[1] in alert
    assert rest == []
    assert query_db(db, "SELECT story_id, status FROM outbox") == [("nato-1", "sent")]
    assert len(feed_server.hits("/world.rss")) == polled  # a deliverer fetches no feed
