"""Drive `newsbot run` as a separate process through its console: a line in, a block out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.process import start_newsbot


class ConsoleBot:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, env: dict[str, str], cwd: Path) -> ConsoleBot:
        proc = await start_newsbot(env, cwd, stdin=asyncio.subprocess.PIPE)
        return cls(proc)

    async def say(self, line: str) -> str:
        """Send one command line and return the reply block."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.read_block()

    async def read_block(self, timeout: float = 20.0) -> str:
        """Everything up to the next blank line: one reply or one alert."""
        assert self.proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise EOFError("the bot exited: " + await self.stderr())
                line = raw.decode().rstrip("\n")
                if not line and lines:
                    return "\n".join(lines)
                if line:
                    lines.append(line)

    async def stderr(self) -> str:
        assert self.proc.stderr is not None
        try:
            async with asyncio.timeout(2):
                return (await self.proc.stderr.read()).decode()
        except TimeoutError:
            return ""

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.terminate()
        async with asyncio.timeout(10):
            return await self.proc.wait()

    async def stop_and_read_rest(self) -> tuple[int, list[str], str]:
        """Stop the bot as SIGTERM does; its exit code, every block it wrote after the last
        one read, and its log.

        Read to the end of its output after it exited, so the blocks are all it will ever
        write: a test that finds no alert among them knows none can still come.
        """
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        if self.proc.returncode is None:
            self.proc.terminate()
        async with asyncio.timeout(10):
            out, err = await asyncio.gather(self.proc.stdout.read(), self.proc.stderr.read())
            code = await self.proc.wait()
        blocks = [block.strip("\n") for block in out.decode().split("\n\n") if block.strip()]
        return code, blocks, err.decode()
