"""The bot in HTTP mode in this process, against FakeSlack: people type, alerts arrive.

`Workspace.say("/news subscribe NATO")` sends the signed slash-command request Slack
would send and returns the reply the bot sent back through the response_url. The bot is
a member of NEWS; a channel a command comes from exists (someone typed there), and the
bot is in it only if the test joined it (`fake.join`).

Tests wait for what they check by events, never by polling or by a quiet interval: the
fake's recorded calls (`fake.wait_for`), a feed's fetches (`LiveFeed.fetched`) and the
log records the bot writes when it has done something (`Workspace.logged`, e.g. "alert
sent" once the outbox row is marked sent).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from aiohttp import web

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
from tests.support.feed_server import FeedServer

ALICE = "UALICE"
NEWS = "CNEWS"

_keys = itertools.count(1)


class Workspace:
    def __init__(self, fake: FakeSlack, adapter: SlackAdapter, app: App) -> None:
        self.fake = fake
        self.adapter = adapter
        self.app = app
        assert adapter.port is not None
        self.sender = SlackSender(f"http://127.0.0.1:{adapter.port}/slack/events", fake=fake)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.log = LogEvents("bot")

    @classmethod
    async def start(
        cls, fake: FakeSlack, tmp_path: Path, feed_urls: Sequence[str] = (), **options: Any
    ) -> Workspace:
        fake.join(NEWS)  # the bot was invited to the channel the tests talk in
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
        self.log.close()

    async def logged(
        self, message: str, count: int = 1, timeout: float = 20.0, **extra: object
    ) -> list[logging.LogRecord]:
        """The bot's log records with this message (and these extra keys): at least `count`."""
        return await self.log.wait(message, count, timeout, **extra)

    async def say(self, text: str, *, user: str = ALICE, channel: str = NEWS) -> dict[str, Any]:
        """Type a slash command; the first reply that comes back through the response_url."""
        key = f"cmd{next(_keys)}"
        self.fake.add_channel(channel, user, bot=False)  # someone typed there: it exists
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
        self.fake.add_channel(channel, user, bot=False)
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


class LogEvents:
    """The log records of `logger` and below, with a way to wait for one.

    The handler runs in the event loop's thread (the bot logs from its tasks), so it can
    wake a waiter directly.
    """

    def __init__(self, logger: str) -> None:
        self.records: list[logging.LogRecord] = []
        self._logger = logging.getLogger(logger)
        self._level = self._logger.level
        self._changed = asyncio.Event()
        self._handler = _Collect(self)
        self._logger.addHandler(self._handler)
        if self._logger.getEffectiveLevel() > logging.INFO:
            self._logger.setLevel(logging.INFO)

    def close(self) -> None:
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._level)

    def matching(self, message: str, **extra: object) -> list[logging.LogRecord]:
        return [
            r
            for r in self.records
            if r.getMessage().startswith(message)
            and all(getattr(r, k, None) == v for k, v in extra.items())
        ]

    async def wait(
        self, message: str, count: int = 1, timeout: float = 20.0, **extra: object
    ) -> list[logging.LogRecord]:
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                found = self.matching(message, **extra)
                if len(found) >= count:
                    return found
                await self._changed.wait()

    def _add(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._changed.set()


class _Collect(logging.Handler):
    def __init__(self, events: LogEvents) -> None:
        super().__init__(logging.DEBUG)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        self.events._add(record)


class LiveFeed:
    """A feed on the FeedServer whose content a test changes, counting its fetches."""

    def __init__(self, server: FeedServer, path: str, body: str) -> None:
        self.body = body
        self.fetches = 0
        self._fetched = asyncio.Condition()
        self.url = server.handle(path, self._serve)

    def serve(self, body: str) -> None:
        self.body = body

    async def fetched(self, count: int = 1, timeout: float = 20.0) -> None:
        """Return once the feed was fetched `count` times in all."""
        async with asyncio.timeout(timeout), self._fetched:
            await self._fetched.wait_for(lambda: self.fetches >= count)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        body = self.body
        async with self._fetched:
            self.fetches += 1
            self._fetched.notify_all()
        return web.Response(text=body, content_type="application/rss+xml")
