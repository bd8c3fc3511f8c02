"""The bot in HTTP mode in this process, against FakeSlack: people type, alerts arrive.

`Workspace.say("/news subscribe NATO")` sends the signed slash-command request Slack
would send and returns the reply the bot sent back through the response_url.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from bot.adapters.slack import SlackAdapter, SlackOptions
from bot.config import load_settings
from bot.runtime import App, build_app
from tests.support.fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    SlackSender,
    button_click_payload,
    slash_command_form,
)

ALICE = "UALICE"
NEWS = "CNEWS"

_keys = itertools.count(1)


class Workspace:
    def __init__(self, fake: FakeSlack, adapter: SlackAdapter, app: App) -> None:
        self.fake = fake
        self.adapter = adapter
        self.app = app
        assert adapter.port is not None
        self.sender = SlackSender(f"http://127.0.0.1:{adapter.port}/slack/events")
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(
        cls, fake: FakeSlack, tmp_path: Path, feed_urls: Sequence[str] = (), **options: Any
    ) -> Workspace:
        settings = load_settings(
            database_url=f"sqlite:///{tmp_path / 'bot.db'}", newsbot_poll_interval=1
        )
        adapter = SlackAdapter(
            SlackOptions(
                bot_token=BOT_TOKEN,
                signing_secret=SIGNING_SECRET,
                http_port=0,
                http_host="127.0.0.1",
                api_url=fake.api_url,
                **options,
            )
        )
        app = await build_app(settings, [adapter], feed_urls=list(feed_urls))
        await adapter.start(app.deps)
        workspace = cls(fake, adapter, app)
        workspace._tasks = [
            asyncio.create_task(app.watcher.run(workspace._stop)),
            asyncio.create_task(app.dispatcher.run(workspace._stop, tick=0.2)),
        ]
        return workspace

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with suppress(Exception):
                await asyncio.wait_for(task, 10)
        await self.app.close()

    async def say(self, text: str, *, user: str = ALICE, channel: str = NEWS) -> dict[str, Any]:
        """Type a slash command; the first reply that comes back through the response_url."""
        key = f"cmd{next(_keys)}"
        form = slash_command_form(
            text.removeprefix("/news").strip(),
            user=user,
            channel=channel,
            response_url=self.fake.response_url(key),
        )
        status, _ = await self.sender.command(form)
        assert status == 200
        replies = await self.fake.wait_for(lambda: self.fake.responses_to(key))
        return dict(replies[0])

    async def click(
        self, action_id: str, value: str, *, user: str = ALICE, channel: str = NEWS
    ) -> dict[str, Any]:
        key = f"click{next(_keys)}"
        payload = button_click_payload(
            user=user,
            channel=channel,
            action_id=action_id,
            value=value,
            response_url=self.fake.response_url(key),
        )
        status, _ = await self.sender.interaction(payload)
        assert status == 200
        replies = await self.fake.wait_for(lambda: self.fake.responses_to(key))
        return dict(replies[0])


async def eventually(
    read: Callable[[], Awaitable[Any]], expected: Any, timeout: float = 10
) -> None:
    """Wait until read() returns `expected` (work after an ack runs in the background)."""
    async with asyncio.timeout(timeout):
        while (value := await read()) != expected:  # noqa: ASYNC110 - polling a store
            await asyncio.sleep(0.02)
    assert value == expected
