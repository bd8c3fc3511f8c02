"""`python -m bot run` as its own process: how tests meet the bot as a deployment would."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import IO

Stream = int | IO[bytes]


async def start_newsbot(
    env: dict[str, str],
    cwd: Path,
    *,
    stdin: Stream = asyncio.subprocess.DEVNULL,
    stdout: Stream = asyncio.subprocess.PIPE,
    stderr: Stream = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:
    """Start `newsbot run` in `cwd` with `env` laid over this process's environment."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env={**os.environ, **env},
        cwd=cwd,
    )


async def newsbot_command(
    cwd: Path, database_url: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run one `newsbot ARGS` (migrate, say) to its end, with `env` laid over this process's
    environment: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def query_db(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows from the bot's SQLite database, opened read-only beside the running bot."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return [tuple(row) for row in conn.execute(sql, params)]
