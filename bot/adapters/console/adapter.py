"""Console: the bot with no chat account, and how outside tests drive it."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TextIO

from bot.adapters.background import run_until_stopped
from bot.adapters.console.render import render_alert
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.models import Alert, Channel
from bot.core.personal import dm_user, personal_channel
from bot.core.ports import SendResult

log = logging.getLogger(__name__)

CONSOLE_CHANNEL = Channel("console", "local", "console")


class ConsoleNotifier:
    platform = "console"

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        # The console has no history to check: a crash mid-write may repeat one block.
        user = dm_user(alert.channel)
        to = f"── direct message to {user} ──\n" if user is not None else ""
        self.out.write(to + render_alert(alert) + "\n")
        self.out.flush()
        return SendResult()


class ConsoleAdapter:
    """Reads `/news ...` lines from `inp` and writes replies and alerts to `out`."""

    platform = "console"

    def __init__(
        self, inp: TextIO, out: TextIO, user: str = "console", *, chat: bool = True
    ) -> None:
        self.inp = inp
        self.chat = chat  # False: alerts only, stdin unread (NEWSBOT_ROLES without chat)
        self.out = out
        self.user = user
        self.notifier = ConsoleNotifier(out)
        self._task: asyncio.Task[None] | None = None

    async def start(self, deps: CommandDeps) -> None:
        if self.chat:
            self._task = asyncio.create_task(self._serve(deps), name="console-commands")

    async def connected(self) -> bool:
        """Always: the console is this process's own stdout (for /readyz)."""
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop. Commands end with stdin (the bot goes on polling and delivering);
        the command loop failing is raised."""
        await run_until_stopped(stop, self._task)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _serve(self, deps: CommandDeps) -> None:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:
            # A daemon thread, not asyncio.to_thread: a blocked readline() must not keep
            # the process alive at shutdown.
            for line in iter(self.inp.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        inv = Invocation(
            channel=CONSOLE_CHANNEL,
            user=self.user,
            can_manage=True,
            personal=personal_channel("console", CONSOLE_CHANNEL.workspace, self.user),
        )
        while (line := await lines.get()) is not None:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            try:
                reply = await handle_command(text, inv, deps)
                body = reply.text
                if reply.attachment is not None:  # a file: its text follows the reply
                    body += "\n" + reply.attachment.content.decode("utf-8", errors="replace")
            except Exception:  # one bad command never stops the bot
                log.exception("command failed", extra={"channel": str(CONSOLE_CHANNEL)})
                body = "Sorry, that command failed; the error is in the log."
            self.out.write(body.rstrip("\n") + "\n\n")
            self.out.flush()
