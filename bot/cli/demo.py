"""`newsbot demo`: the bot's main job, offline, on feeds that ship inside the package."""

from __future__ import annotations

import io
import tempfile
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.adapter import CONSOLE_CHANNEL
from bot.config import Settings
from bot.core.commands import Invocation, handle_command
from bot.runtime import build_app

DEMO_SUBSCRIPTIONS = "Russia, NATO, Ukraine"


def sample_feeds() -> list[str]:
    folder = resources.files("bot.samples")
    return sorted(
        str(Path(str(folder / entry.name)))
        for entry in folder.iterdir()
        if entry.name.endswith(".xml")
    )


async def run_demo(settings: Settings, out: TextIO) -> int:
    with tempfile.TemporaryDirectory(prefix="newsbot-demo-") as tmp:
        demo_settings = settings.model_copy(
            update={
                "database_url": f"sqlite:///{tmp}/demo.db",
                # Replay every bundled story: there is no "before" to protect from a flood.
                "newsbot_backfill": 10_000,
                # Show every alert as it comes rather than folding the replay into digests.
                "newsbot_burst_window": 0,
                # Offline: no article pages fetched, no model asked.
                "newsbot_article_fetch": "off",
                "newsbot_llm_url": None,
            }
        )
        feeds = sample_feeds()
        console = ConsoleAdapter(inp=io.StringIO(), out=out, user="demo")
        app = await build_app(demo_settings, [console], feed_urls=feeds)
        try:
            out.write(f"newsbot demo: {len(feeds)} bundled feeds, a fresh SQLite database\n")
            out.write(f"> /news subscribe {DEMO_SUBSCRIPTIONS}\n")
            inv = Invocation(CONSOLE_CHANNEL, user="demo", can_manage=True)
            reply = await handle_command(f"/news subscribe {DEMO_SUBSCRIPTIONS}", inv, app.deps)
            out.write(reply.text + "\n\n")
            queued = await app.watcher.poll_once()
            sent = await app.dispatcher.deliver_pending()
            feeds_state = await app.store.list_feeds()
            failed = [f for f in feeds_state if f.last_error]
            out.write(f"newsbot demo: {queued} alerts queued, {sent} delivered")
            out.write(f", {len(failed)} feeds failed\n" if failed else "\n")
            out.flush()
            return 1 if failed or sent == 0 else 0
        finally:
            await app.close()
